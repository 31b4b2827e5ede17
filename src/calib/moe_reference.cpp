#include "calib/moe_reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/matmul.h"
#include "util/thread_pool.h"

namespace mixq::calib {

namespace {

float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

}  // namespace

Matrix rms_norm(const Matrix& x, std::span<const float> w, float eps) {
  MIXQ_ASSERT(int64_t(w.size()) == x.cols);
  Matrix y(x.rows, x.cols);
  for (int64_t t = 0; t < x.rows; ++t) {
    const float* xr = x.row(t);
    float ss = 0.0f;
    for (int64_t c = 0; c < x.cols; ++c) ss += xr[c] * xr[c];
    const float inv = 1.0f / std::sqrt(ss / float(x.cols) + eps);
    for (int64_t c = 0; c < x.cols; ++c) y.at(t, c) = xr[c] * inv * w[size_t(c)];
  }
  return y;
}

Routing route_sigmoid_topk(const Matrix& x, const Matrix& gate, std::span<const float> bias, int top_k) {
  const int64_t E = gate.rows;
  MIXQ_ASSERT(gate.cols == x.cols && top_k > 0 && top_k <= E);
  MIXQ_ASSERT(bias.empty() || int64_t(bias.size()) == E);
  Routing r;
  r.tokens = x.rows;
  r.top_k = top_k;
  r.experts = E;
  r.expert.resize(size_t(x.rows * top_k));
  r.weight.resize(size_t(x.rows * top_k));
  r.biased.resize(size_t(x.rows * E));
  ThreadPool::global().parallel_for(size_t(x.rows), 4, [&](size_t b, size_t e, size_t) {
    std::vector<float> score(static_cast<size_t>(E));
    std::vector<int32_t> idx(static_cast<size_t>(E));
    for (size_t t = b; t < e; ++t) {
      float* biased = r.biased.data() + t * size_t(E);
      for (int64_t j = 0; j < E; ++j) {
        score[size_t(j)] = sigmoid(dot(x.row(int64_t(t)), gate.row(j), x.cols));
        biased[j] = score[size_t(j)] + (bias.empty() ? 0.0f : bias[size_t(j)]);
      }
      std::iota(idx.begin(), idx.end(), 0);
      std::partial_sort(idx.begin(), idx.begin() + top_k, idx.end(), [&](int32_t a, int32_t c) {
        return biased[a] != biased[c] ? biased[a] > biased[c] : a < c;
      });
      float sum = 0.0f;
      for (int k = 0; k < top_k; ++k) sum += score[size_t(idx[size_t(k)])];
      for (int k = 0; k < top_k; ++k) {
        r.expert[t * size_t(top_k) + size_t(k)] = idx[size_t(k)];
        r.weight[t * size_t(top_k) + size_t(k)] = score[size_t(idx[size_t(k)])] / sum;
      }
    }
  });
  return r;
}

double routing_change_rate(const Routing& a, const Routing& b) {
  MIXQ_ASSERT(a.tokens == b.tokens && a.top_k == b.top_k);
  if (a.tokens == 0) return 0.0;
  int64_t changed = 0;
  std::vector<int32_t> sa(size_t(a.top_k)), sb(size_t(a.top_k));
  for (int64_t t = 0; t < a.tokens; ++t) {
    std::copy_n(a.expert.begin() + t * a.top_k, a.top_k, sa.begin());
    std::copy_n(b.expert.begin() + t * b.top_k, b.top_k, sb.begin());
    std::sort(sa.begin(), sa.end());
    std::sort(sb.begin(), sb.end());
    changed += sa != sb;
  }
  return double(changed) / double(a.tokens);
}

void swiglu_expert_forward(const float* x, int64_t tokens, const float* w1, const float* w3, const float* w2,
                           const MoeShape& s, float* out) {
  if (tokens == 0) return;
  const int64_t H = s.hidden, I = s.intermediate;
  std::vector<float> g(size_t(tokens * I)), u(size_t(tokens * I));
  // Weight-streaming GEMMs split over output rows (each weight row is read once for all tokens).
  kernels::parallel_rows(I, 16, [&](int64_t n0, int64_t n1) {
    kernels::matmul_f32(w1, H, x, tokens, H, g.data(), I, n0, n1);
    kernels::matmul_f32(w3, H, x, tokens, H, u.data(), I, n0, n1);
  });
  ThreadPool::global().parallel_for(g.size(), 4096, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i) g[i] = g[i] * sigmoid(g[i]) * u[i];
  });
  kernels::parallel_rows(H, 16, [&](int64_t n0, int64_t n1) {
    kernels::matmul_f32(w2, I, g.data(), tokens, I, out, H, n0, n1);
  });
}

