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

LaunchPlan make_launch_plan(const LaunchOptions& o) {
  LaunchPlan p;
  auto& a = p.vllm_args;
  a = {"vllm", "serve", o.model};
  if (!o.served_model_name.empty()) a.insert(a.end(), {"--served-model-name", o.served_model_name});
  a.insert(a.end(), {"--tensor-parallel-size", std::to_string(o.tp)});
  if (o.expert_parallel) a.push_back("--enable-expert-parallel");
  a.insert(a.end(), {"--distributed-executor-backend", "ray"});
  if (o.enforce_eager) a.push_back("--enforce-eager");
  a.insert(a.end(), {"--max-model-len", std::to_string(o.max_model_len)});
  a.insert(a.end(), {"--max-num-seqs", std::to_string(o.max_num_seqs)});
  a.insert(a.end(), {"--max-num-batched-tokens", std::to_string(o.max_num_batched_tokens)});
  a.insert(a.end(), {"--gpu-memory-utilization", format_fraction(o.gpu_memory_utilization)});
  if (o.kv_cache_dtype != "auto") a.insert(a.end(), {"--kv-cache-dtype", o.kv_cache_dtype});
  a.push_back("--trust-remote-code");
  a.push_back("--enable-auto-tool-choice");
  a.insert(a.end(), {"--tool-call-parser", "minimax_m2"});
  a.insert(a.end(), {"--reasoning-parser", o.reasoning_parser});
  // MiniMax's recommended sampling (minimax-m2.md §8) as the server's defaults.
  a.insert(a.end(), {"--override-generation-config", R"({"temperature": 1.0, "top_p": 0.95, "top_k": 40})"});
  a.insert(a.end(), {"--host", o.host, "--port", std::to_string(o.port)});

  if (o.platform == Platform::Rocm && o.has_w4a16)
    p.env.push_back({"VLLM_USE_TRITON_AWQ", "1"});  // CompressedTensorsWNA16 on ROCm (vLLM PR #27187)
  if (o.platform == Platform::Rocm && o.unified) {
    // The STRIX-2H deployment's gfx1151 block: AITER does not support gfx1151 (vLLM #32180); the
    // rest are its long-context stability settings; Ray must not rewrite ROCR_VISIBLE_DEVICES.
    for (auto kv : std::initializer_list<std::pair<const char*, const char*>>{
             {"VLLM_ROCM_USE_AITER", "0"},
             {"HSA_NO_SCRATCH_RECLAIM", "1"},
             {"AMDGCN_USE_BUFFER_OPS", "0"},
             {"PYTORCH_HIP_ALLOC_CONF", "expandable_segments:True"},
             {"HIP_FORCE_DEV_KERNARG", "1"},
             {"SAFETENSORS_FAST_GPU", "1"},
             {"RAY_EXPERIMENTAL_NOSET_ROCR_VISIBLE_DEVICES", "1"}})
      p.env.push_back({kv.first, kv.second});
  }
  if (o.nodes > 1) {
    // Every node: its own address and the interface that links the nodes, for Ray, Gloo and NCCL/RCCL
    // (no InfiniBand on an Ethernet / Thunderbolt link).
    p.env.push_back({"VLLM_HOST_IP", "<this node's IP>"});
    p.env.push_back({"NCCL_SOCKET_IFNAME", "<interface linking the nodes>"});
    p.env.push_back({"GLOO_SOCKET_IFNAME", "<interface linking the nodes>"});
    p.env.push_back({"NCCL_IB_DISABLE", "1"});
    p.ray_head = fmt::format("ray start --head --port=6379 --node-ip-address=<HEAD_IP> --num-gpus={}", o.devices_per_node);
    p.ray_worker =
        fmt::format("ray start --address=<HEAD_IP>:6379 --node-ip-address=<WORKER_IP> --num-gpus={}", o.devices_per_node);
  }

  p.mixq_args = {"mixq", "serve", o.model, "--max-model-len", std::to_string(o.max_model_len), "--max-num-seqs",
                 std::to_string(o.max_num_seqs), "--kv-cache-dtype", o.kv_cache_dtype == "fp8" ? "fp8" : "bf16",
                 "--host", o.host, "--port", std::to_string(o.port)};
  if (!o.served_model_name.empty()) p.mixq_args.insert(p.mixq_args.end(), {"--served-model-name", o.served_model_name});
  return p;
}

}  // namespace mixq
