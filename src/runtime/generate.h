// Autoregressive generation: prefill the prompt (in chunks), then decode one token at a time
// through the KV cache until a stop token, max_new_tokens, or the callback says stop.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "runtime/model.h"
#include "runtime/sampler.h"

namespace mixq {

struct GenerateOptions {
  int64_t max_new_tokens = 128;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // e.g. EOS; the stop token is included in the output
  kernels::KvType kv_type = kernels::KvType::BF16;
  int64_t context = 0;            // KV capacity in tokens; 0 = prompt + max_new_tokens
  int64_t prefill_chunk = 256;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids
  std::string finish_reason;    // "stop" | "length" | "callback"
  double prefill_seconds = 0, decode_seconds = 0;
};

// on_token(id) returns false to stop early.
GenerateResult generate(const Model& m, const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                        const std::function<bool(int32_t)>& on_token = nullptr);

// Stop ids from generation_config.json / config.json eos_token_id (int or list) in `dir`.
std::vector<int32_t> default_stop_ids(const Model& m);

}  // namespace mixq
