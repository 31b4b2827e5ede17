#include "plan/launch_command.h"

#include <fmt/format.h>

#include <cctype>

namespace mixq {

std::string shell_quote(const std::string& s) {
  bool safe = !s.empty();
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./:=,@%+").find(c) != std::string_view::npos)) safe = false;
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string served_name_from(const std::string& path_or_name) {
  std::string base = path_or_name;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) base.resize(base.size() - e.size());
  }
  std::string out;
  for (char c : base) {
    unsigned char u = static_cast<unsigned char>(c);
    char m = std::isalnum(u) ? char(std::tolower(u)) : '-';
    if (m == '-' && (out.empty() || out.back() == '-')) continue;
    out += m;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string format_fraction(double v) { return fmt::format("{}", v); }

static std::string join_quoted(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + shell_quote(a);
  return s;
}

std::string LaunchPlan::vllm_command() const { return join_quoted(vllm_args); }
std::string LaunchPlan::mixq_command() const { return join_quoted(mixq_args); }

std::string LaunchPlan::vllm_command_multiline() const {
  // "vllm serve MODEL" on the first line, then one flag (with its value) per line.
  std::string s;
  size_t i = 0;
  for (; i < vllm_args.size() && i < 3; ++i) s += (i ? " " : "") + shell_quote(vllm_args[i]);
  while (i < vllm_args.size()) {
    s += " \\\n  " + shell_quote(vllm_args[i++]);
    if (i < vllm_args.size() && vllm_args[i].rfind("--", 0) != 0) s += " " + shell_quote(vllm_args[i++]);
  }
  return s;
}

namespace {

struct EnvAdvice {
  std::string name, value, why;
};

// mixq's own environment for this platform and topology, each with its reason (docs/plan.md).
std::vector<EnvAdvice> mixq_environment(const LaunchOptions& o) {
  std::vector<EnvAdvice> e;
  if (o.platform == Platform::Rocm && o.has_w4a16)
    e.push_back({"VLLM_USE_TRITON_AWQ", "1", "compressed-tensors W4A16 layers on ROCm run on the Triton AWQ kernel (vLLM PR #27187)"});
  if (o.platform == Platform::Rocm && o.unified) {
    e.push_back({"VLLM_ROCM_USE_AITER", "0", "AITER does not support gfx1151 (vLLM #32180)"});
    const char* why = "gfx1151 long-context stability setting of the public two-Strix-Halo launcher (docs/plan.md)";
    for (auto [k, v] : std::initializer_list<std::pair<const char*, const char*>>{{"HSA_NO_SCRATCH_RECLAIM", "1"},
                                                                                  {"AMDGCN_USE_BUFFER_OPS", "0"},
                                                                                  {"PYTORCH_HIP_ALLOC_CONF", "expandable_segments:True"},
                                                                                  {"HIP_FORCE_DEV_KERNARG", "1"},
                                                                                  {"SAFETENSORS_FAST_GPU", "1"}})
      e.push_back({k, v, why});
    e.push_back({"RAY_EXPERIMENTAL_NOSET_ROCR_VISIBLE_DEVICES", "1", "Ray must not rewrite ROCR_VISIBLE_DEVICES on ROCm"});
  }
  if (o.nodes > 1) {
    const char* why = "every node: its own address and the interface linking the nodes, for Ray, Gloo and NCCL/RCCL";
    e.push_back({"VLLM_HOST_IP", "<this node's IP>", why});
    e.push_back({"NCCL_SOCKET_IFNAME", "<interface linking the nodes>", why});
    e.push_back({"GLOO_SOCKET_IFNAME", "<interface linking the nodes>", why});
    e.push_back({"NCCL_IB_DISABLE", "1", "no InfiniBand on an Ethernet / Thunderbolt link between the machines"});
  }
  return e;
}

}  // namespace

LaunchPlan make_launch_plan(const LaunchOptions& o) {
  const LaunchCard* card = o.card;
  LaunchPlan p;
  p.source = card ? card->name : "mixq";
  // The user's choice, else the card's, else mixq's default.
  const std::string host = !o.host.empty() ? o.host : card ? card->host : "0.0.0.0";
  const int port = o.port ? o.port : card ? card->port : 8000;
  const std::string parser = !o.reasoning_parser.empty() ? o.reasoning_parser : card ? card->reasoning_parser : "minimax_m2";
  const std::string gen = !o.generation_override.empty() ? o.generation_override
                          : card                         ? card->generation_override
                                                         : kMiniMaxGenerationOverride;
  const bool limits = !card || card->scheduler_limits;

  auto& a = p.vllm_args;
  a = {"vllm", "serve", o.model};
  if (!o.served_model_name.empty()) a.insert(a.end(), {"--served-model-name", o.served_model_name});
  if (!host.empty()) a.insert(a.end(), {"--host", host});
  if (port) a.insert(a.end(), {"--port", std::to_string(port)});
  a.insert(a.end(), {card ? card->tp_flag : "--tensor-parallel-size", std::to_string(o.tp)});
  if (o.expert_parallel) a.push_back("--enable-expert-parallel");
  // One machine: vLLM's default multiprocessing executor; Ray only to span machines.
  if (o.nodes > 1) a.insert(a.end(), {"--distributed-executor-backend", "ray"});
  if (o.enforce_eager) a.push_back("--enforce-eager");
  a.insert(a.end(), {"--gpu-memory-utilization", format_fraction(o.gpu_memory_utilization)});
  if (limits || o.max_model_len_given) a.insert(a.end(), {"--max-model-len", std::to_string(o.max_model_len)});
  if (limits || o.max_num_seqs_given) a.insert(a.end(), {"--max-num-seqs", std::to_string(o.max_num_seqs)});
  if (limits || o.max_num_batched_tokens_given)
    a.insert(a.end(), {"--max-num-batched-tokens", std::to_string(o.max_num_batched_tokens)});
  if (o.kv_cache_dtype != "auto") a.insert(a.end(), {"--kv-cache-dtype", o.kv_cache_dtype});
  if (card && card->dtype_and_load_format) a.insert(a.end(), {"--dtype", "auto", "--load-format", "safetensors"});
  a.push_back("--trust-remote-code");
  a.insert(a.end(), {"--tool-call-parser", "minimax_m2"});
  a.insert(a.end(), {"--reasoning-parser", parser});
  a.push_back("--enable-auto-tool-choice");
  a.insert(a.end(), {"--override-generation-config", gen});

  const std::vector<EnvAdvice> ours = mixq_environment(o);
  if (!card) {
    for (const auto& e : ours) p.env.push_back({e.name, e.value});
  } else {
    p.env = card->env;
    // mixq's advice that the card does not already give, apart and with its reason.
    for (const auto& e : ours) {
      bool same = false;
      for (const auto& [k, v] : card->env) same = same || (k == e.name && v == e.value);
      if (!same) p.suggestions.push_back({fmt::format("export {}={}", e.name, e.value), e.why});
    }
    if (o.nodes > 1 && host == "127.0.0.1")
      p.suggestions.push_back({"--host 0.0.0.0", "127.0.0.1 answers only clients on the Ray head itself; 0.0.0.0 serves the "
                                                 "network (put it behind a firewall or --api-key)"});
    for (const auto& [what, when] : card->advice) p.suggestions.push_back({what, when});
  }
  if (o.nodes > 1) {
    p.ray_head = fmt::format("ray start --head --port=6379 --node-ip-address=<HEAD_IP> --num-gpus={}", o.devices_per_node);
    p.ray_worker =
        fmt::format("ray start --address=<HEAD_IP>:6379 --node-ip-address=<WORKER_IP> --num-gpus={}", o.devices_per_node);
  }

  // `mixq serve` takes vLLM's flags (issue 16) and runs on this one machine: no TP, no Ray, no GPU flags.
  auto& m = p.mixq_args;
  m = {"mixq", "serve", o.model};
  if (!o.served_model_name.empty()) m.insert(m.end(), {"--served-model-name", o.served_model_name});
  m.insert(m.end(), {"--host", host.empty() ? "127.0.0.1" : host, "--port", std::to_string(port ? port : 8000)});
  m.insert(m.end(), {"--max-model-len", std::to_string(o.max_model_len), "--max-num-seqs", std::to_string(o.max_num_seqs),
                     "--max-num-batched-tokens", std::to_string(o.max_num_batched_tokens)});
  if (o.kv_cache_dtype != "auto") m.insert(m.end(), {"--kv-cache-dtype", o.kv_cache_dtype});
  m.insert(m.end(), {"--tool-call-parser", "minimax_m2", "--reasoning-parser", parser, "--enable-auto-tool-choice",
                     "--override-generation-config", gen});
  return p;
}

}  // namespace mixq
