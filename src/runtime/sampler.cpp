#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "util/error.h"

namespace mixq {

void SamplingParams::validate() const {
  if (!(temperature >= 0.f)) fail("temperature must be >= 0, got {}", temperature);
  if (top_k < 0) fail("top_k must be >= 0, got {}", top_k);
  if (!(top_p > 0.f && top_p <= 1.f)) fail("top_p must be in (0, 1], got {}", top_p);
  if (!(min_p >= 0.f && min_p <= 1.f)) fail("min_p must be in [0, 1], got {}", min_p);
  if (!(repetition_penalty > 0.f)) fail("repetition_penalty must be > 0, got {}", repetition_penalty);
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) { p.validate(); }

int32_t Sampler::sample(float* logits, int64_t V, const std::vector<int32_t>& context,
                        const std::vector<int32_t>& generated) {
  if (p_.repetition_penalty != 1.f) {
    std::unordered_set<int32_t> seen(context.begin(), context.end());
    for (int32_t t : seen)
      if (t >= 0 && t < V) logits[t] = logits[t] > 0 ? logits[t] / p_.repetition_penalty : logits[t] * p_.repetition_penalty;
  }
  if (p_.frequency_penalty != 0.f || p_.presence_penalty != 0.f) {
    std::unordered_map<int32_t, int> count;
    for (int32_t t : generated) count[t]++;
    for (auto [t, c] : count)
      if (t >= 0 && t < V) logits[t] -= p_.frequency_penalty * float(c) + p_.presence_penalty;
  }
  if (p_.temperature <= 0.f) return int32_t(std::max_element(logits, logits + V) - logits);

  // Candidates sorted by logit, descending (ties -> lower id), truncated by top-k.
  idx_.resize(size_t(V));
  std::iota(idx_.begin(), idx_.end(), 0);
  const int64_t k = p_.top_k > 0 ? std::min(p_.top_k, V) : V;
  auto cmp = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(idx_.begin(), idx_.begin() + k, idx_.end(), cmp);
  idx_.resize(size_t(k));
  prob_.resize(size_t(k));
  const float mx = logits[idx_[0]];
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += (prob_[size_t(i)] = std::exp((logits[idx_[size_t(i)]] - mx) / p_.temperature));
  for (auto& q : prob_) q = float(q / sum);
  // top-p: smallest prefix whose mass reaches p (always keeps the first).
  size_t keep = prob_.size();
  if (p_.top_p < 1.f) {
    double c = 0;
    for (size_t i = 0; i < prob_.size(); ++i) {
      c += prob_[i];
      if (c >= p_.top_p) { keep = i + 1; break; }
    }
  }
  // min-p: drop tokens below min_p * p(top token).
  if (p_.min_p > 0.f) {
    const float floor = p_.min_p * prob_[0];
    size_t n = 1;
    while (n < keep && prob_[n] >= floor) ++n;
    keep = n;
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob_[i];
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_), c = 0;
  for (size_t i = 0; i < keep; ++i) {
    c += prob_[i];
    if (r < c) return idx_[i];
  }
  return idx_[keep - 1];
}

}  // namespace mixq
