#include "calib/awq_search.h"

#include <cmath>
#include <limits>

#include "quant/rtn_int4.h"
#include "calib/awq_stats.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace mixq::calib {

void awq_trial_weight(const float* w, int64_t rows, int64_t cols, std::span<const double> s, int64_t group, QdqFn qdq,
                      float* out) {
  MIXQ_ASSERT(int64_t(s.size()) == cols);
  // Scale and unscale are parallel over rows here; the QDQ runs once over the whole matrix from this
  // thread, so a fast QDQ may parallelize itself (the pool is not reentrant). Element-wise, so
  // out == w is fine.
  ThreadPool::global().parallel_for(size_t(rows), 16, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      const float* src = w + int64_t(r) * cols;
      float* dst = out + int64_t(r) * cols;
      for (int64_t c = 0; c < cols; ++c) dst[c] = round_bf16(float(double(src[c]) * s[size_t(c)]));
    }
  });
  (qdq ? qdq : qdq_int4)(out, rows, cols, group, out);
  ThreadPool::global().parallel_for(size_t(rows), 16, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      float* dst = out + int64_t(r) * cols;
      for (int64_t c = 0; c < cols; ++c) dst[c] = round_bf16(float(double(dst[c]) / s[size_t(c)]));
    }
  });
}

void awq_trial_weight(const Matrix& w, std::span<const double> s, int64_t group, QdqFn qdq, float* out) {
  awq_trial_weight(w.data.data(), w.rows, w.cols, s, group, qdq, out);
}

float awq_mse_loss(std::span<const float> ref, std::span<const float> out, std::span<const int64_t> batch_numel) {
  MIXQ_ASSERT(ref.size() == out.size());
  const int64_t total = int64_t(ref.size());
  std::vector<int64_t> one{total};
  std::span<const int64_t> batches = batch_numel.empty() ? std::span<const int64_t>(one) : batch_numel;
  std::vector<int64_t> start(batches.size() + 1, 0);
  for (size_t b = 0; b < batches.size(); ++b) start[b + 1] = start[b] + batches[b];
  MIXQ_ASSERT(start.back() == total);
  // Batches in parallel, each summed in element order; the bf16 batch sums are then added in batch
  // order, so the loss does not depend on the thread count.
  std::vector<float> batch_sum(batches.size());
  ThreadPool::global().parallel_for(batches.size(), 1, [&](size_t bb, size_t be, size_t) {
    for (size_t b = bb; b < be; ++b) {
      float sum = 0.0f;
      for (int64_t i = start[b]; i < start[b + 1]; ++i) {
        const float d = round_bf16(round_bf16(ref[size_t(i)]) - round_bf16(out[size_t(i)]));
        sum += round_bf16(d * d);
      }
      batch_sum[b] = round_bf16(sum);
    }
  });
  float acc = 0.0f;
  for (float v : batch_sum) acc += v;
  return total == 0 ? 0.0f : acc / float(total);
}

namespace {

class OriginalWeights final : public BalanceWeights {
 public:
  explicit OriginalWeights(std::span<const BalanceLayer> b) : b_(b) {}
  size_t size() const override { return b_.size(); }
  const float* get(size_t i, std::vector<float>& scratch) const override { return b_[i].original(scratch); }

 private:
  std::span<const BalanceLayer> b_;
};

class TrialWeights final : public BalanceWeights {
 public:
  TrialWeights(std::span<const BalanceLayer> b, std::span<const double> s, int64_t group, QdqFn qdq)
      : b_(b), s_(s), group_(group), qdq_(qdq) {}
  size_t size() const override { return b_.size(); }
  const float* get(size_t i, std::vector<float>& scratch) const override {
    const BalanceLayer& l = b_[i];
    const float* w = l.original(scratch);
    if (!l.quantized) return w;  // the router (and ignored layers) keep their original weights
    scratch.resize(size_t(l.rows() * l.cols()));
    awq_trial_weight(w, l.rows(), l.cols(), s_, group_, qdq_, scratch.data());
    return scratch.data();
  }

 private:
  std::span<const BalanceLayer> b_;
  std::span<const double> s_;
  int64_t group_;
  QdqFn qdq_;
};

}  // namespace

AwqSearchResult awq_search_best_scales_by_loss(const std::string& name, std::span<const BalanceLayer> balance,
                                               std::span<const float> x_mean, int64_t token_count,
                                               const TrialLoss& trial_loss, const AwqSearchOptions& opts) {
  MIXQ_ASSERT(!balance.empty());
  const size_t in = x_mean.size();
  AwqSearchResult res;
  res.scales.assign(in, 1.0);
  std::vector<const BalanceLayer*> quantized;
  for (const BalanceLayer& l : balance) {
    MIXQ_ASSERT(size_t(l.cols()) == in);
    if (l.quantized) quantized.push_back(&l);
  }
  if (token_count == 0 || quantized.empty()) {  // "no activations found to scale" / nothing to quantize
    res.skipped = true;
    return res;
  }
  res.grid = awq_grid_points(opts.n_grid, opts.duo);
  std::vector<double> w_mean;
  bool any_duo = false;
  for (auto& p : res.grid) any_duo |= p.use_duo;
  if (any_duo) {  // one layer decoded at a time
    WMeanAccumulator acc(int64_t(in), opts.group);
    Matrix tmp;
    for (const BalanceLayer* l : quantized) {
      if (l->bf16) {
        tmp.rows = l->rows();
        tmp.cols = l->cols();
        l->bf16->decode(tmp.data);
        acc.add(tmp);
      } else {
        acc.add(*l->weight);
      }
    }
    w_mean = acc.mean();
  }

  float best = std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < res.grid.size(); ++k) {
    std::vector<double> s = awq_scales(x_mean, w_mean, res.grid[k]);
    const float loss = trial_loss(TrialWeights(balance, s, opts.group, opts.qdq));
    res.losses.push_back(loss);
    if (loss < best) {  // first strict minimum wins (NaN never compares less)
      best = loss;
      res.best_index = int(k);
      res.scales = std::move(s);
    }
  }
  if (res.best_index < 0)
    fail("awq: mapping '{}': no grid point gave a finite loss (non-finite calibration outputs?)", name);
  return res;
}

AwqSearchResult awq_search_best_scales(const std::string& name, std::span<const BalanceLayer> balance,
                                       std::span<const float> x_mean, int64_t token_count,
                                       const ParentForward& parent, const AwqSearchOptions& opts) {
  // The reference output is computed lazily: a skipped mapping runs no forward at all.
  std::vector<float> ref, out;
  bool have_ref = false;
  auto loss = [&](const BalanceWeights& trial) {
    if (!have_ref) {
      parent(OriginalWeights(balance), ref);
      have_ref = true;
      if (!opts.batch_numel.empty()) {
        int64_t sum = 0;
        for (int64_t n : opts.batch_numel) sum += n;
        MIXQ_ASSERT(size_t(sum) == ref.size());
      }
    }
    parent(trial, out);
    MIXQ_ASSERT(out.size() == ref.size());
    return awq_mse_loss(ref, out, opts.batch_numel);
  };
  return awq_search_best_scales_by_loss(name, balance, x_mean, token_count, loss, opts);
}

}  // namespace mixq::calib
