// Token sampling from one row of logits (vLLM semantics and order): repetition penalty over prompt
// and output tokens (logit > 0 divided by it, else multiplied), frequency / presence penalties over
// output tokens, then temperature, top-k, top-p (nucleus), min-p, and a draw from a seeded
// generator. temperature <= 0 means greedy (argmax after penalties; ties -> lowest id).
#pragma once
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

namespace mixq {

struct SamplingParams {
  float temperature = 0.f;  // 0 = greedy
  int64_t top_k = 0;        // 0 = off
  float top_p = 1.f, min_p = 0.f;
  float repetition_penalty = 1.f, frequency_penalty = 0.f, presence_penalty = 0.f;
  uint64_t seed = 0;
  void validate() const;  // InputError on out-of-range values
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // `logits` is modified. `context` = prompt + generated so far; `generated` = generated only.
  int32_t sample(float* logits, int64_t V, const std::vector<int32_t>& context, const std::vector<int32_t>& generated);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<int32_t> idx_;
  std::vector<float> prob_;
};

}  // namespace mixq
