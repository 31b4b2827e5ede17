// Scalar references for kernels/cpu/matmul.h: the same contract, one multiply-add at a time in k
// order, weights decoded exactly as the checkpoint formats define them. Tests compare the fast
// kernels against these on fresh random inputs; the engine falls back to them for shapes the fast
// kernels do not tile (e.g. an INT4 group size that is not a multiple of the vector width).
#pragma once
#include "kernels/cpu/matmul.h"

namespace mixq::kernels {

void matmul_f32_ref(const float* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                    int64_t n0, int64_t n1);
void matmul_bf16_ref(const uint16_t* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                     int64_t n0, int64_t n1);
void matmul_fp8_block_ref(const Fp8BlockMatrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                          int64_t n0, int64_t n1);
void matmul_int4_ref(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                     int64_t n1);

// Exact decoded weight values (for tests and references).
float fp8_block_weight(const Fp8BlockMatrix& W, int64_t n, int64_t k);
float int4_weight(const Int4Matrix& W, int64_t n, int64_t k);

}  // namespace mixq::kernels