void moe_block_forward(const Matrix& x, const Routing& r, const MoeShape& s, const ExpertWeightFn& weights,
                       Matrix& out) {
  MIXQ_ASSERT(x.cols == s.hidden && r.tokens == x.rows);
  const int K = r.top_k;
  // Token lists per expert; experts run in ascending id, each on all its routed tokens at once with
  // the GEMMs parallel inside, and each adds weight x output to its tokens' rows of `out` as soon
  // as it finishes: per token the sum runs in ascending expert id, as in HF's MiniMaxM2SparseMoeBlock
  // (index_add_ expert by expert) and the engine (runtime/forward.cpp); deterministic for any
  // thread count. Memory: out plus the largest expert's routed rows twice (xs, ys: at most
  // tokens x hidden each), no per-(token, k) buffer (that was tokens x top_k x hidden: 6 GiB at 64k
  // tokens of the real model). The weight callback runs on this thread only, so it may itself use
  // the (non-reentrant) thread pool, e.g. a parallel QDQ.
  std::vector<std::vector<int64_t>> slots(size_t(s.experts));  // slot = t*K + k
  for (int64_t t = 0; t < r.tokens; ++t)
    for (int k = 0; k < K; ++k) slots[size_t(r.expert[size_t(t * K + k)])].push_back(t * K + k);
  out = Matrix(x.rows, s.hidden);
  std::vector<float> s1, s3, s2, xs, ys;
  for (int64_t ex = 0; ex < s.experts; ++ex) {
    const auto& sl = slots[size_t(ex)];
    if (sl.empty()) continue;
    const float* w1 = weights(int(ex), 0, s1);
    const float* w3 = weights(int(ex), 1, s3);
    const float* w2 = weights(int(ex), 2, s2);
    xs.resize(sl.size() * size_t(s.hidden));
    ys.resize(sl.size() * size_t(s.hidden));
    for (size_t i = 0; i < sl.size(); ++i) std::copy_n(x.row(sl[i] / K), s.hidden, xs.data() + i * size_t(s.hidden));
    swiglu_expert_forward(xs.data(), int64_t(sl.size()), w1, w3, w2, s, ys.data());
    // An expert appears at most once among a token's top-k, so its rows are distinct tokens.
    ThreadPool::global().parallel_for(sl.size(), 64, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; ++i) {
        const float w = r.weight[size_t(sl[i])];
        const float* y = ys.data() + i * size_t(s.hidden);
        float* ot = out.row(sl[i] / K);
        for (int64_t c = 0; c < s.hidden; ++c) ot[c] += w * y[c];
      }
    });
  }
}

ExpertWeightFn expert_weights_of(std::span<const Matrix> w1, std::span<const Matrix> w3, std::span<const Matrix> w2) {
  return [w1, w3, w2](int e, int part, std::vector<float>&) -> const float* {
    const std::span<const Matrix>& p = part == 0 ? w1 : part == 1 ? w3 : w2;
    return p[size_t(e)].data.data();
  };
}

ExpertWeightFn expert_weights_of(std::span<const Bf16Matrix> w1, std::span<const Bf16Matrix> w3,
                                 std::span<const Bf16Matrix> w2) {
  return [w1, w3, w2](int e, int part, std::vector<float>& scratch) -> const float* {
    const std::span<const Bf16Matrix>& p = part == 0 ? w1 : part == 1 ? w3 : w2;
    return p[size_t(e)].decode(scratch);
  };
}

}  // namespace mixq::calib
