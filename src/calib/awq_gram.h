// The w3 -> w2 loss without running w2 over every token for every grid point. Its parent is a
// Linear, so for trial weights W'' and original W:
//   sum_t ||(W'' - W) h_t||^2 = tr(dW G dW^T),   G = sum_t h_t h_t^T   ([I, I], I = 1536)
// G is accumulated once from the w2 inputs (streaming over token batches); each grid point then
// costs O * I^2 * 2 flops (14.5 GFLOP at real width) instead of N * O * I * 2 (618 GFLOP at 64k
// tokens): ~21x less for the whole search, and no [N, I] cache per expert. Equal to the output MSE
// in real arithmetic; it skips llm-compressor's bf16 rounding of outputs and per-batch sums, so it
// is an option (the exact bf16-output loss stays the default).
#pragma once
#include <vector>

#include "calib/awq_search.h"
#include "calib/matrix.h"

namespace mixq::calib {

class GramAccumulator {
 public:
  explicit GramAccumulator(int64_t n) : n_(n), g_(size_t(n * n), 0.0) {}
  // h: [tokens, n]. The batch product is fp32 (kernels' GEMM), accumulated across batches in fp64.
  void add(const Matrix& h);
  int64_t tokens() const { return tokens_; }
  int64_t size() const { return n_; }
  const std::vector<double>& gram() const { return g_; }

 private:
  int64_t n_;
  std::vector<double> g_;
  int64_t tokens_ = 0;
};

// tr(dW G dW^T) / (tokens * out_features): the mean squared error of the Linear's output.
double linear_mse_from_gram(const Matrix& w, const float* w_trial, const GramAccumulator& g);

// A TrialLoss for awq_search_best_scales_by_loss with balance layer 0 = w.
TrialLoss gram_trial_loss(const Matrix& w, const GramAccumulator& g);

}  // namespace mixq::calib
