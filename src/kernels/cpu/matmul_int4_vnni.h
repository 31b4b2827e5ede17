// W4A16 INT4 GEMV with split int8 activations on AVX-512 VNNI (decode, small M).
//
// Why: with exact fp32 activations every INT4 weight costs a decode plus one fp32 FMA lane, about
// 0.4 vector ops per weight byte, which is compute-bound on the CPUs we target (docs/perf-engine.md).
// Here each fp32 activation row is split once per call into two int8 limbs per group of 32, and the
// weight nibbles (native compressed-tensors layout, no repacked copy) meet the limbs in `vpdpbusd`
// (u8 x s8, 64 products per instruction): about 12 vector ops per 128 weights of a row.
//
// Split activations (group g of 32 consecutive k; the scheme is split_activations() below):
//   t_g = 2^e, the smallest power of two with max_g|x| <= 32258 * t_g   (32258 = 127 * 254)
//   q = x / t_g (exact),  a0 = round(q / 254),  a1 = round(q - 254 a0),  |a0|, |a1| <= 127
//   x^ = t_g * (254 a0 + a1)
// STATED BOUND, per element:  |x - x^| <= t_g / 2 <= max_g|x| / 32258  (< 2^-14.97 max_g|x|).
// A power-of-two t_g makes q and every scaling by t_g exact in fp32 and reproduces inputs with at
// most ~15 significant bits relative to their group max exactly (e.g. one-hot, small integers);
// it costs at most a factor 2 against a non-power-of-two scale (max/64516). bf16 activations
// (vLLM/Marlin W4A16) have a relative error of 2^-9 per element: this bound is 64x tighter
// relative to the group max. Groups with max_g|x| < 2^-96 are treated as zero (error <= max_g|x|).
// Activations must be finite.
//
// Per output: |y - sum_k w_k x_k| <= sum_g max_g|x| / 32258 * sum_{k in g} |w_k|   (quantization)
//   + gamma(K/128 + 5) * sum_k |w_k x^_k|   (fp32 accumulation: the integer dot products are exact;
//   each 128-weight chunk adds one fp32 FMA per lane, then 16 lanes are summed; gamma(n) ~ n 2^-24).
//
// Kernel: per 128-weight chunk (16 packed words = 4 groups of 32) and row: one 64-byte load, low
// nibbles = w & 0x0F and high nibbles = (w >> 4) & 0x0F as u8 (even / odd k of each word), 2 x 2
// vpdpbusd against the pre-permuted limbs (lo bytes = even k, hi bytes = odd k), zero point 8
// corrected by initialising the int32 lanes with -8 * (sum of the limbs of that word), limbs
// combined exactly with one vpdpwssd (254 a0-part + a1-part, |.| < 2^21, exact in fp32), then
// one cvt and one FMA with (s_w * t) per lane. 4 rows share each limb load; up to 4 tokens share
// each weight decode.
// Memory: a per-thread buffer of 448 bytes per 128 activations per token (4 tokens: 43 KB at K =
// 3072), allocated once per thread and reused; the weights are read in place (mmap'd model).
#pragma once
#include <cstdint>

#include "kernels/cpu/matmul.h"

namespace mixq::kernels {

constexpr int64_t kSplitActGroup = 32;
// |x - x^| <= max_g|x| * kSplitActMaxRelErr per element (see above).
constexpr double kSplitActMaxRelErr = 1.0 / 32258.0;
// matmul_int4 uses the VNNI kernel for M <= this (decode); larger M keeps the fp32 GEMM tiles.
constexpr int64_t kInt4VnniMaxM = 4;

// The split above for one row (K % 32 == 0): limbs in k order, t[K / 32]. Scalar definition; the
// kernel's vectorised preparation produces identical limbs (tested).
void split_activations(const float* x, int64_t K, int8_t* a0, int8_t* a1, float* t);

// AVX-512 F/BW/VL + VNNI present on this CPU.
bool int4_vnni_cpu();
// Shapes the kernel handles: K % 32 == 0, group in {32, 64, 128} or a multiple of 128.
bool int4_vnni_shape_ok(const Int4Matrix& W);
// What matmul_int4 asks: CPU and shape ok, M <= kInt4VnniMaxM, and env MIXQ_INT4_EXACT unset / "0".
bool use_int4_vnni(const Int4Matrix& W, int64_t M);

// Same contract as matmul_int4 (rows [n0, n1), any M), with the split-activation error bound.
// Precondition: int4_vnni_cpu() && int4_vnni_shape_ok(W).
void matmul_int4_vnni(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1);

// The exact fp32-activation INT4 kernel (Highway; defined in matmul.cpp), whatever M is: equal to
// matmul_int4_ref up to fp32 summation order. For tests and benchmarks.
void matmul_int4_exact(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                       int64_t n0, int64_t n1);

}  // namespace mixq::kernels
