#include "plan/launch_card.h"

namespace mixq {

namespace {
// Every value below is copied from ../shared/docs/published-deployments.md (the cards' text);
// tests/scripts/plan_cards.sh compares the printed commands with that file flag by flag.
std::vector<LaunchCard> make() {
  std::vector<LaunchCard> v;
  LaunchCard a;
  a.name = "strix-2h";
  a.title = "MiniMax-M2.7-AWQ-G32-STRIX-2H";
  a.recipe_file = "minimax-m2.7-awq-g32-strix-2h.yaml";
  a.platform = Platform::Rocm;
  a.served_model_name = "minimax-m2-7-awq-g32-strix-2h";
  a.host = "127.0.0.1";
  a.port = 8000;  // the card's "${PORT:-8000}"
  a.dtype_and_load_format = true;
  a.reasoning_parser = "minimax_m2_append_think";
  a.generation_override = R"({"max_new_tokens": 10000, "temperature": 0.2, "top_p": 0.9, "repetition_penalty": 1.08})";
  a.utilization = 0.92;
  a.max_model_len = 196608;
  a.max_num_seqs = 2;
  a.max_num_batched_tokens = 20480;
  a.env = {{"VLLM_ROCM_USE_AITER", "0"},       {"OMP_NUM_THREADS", "1"},         {"TOKENIZERS_PARALLELISM", "false"},
           {"TORCHDYNAMO_DISABLE", "1"},       {"RAY_CGRAPH_get_timeout", "1800"}, {"VLLM_SLEEP_WHEN_IDLE", "1"},
           {"VLLM_USE_DEEP_GEMM", "0"},        {"VLLM_USE_FLASHINFER_SAMPLER", "0"}};
  a.advice = {{"export VLLM_USE_FLASHINFER_MOE_FP16=0", "if the mixed BF16/INT4 MoE hits a ROCm MoE backend issue (the card)"}};
  v.push_back(a);

  LaunchCard b;
  b.name = "frankenquant";
  b.title = "MiniMax-M2.1-FP8-INT4-AWQ (FrankenQuant)";
  b.recipe_file = "minimax-m2.1-fp8-int4-awq.yaml";
  b.platform = Platform::Cuda;
  b.model = "mratsim/MiniMax-M2.1-FP8-INT4-AWQ";
  b.served_model_name = "MiniMax-M2.1";
  b.tp_flag = "--tp";
  b.scheduler_limits = false;  // the script leaves them to vLLM's defaults
  b.reasoning_parser = "minimax_m2";
  b.generation_override =
      R"({"temperature": 1, "top_p": 0.95, "top_k": 40, "repetition_penalty": 1.1, "frequency_penalty": 0.40})";
  b.utilization = 0.93;
  b.env = {{"PYTORCH_ALLOC_CONF", "expandable_segments:True,max_split_size_mb:512"}, {"VLLM_SLEEP_WHEN_IDLE", "1"}};
  b.advice = {{"--reasoning-parser minimax_m2_append_think",
               "for interleaved thinking: keeps the reasoning in the text as <think>...</think> (the card's commented-out line)"}};
  v.push_back(b);
  return v;
}
}  // namespace

const std::vector<LaunchCard>& launch_cards() {
  static const std::vector<LaunchCard> v = make();
  return v;
}

const LaunchCard* find_launch_card(const std::string& name) {
  for (const auto& c : launch_cards())
    if (c.name == name) return &c;
  return nullptr;
}

std::string launch_card_names() {
  std::string s;
  for (const auto& c : launch_cards()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

const LaunchCard* launch_card_for_recipe(const std::string& recipe_path) {
  const auto slash = recipe_path.rfind('/');
  const std::string base = slash == std::string::npos ? recipe_path : recipe_path.substr(slash + 1);
  for (const auto& c : launch_cards())
    if (c.recipe_file == base) return &c;
  return nullptr;
}

}  // namespace mixq
