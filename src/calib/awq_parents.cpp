#include "calib/awq_parents.h"

#include <cmath>

#include "kernels/cpu/matmul.h"
#include "util/thread_pool.h"

namespace mixq::calib {

ParentForward moe_block_parent(const Matrix& x, const Routing& routing, const MoeShape& shape,
                               std::span<const Bf16Matrix> w2) {
  return [&x, &routing, shape, w2](const BalanceWeights& bw, std::vector<float>& out) {
    MIXQ_ASSERT(int64_t(bw.size()) == 1 + 2 * shape.experts);
    ExpertWeightFn get = [&](int e, int part, std::vector<float>& scratch) -> const float* {
      if (part == 2) return w2[size_t(e)].decode(scratch);
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
    const float* w = bw.get(0, scratch);  // on this thread: a trial QDQ may use the pool
    out.assign(size_t(x.rows * out_features), 0.0f);
    kernels::parallel_rows(out_features, 16, [&](int64_t n0, int64_t n1) {
      kernels::matmul_f32(w, x.cols, x.data.data(), x.rows, x.cols, out.data(), out_features, n0, n1);
    });
  };
}

Matrix swiglu_intermediate(const Matrix& x, const Matrix& w1, const Matrix& w3) {
  MIXQ_ASSERT(w1.cols == x.cols && w3.cols == x.cols && w1.rows == w3.rows);
  const int64_t I = w1.rows;
  Matrix g(x.rows, I), u(x.rows, I);
  kernels::parallel_rows(I, 16, [&](int64_t n0, int64_t n1) {
    kernels::matmul_f32(w1.data.data(), x.cols, x.data.data(), x.rows, x.cols, g.data.data(), I, n0, n1);
    kernels::matmul_f32(w3.data.data(), x.cols, x.data.data(), x.rows, x.cols, u.data.data(), I, n0, n1);
  });
  ThreadPool::global().parallel_for(g.data.size(), 4096, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i) g.data[i] = g.data[i] / (1.0f + std::exp(-g.data[i])) * u.data[i];
  });
  return g;
}

Matrix swiglu_intermediate(const Matrix& x, const Bf16Matrix& w1, const Bf16Matrix& w3) {
  return swiglu_intermediate(x, w1.to_matrix(), w3.to_matrix());
}

}  // namespace mixq::calib
