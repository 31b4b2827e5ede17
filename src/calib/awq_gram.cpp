#include "calib/awq_gram.h"

#include "kernels/cpu/matmul.h"
#include "util/thread_pool.h"

namespace mixq::calib {

void GramAccumulator::add(const Matrix& h) {
  MIXQ_ASSERT(h.cols == n_);
  if (h.rows == 0) return;
  // G_batch[a, b] = sum_t h[t, a] h[t, b]: the kernels contract along contiguous rows, so transpose
  // once to [n, tokens] and multiply it by itself.
  Matrix ht(n_, h.rows);
  ThreadPool::global().parallel_for(size_t(n_), 16, [&](size_t b, size_t e, size_t) {
    for (size_t a = b; a < e; ++a)
      for (int64_t t = 0; t < h.rows; ++t) ht.at(int64_t(a), t) = h.at(t, int64_t(a));
  });
  std::vector<float> gb(size_t(n_ * n_));
  kernels::parallel_rows(n_, 16, [&](int64_t n0, int64_t n1) {
    kernels::matmul_f32(ht.data.data(), h.rows, ht.data.data(), n_, h.rows, gb.data(), n_, n0, n1);
  });
  for (size_t i = 0; i < g_.size(); ++i) g_[i] += double(gb[i]);
  tokens_ += h.rows;
}

double linear_mse_from_gram(const Matrix& w, const float* w_trial, const GramAccumulator& g) {
  MIXQ_ASSERT(w.cols == g.size());
  if (g.tokens() == 0) return 0.0;
  const int64_t O = w.rows, I = w.cols;
  Matrix dw(O, I);
  for (size_t i = 0; i < dw.data.size(); ++i) dw.data[i] = w_trial[i] - w.data[i];
  std::vector<float> gf(g.gram().begin(), g.gram().end());
  Matrix y(O, I);  // y = dW G (G symmetric, so the kernels' X W^T form applies with W = G)
  kernels::parallel_rows(I, 16, [&](int64_t n0, int64_t n1) {
    kernels::matmul_f32(gf.data(), I, dw.data.data(), O, I, y.data.data(), I, n0, n1);
  });
  double acc = 0.0;
  for (size_t i = 0; i < dw.data.size(); ++i) acc += double(dw.data[i]) * double(y.data[i]);
  return acc / (double(g.tokens()) * double(O));
}

TrialLoss gram_trial_loss(const Matrix& w, const GramAccumulator& g) {
  return [&w, &g](const BalanceWeights& trial) {
    std::vector<float> scratch;
    return float(linear_mse_from_gram(w, trial.get(0, scratch), g));
  };
}

}  // namespace mixq::calib
