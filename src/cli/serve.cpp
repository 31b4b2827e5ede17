// mixq serve MODEL_DIR [vLLM's flags]: the OpenAI-compatible server (server/openai_server.h).
// The command line is vLLM's, so the published `vllm serve ...` launch commands run with
// `vllm serve` replaced by `mixq serve` and nothing else changed (docs/serve.md). Flags that only
// mean something to a GPU engine or to serving across machines are accepted with one notice.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/command.h"
#include "server/openai_server.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/log.h"

namespace {

struct Opts {
  mixq::server::ServerOptions s;
  mixq::cli::ResidencyFlags residency;
  std::string kv_cache_memory, max_request_bytes, allowed_origins, api_key;
  int64_t threads = 0;
  bool no_prefix_caching = false, enable_prefix_caching = false;
  // GPU / multi-machine flags: accepted, noticed, unused.
  bool enforce_eager = false, trust_remote_code = false;
  double gpu_memory_utilization = 0;
  std::string dtype, load_format, executor;
  int64_t tp = 0, pp = 0;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  auto& s = o->s;
  app.add_option("model", s.model_dir, "Model directory (a mixq or compressed-tensors checkpoint, BF16 or FP8)")->required();
  app.add_option("--served-model-name", s.served_name, "Model name in the API (default: the model path)");
  app.add_option("--host", s.host, "Address to bind (default 127.0.0.1)");
  app.add_option("--port", s.port, "Port (default 8000; 0 = any free port, printed when listening)")->check(CLI::Range(0, 65535));
  app.add_option("--max-model-len", s.max_model_len, "Longest prompt + output in tokens (default: the model's max_position_embeddings)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 32));
  app.add_option("--max-num-seqs", s.max_num_seqs, "Sequences running at once (default 128)")->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--max-num-batched-tokens", s.max_num_batched_tokens, "Tokens per engine step; longer prompts are chunked (default 2048)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  app.add_option("--block-size", s.block_size, "KV cache block in positions, a multiple of 32 (default 32)")
      ->check(CLI::Range(int64_t(32), int64_t(4096)));
  app.add_option("--kv-cache-dtype", s.kv_cache_dtype, "auto (= bf16), bf16, fp8 (e4m3) or f32")
      ->check(CLI::IsMember({"auto", "bf16", "fp8", "fp8_e4m3", "f32", "fp32"}));
  app.add_option("--kv-cache-memory", o->kv_cache_memory, "KV pool size, e.g. 8GiB (default: what --max-num-seqs full-length "
                                                           "sequences need, at most half of the memory left after the weights)");
  app.add_flag("--no-enable-prefix-caching", o->no_prefix_caching, "Do not reuse the KV of shared prompt prefixes");
  app.add_flag("--enable-prefix-caching", o->enable_prefix_caching, "Reuse the KV of shared prompt prefixes (the default)");
  app.add_option("--tool-call-parser", s.tool_call_parser, "minimax_m2")->check(CLI::IsMember({"minimax_m2"}));
  app.add_option("--reasoning-parser", s.reasoning_parser, "minimax_m2 (reasoning in its own field) or minimax_m2_append_think")
      ->check(CLI::IsMember({"minimax_m2", "minimax_m2_append_think"}));
  app.add_flag("--enable-auto-tool-choice", s.enable_auto_tool_choice, "Let the model call tools on its own (tool_choice auto)");
  app.add_option("--override-generation-config", s.override_generation_config,
                 "JSON laid over generation_config.json, e.g. '{\"temperature\": 0.2}' (vLLM's rules)");
  app.add_option("--generation-config", s.generation_config, "auto (the model's generation_config.json), vllm, or a directory");
  app.add_option("--chat-template", s.chat_template, "A chat template file (or the template text) instead of the model's");
  app.add_option("--api-key", o->api_key, "Require this key on /v1 (also MIXQ_API_KEY or VLLM_API_KEY)");
  app.add_option("--allowed-origins", o->allowed_origins, "CORS origins: a JSON list (vLLM) or comma-separated");
  app.add_option("--max-request-bytes", o->max_request_bytes, "Largest request body (default 32MiB)");
  app.add_option("--max-waiting", s.max_waiting, "Requests queued beyond the running ones before 503 (default 256)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--max-n", s.max_n, "Most choices (n) per request (default 16)")->check(CLI::Range(int64_t(1), int64_t(256)));
  app.add_option("--threads", o->threads, "Engine threads (default: all cores, or MIXQ_THREADS)")->check(CLI::Range(int64_t(1), int64_t(4096)));
  mixq::cli::add_residency_flags(app, o->residency);
  // Accepted for vLLM command-line compatibility.
  app.add_flag("--enforce-eager", o->enforce_eager, "(GPU engines only; accepted)");
  app.add_flag("--trust-remote-code", o->trust_remote_code, "(accepted; mixq runs no model code)");
  app.add_option("--gpu-memory-utilization", o->gpu_memory_utilization, "(GPU engines only; accepted)");
  app.add_option("--dtype", o->dtype, "(accepted: mixq computes in fp32 on the checkpoint's formats)");
  app.add_option("--load-format", o->load_format, "(accepted: safetensors is what mixq loads)");
  app.add_option("--distributed-executor-backend", o->executor, "(accepted: mixq serve runs on one machine)");
  app.add_option("--tensor-parallel-size,--tp", o->tp, "(accepted: mixq serve runs on one machine)");
  app.add_option("--pipeline-parallel-size,--pp", o->pp, "(accepted: mixq serve runs on one machine)");
  return [o]() -> int {
    using namespace mixq;
    auto& s = o->s;
    if (s.served_name.empty()) s.served_name = s.model_dir;
    if (s.block_size % 32 != 0) fail("--block-size must be a multiple of 32, got {}", s.block_size);
    if (!o->kv_cache_memory.empty()) s.kv_cache_memory = parse_byte_size(o->kv_cache_memory, "--kv-cache-memory");
    if (!o->max_request_bytes.empty()) s.max_request_bytes = parse_byte_size(o->max_request_bytes, "--max-request-bytes");
    s.prefix_caching = !o->no_prefix_caching;
    s.api_key = o->api_key;
    if (s.api_key.empty())
      for (const char* v : {"MIXQ_API_KEY", "VLLM_API_KEY"})
        if (const char* k = std::getenv(v); k && *k) { s.api_key = k; break; }
    if (!o->allowed_origins.empty()) {
      const auto j = nlohmann::json::parse(o->allowed_origins, nullptr, false);
      if (!j.is_discarded() && j.is_array()) {
        for (const auto& x : j) {
          if (!x.is_string()) fail("--allowed-origins: the JSON list must hold strings");
          s.allowed_origins.push_back(x);
        }
      } else {
        std::string cur;
        for (char c : o->allowed_origins + ",") {
          if (c == ',') { if (!cur.empty()) s.allowed_origins.push_back(cur); cur.clear(); }
          else if (c != ' ') cur += c;
        }
      }
    }
    if (o->threads > 0) setenv("MIXQ_THREADS", std::to_string(o->threads).c_str(), 1);
    // One notice for the flags that mean nothing here.
    std::vector<std::string> gpu;
    if (o->enforce_eager) gpu.push_back("--enforce-eager");
    if (o->gpu_memory_utilization != 0) gpu.push_back("--gpu-memory-utilization");
    if (!o->dtype.empty()) gpu.push_back("--dtype");
    if (!o->load_format.empty()) gpu.push_back("--load-format");
    if (o->trust_remote_code) gpu.push_back("--trust-remote-code");
    if (!gpu.empty())
      MIXQ_INFO("serve: {} only mean something to a GPU engine; accepted and ignored", fmt::join(gpu, ", "));
    if (o->tp > 1 || o->pp > 1 || !o->executor.empty())
      MIXQ_INFO("serve: mixq serve runs on this one machine ({}{}{} ignored); serving across machines or GPUs is vLLM + "
                "Ray, whose commands `mixq plan` prints",
                o->tp > 1 ? fmt::format("--tensor-parallel-size {} ", o->tp) : "",
                o->pp > 1 ? fmt::format("--pipeline-parallel-size {} ", o->pp) : "",
                o->executor.empty() ? "" : "--distributed-executor-backend " + o->executor + " ");
    if (s.enable_auto_tool_choice && s.tool_call_parser.empty())
      fail("--enable-auto-tool-choice needs --tool-call-parser minimax_m2");
    s.residency = mixq::cli::resolve_residency(o->residency, {s.model_dir}).residency;
    return server::run_server(s);
  };
}

}  // namespace

MIXQ_COMMAND("serve", "OpenAI-compatible server (vLLM's flags) with continuous batching on the CPU engine", setup);
