#include "calib/awq_stats.h"

#include <algorithm>
#include <cmath>

#include "util/dtype.h"
#include "util/thread_pool.h"

namespace mixq::calib {

void XMeanAccumulator::add(const float* x, int64_t tokens) {
  const int64_t ch = channels();
  // Parallel over channel blocks; each thread walks all tokens for its channels, so each channel's
  // fp32 sum is accumulated in token order (deterministic, independent of the thread count).
  ThreadPool::global().parallel_for(size_t(ch), 256, [&](size_t b, size_t e, size_t) {
    for (int64_t t = 0; t < tokens; ++t) {
      const float* xr = x + t * ch;
      for (size_t c = b; c < e; ++c) sum_[c] += std::fabs(xr[c]);
    }
  });
  tokens_ += tokens;
}

std::vector<float> XMeanAccumulator::mean() const {
  std::vector<float> m(sum_.size(), 0.0f);
  if (tokens_ == 0) return m;
  const float n = float(tokens_);
  for (size_t c = 0; c < m.size(); ++c) m[c] = sum_[c] / n;
  return m;
}

WMeanAccumulator::WMeanAccumulator(int64_t in, int64_t group) : group_(group), sum_(size_t(in), 0.0) {
  MIXQ_ASSERT(group > 0 && in % group == 0);
}

void WMeanAccumulator::add(const Matrix& w) {
  MIXQ_ASSERT(w.cols == int64_t(sum_.size()));
  const int64_t group = group_;
  // Parallel over column groups; each column is summed over rows in order (as torch.sum(dim=0) per
  // layer, pooled in layer order), so the result is thread-count independent.
  ThreadPool::global().parallel_for(sum_.size() / size_t(group), 4, [&](size_t gb, size_t ge, size_t) {
    for (int64_t r = 0; r < w.rows; ++r) {
      const float* row = w.row(r);
      for (int64_t g = int64_t(gb) * group; g < int64_t(ge) * group; g += group) {
        float amax = 0.0f;
        for (int64_t i = 0; i < group; ++i) amax = std::max(amax, std::fabs(row[g + i]));
        const float denom = round_bf16(amax + 1e-6f);  // bf16 tensor + python scalar -> bf16
        for (int64_t i = 0; i < group; ++i) sum_[size_t(g + i)] += double(round_bf16(std::fabs(row[g + i]) / denom));
      }
    }
  });
  count_ += w.rows;
}

std::vector<double> WMeanAccumulator::mean() const {
  std::vector<double> m = sum_;
  for (auto& v : m) v /= double(count_);
  return m;
}

std::vector<double> compute_w_mean(std::span<const Matrix* const> layers, int64_t group) {
  MIXQ_ASSERT(!layers.empty() && group > 0);
  WMeanAccumulator acc(layers[0]->cols, group);
  for (const Matrix* w : layers) acc.add(*w);
  return acc.mean();
}

}  // namespace mixq::calib
