// `mixq serve`: an OpenAI-compatible HTTP server (cpp-httplib) in front of the continuous-batching
// scheduler (runtime/scheduler.h). HTTP threads parse and validate requests, render chat
// templates and tokenize; one engine thread runs Scheduler::run; each sequence's tokens come back
// through a sink into its request's state, which the HTTP thread turns into a JSON response or
// server-sent events. The model loads after the socket is bound, so /health answers 503 until it
// is ready.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace mixq::server {

struct ServerOptions {
  std::string model_dir, served_name;
  std::string host = "127.0.0.1";
  int port = 8000;
  int64_t max_model_len = 0;              // 0: the model's max_position_embeddings
  int64_t max_num_seqs = 128;             // vLLM's CPU default
  int64_t max_num_batched_tokens = 2048;  // vLLM's CPU default
  int64_t block_size = 32;
  std::string kv_cache_dtype = "auto";    // auto = bf16
  uint64_t kv_cache_memory = 0;           // 0: from the memory left after the weights
  bool prefix_caching = true;
  std::string tool_call_parser, reasoning_parser;
  bool enable_auto_tool_choice = false;
  std::string generation_config = "auto", override_generation_config, chat_template;
  std::string api_key;
  std::vector<std::string> allowed_origins;
  uint64_t max_request_bytes = 32ull << 20;
  int64_t max_waiting = 256;
  int64_t max_n = 16;
  Residency residency = Residency::Mapped;
};

// Runs until SIGINT / SIGTERM (or `stop` returns true, polled). Returns the exit code. Bad
// options or an unloadable model throw InputError (exit 2).
int run_server(const ServerOptions& o, const std::function<bool()>& stop = nullptr);

}  // namespace mixq::server
