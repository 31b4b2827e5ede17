#include "calib/awq_parents.h"

#include <cmath>

#include "util/thread_pool.h"

namespace mixq::calib {

ParentForward moe_block_parent(const Matrix& x, const Routing& routing, const MoeShape& shape,
                               std::span<const Matrix> w2) {
  return [&x, &routing, shape, w2](const BalanceWeights& bw, std::vector<float>& out) {
    MIXQ_ASSERT(int64_t(bw.size()) == 1 + 2 * shape.experts);
    ExpertWeightFn get = [&](int e, int part, std::vector<float>& scratch) -> const float* {
      if (part == 2) return w2[size_t(e)].data.data();
      return bw.get(size_t(1 + part * shape.experts + e), scratch);
    };
    Matrix y;
    moe_block_forward(x, routing, shape, get, y);
    out = std::move(y.data);
  };
}

ParentForward linear_parent(const Matrix& x, int64_t out_features) {
  return [&x, out_features](const BalanceWeights& bw, std::vector<float>& out) {
    MIXQ_ASSERT(bw.size() == 1);
    std::vector<float> scratch;
    const float* w = bw.get(0, scratch);
    out.assign(size_t(x.rows * out_features), 0.0f);
    ThreadPool::global().parallel_for(size_t(x.rows), 16, [&](size_t b, size_t e, size_t) {
      for (size_t t = b; t < e; ++t) {
        const float* xt = x.row(int64_t(t));
        for (int64_t o = 0; o < out_features; ++o) {
          const float* wr = w + o * x.cols;
          float s = 0.0f;
          for (int64_t c = 0; c < x.cols; ++c) s += xt[c] * wr[c];
          out[t * size_t(out_features) + size_t(o)] = s;
        }
      }
    });
  };
}

Matrix swiglu_intermediate(const Matrix& x, const Matrix& w1, const Matrix& w3) {
  MIXQ_ASSERT(w1.cols == x.cols && w3.cols == x.cols && w1.rows == w3.rows);
  Matrix h(x.rows, w1.rows);
  ThreadPool::global().parallel_for(size_t(x.rows), 16, [&](size_t b, size_t e, size_t) {
    for (size_t t = b; t < e; ++t) {
      const float* xt = x.row(int64_t(t));
      for (int64_t i = 0; i < w1.rows; ++i) {
        float g = 0.0f, u = 0.0f;
        for (int64_t c = 0; c < x.cols; ++c) { g += xt[c] * w1.at(i, c); u += xt[c] * w3.at(i, c); }
        h.at(int64_t(t), i) = g / (1.0f + std::exp(-g)) * u;
      }
    }
  });
  return h;
}

}  // namespace mixq::calib
