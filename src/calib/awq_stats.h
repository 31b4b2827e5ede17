// The two per-input-channel statistics AWQ's duo scaling needs (spec §5.4, §5.6).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "calib/matrix.h"

namespace mixq::calib {

// x_mean = sum(|x|) / tokens per input channel, accumulated in fp32 exactly as llm-compressor's
// activation hook does (`args[0].abs()`, `.float()`, running sum and count). Streaming: batches of
// tokens are added one at a time, so memory is O(channels) whatever the calibration size.
// Accumulation order: tokens in the order added, per channel (the tests pin this order).
class XMeanAccumulator {
 public:
  explicit XMeanAccumulator(int64_t channels) : sum_(size_t(channels), 0.0f) {}
  // x: [tokens, channels] row-major. Multi-threaded over channel blocks (order per channel kept).
  void add(const float* x, int64_t tokens);
  void add(const Matrix& x) { MIXQ_ASSERT(x.cols == channels()); add(x.data.data(), x.rows); }
  int64_t channels() const { return int64_t(sum_.size()); }
  int64_t tokens() const { return tokens_; }
  // fp32 sum / fp32(count); all zeros when no token was seen (the caller skips such mappings).
  std::vector<float> mean() const;

 private:
  std::vector<float> sum_;
  int64_t tokens_ = 0;
};

// w_mean for duo scaling: every quantized balance weight [out, in] (bf16 values) is cut into groups of
// `group` input channels; each group is |w| / bf16(amax + 1e-6) in bf16, and the normalized values are
// summed over rows in fp64 and pooled over all layers: w_mean[c] = sum / sum(out_features).
std::vector<double> compute_w_mean(std::span<const Matrix* const> quantized_balance, int64_t group);

// The same, streaming: add() one layer at a time (e.g. each decoded from bf16 just before), so only
// one fp32 matrix is in flight. Each column is summed layer by layer, rows in order, exactly as
// compute_w_mean does, so the result is bit-identical.
class WMeanAccumulator {
 public:
  WMeanAccumulator(int64_t in, int64_t group);
  void add(const Matrix& w);
  std::vector<double> mean() const;  // sum / sum(out_features)

 private:
  int64_t group_;
  std::vector<double> sum_;
  int64_t count_ = 0;
};

}  // namespace mixq::calib
