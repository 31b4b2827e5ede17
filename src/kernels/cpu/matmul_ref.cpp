#include "kernels/cpu/matmul_ref.h"

#include "util/dtype.h"

namespace mixq::kernels {

float Int4Matrix::scale_at(int64_t n, int64_t g) const {
  const int64_t i = scale_index(n, g);
  return scale_type == ScaleType::F32 ? static_cast<const float*>(scale)[i]
                                      : bf16_to_f32(static_cast<const uint16_t*>(scale)[i]);
}

float fp8_block_weight(const Fp8BlockMatrix& W, int64_t n, int64_t k) {
  return kFp8E4M3ToF32[W.w[n * W.K + k]] * W.scale[(n / W.block_n) * W.scale_cols() + k / W.block_k];
}

float int4_weight(const Int4Matrix& W, int64_t n, int64_t k) {
  const uint32_t word = W.packed[W.word_index(n, k / 8)];
  const int q = int((word >> (4 * (k % 8))) & 0xF) - 8;
  return float(q) * W.scale_at(n, k / W.group);
}

namespace {
template <class WeightAt>
void ref_loop(WeightAt w, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
              int64_t n1) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = n0; n < n1; ++n) {
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += X[m * ldx + k] * w(n, k);
      Y[m * ldy + n] = acc;
    }
}
}  // namespace

void matmul_f32_ref(const float* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                    int64_t n0, int64_t n1) {
  ref_loop([&](int64_t n, int64_t k) { return W[n * K + k]; }, K, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_bf16_ref(const uint16_t* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                     int64_t n0, int64_t n1) {
  ref_loop([&](int64_t n, int64_t k) { return bf16_to_f32(W[n * K + k]); }, K, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_fp8_block_ref(const Fp8BlockMatrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                          int64_t n0, int64_t n1) {
  ref_loop([&](int64_t n, int64_t k) { return fp8_block_weight(W, n, k); }, W.K, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_int4_ref(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                     int64_t n1) {
  ref_loop([&](int64_t n, int64_t k) { return int4_weight(W, n, k); }, W.K, X, M, ldx, Y, ldy, n0, n1);
}

}  // namespace mixq::kernels
