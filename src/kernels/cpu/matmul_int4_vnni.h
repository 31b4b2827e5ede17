// W4A16 INT4 GEMV/GEMM with split int8 activations on AVX-512 VNNI (decode and prefill).
//
// Why: with exact fp32 activations every INT4 weight costs a decode plus one fp32 FMA lane, about
// 0.4 vector ops per weight byte, which is compute-bound on the CPUs we target (docs/perf-engine.md).
// Here each fp32 activation row is split once per call into three int8 limbs per group of 32, and
// the weight nibbles (native compressed-tensors layout, no repacked copy) meet the limbs in
// `vpdpbusd` (u8 x s8, 64 products per instruction): about 16 vector ops per 128 weights of a row
// and token instead of 27, and no table lookups (docs/perf-int4.md).
//
// Split activations (group g of 32 consecutive k; the scheme is split_activations() below):
//   t_g = 2^e, the smallest power of two with max_g|x| <= 8193532 * t_g   (8193532 = 127 * 254^2)
//   q = x / t_g (exact),  a0 = round(q / 254^2),  a1 = round((q - 254^2 a0) / 254),
//   a2 = round(q - 254^2 a0 - 254 a1),  |a0|, |a1|, |a2| <= 127,  x^ = t_g (254^2 a0 + 254 a1 + a2)
// STATED BOUND, per element:  |x - x^| <= t_g / 2 <= max_g|x| / 8193532  (< 2^-22.96 max_g|x|),
// i.e. about the fp32 rounding of the group's largest element: A16 semantics up to fp32-level
// noise. (Two limbs, the cheaper variant, give max_g|x| / 32258 ~ 2^-15: with x50 outlier
// channels their error on the logits of the tiny model was 4e-4, 2-3x the fp32 reference
// tolerance; the third limb costs 4 ops per 128 weights and the kernel stays memory-bound.)
// A power-of-two t_g makes q and every scaling by t_g exact in fp32 and reproduces inputs with at
// most ~23 significant bits relative to their group max exactly (one-hot, small integers).
// bf16 activations (vLLM/Marlin W4A16) have a relative error of 2^-9 per element.
// Groups with max_g|x| < 2^-96 are treated as zero (error <= max_g|x|). A NaN or infinite
// activation makes the outputs of every row NaN (the exact kernel gives NaN or +-inf).
//
// Per output: |y - sum_k w_k x_k| <= sum_g max_g|x| * kSplitActMaxRelErr * sum_{k in g} |w_k|
//   + gamma(K/128 + 6) * sum_k |w_k x^_k|   (fp32: each 128-weight chunk adds one rounded int->fp32
//   conversion and one FMA per lane, then 16 lanes are summed; gamma(n) ~ n 2^-24).
//
// Kernel: per 128-weight chunk (16 packed words = 4 groups of 32), row and token: one 64-byte
// load, low nibbles = w & 0x0F and high nibbles = (w >> 4) & 0x0F as u8 (even / odd k of each
// word), 3 x 2 vpdpbusd against the pre-permuted limbs (lo bytes = even k, hi bytes = odd k), zero
// point 8 corrected by initialising the int32 lanes with -8 * (sum of the limbs of that word),
// limbs combined in int32 (one vpdpwssd, one vpmulld, one add), then one cvt and one FMA with
// (s_w * t) per lane. 4 rows share each limb load; up to 4 tokens share each weight decode.
// Memory: a per-thread buffer of 704 bytes per 128 activations per token, for blocks of up to 32
// tokens (528 KiB at K = 3072), allocated once per thread and reused (or the caller's
// Int4VnniActivations); the weights are read in place.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/matmul.h"

namespace mixq::kernels {

constexpr int64_t kSplitActGroup = 32;
constexpr int kSplitActLimbs = 3;
// |x - x^| <= max_g|x| * kSplitActMaxRelErr per element (see above): 1 / (127 * 254^(limbs-1)).
constexpr double kSplitActMaxRelErr = kSplitActLimbs == 3 ? 1.0 / 8193532.0 : 1.0 / 32258.0;
// matmul_int4 uses the VNNI kernel for M <= this. Once the exact kernel's register tiles stopped
// spilling (ae5abe7) it wins from M = 4 on: single thread, 12288x3072, bf16 scales, seconds per
// call, VNNI vs exact: M=1 0.66 vs 0.87 ms, M=2 1.10 vs 1.32, M=4 2.6 vs 2.4, M=8 5.3 vs 4.3,
// M=32 20.1 vs 15.3 (`MIXQ_THREADS=1 engine_kernels_bench --benchmark_filter=BM_Int4/`, with and
// without MIXQ_INT4_EXACT=1, load 1.9). Decode (M=1) takes the split kernel, prefill the exact one.
constexpr int64_t kInt4VnniMaxM = 3;

// The split above for one row (K % 32 == 0): limb l of element k at a[l * K + k], t[K / 32].
// Scalar definition; the kernel's vectorised preparation computes the same limbs (tested).
void split_activations(const float* x, int64_t K, int8_t* a, float* t);

// AVX-512 F/BW/VL + VNNI present on this CPU.
bool int4_vnni_cpu();
// An INT4 kernel switch in the environment (MIXQ_INT4_EXACT, MIXQ_INT4_NATIVE): set, non-empty and
// not "0".
bool int4_env_switch(const char* name);
// Shapes the kernel handles: K % 32 == 0, group in {32, 64, 128} or a multiple of 128.
bool int4_vnni_shape_ok(const Int4Matrix& W);
// What matmul_int4 asks: CPU and shape ok, M <= kInt4VnniMaxM, env MIXQ_INT4_EXACT unset / "0",
// and not forced off by force_int4_exact; or W.rows16 (interleaved weights, any M: the rows16
// kernel of matmul_int4_rows16.h, which every entry point here hands them to).
bool use_int4_vnni(const Int4Matrix& W, int64_t M);
// Process-wide switch for tests that compare against the exact path: true sends every matmul_int4
// to the exact fp32 kernel until called again with false.
void force_int4_exact(bool on);

// Same contract as matmul_int4 (rows [n0, n1), any M), with the split-activation error bound.
// Precondition: int4_vnni_cpu() && int4_vnni_shape_ok(W).
void matmul_int4_vnni(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1);

// Prepared activations of one token for one 128-weight chunk (16 packed words). Byte b of lo[l]
// is limb l of k = 2b (the low nibble of byte b of the chunk's words), byte b of hi[l] limb l of
// k = 2b + 1. z[l][i] = -8 * (sum of the 8 limbs l of word i): the zero-point correction.
// t[i] = t_g of word i's group. zg[l][j] = z[l][4j] + ... + z[l][4j+3], the correction of group j
// (for the rows16 kernel, matmul_int4_rows16.h, whose lanes are rows). 704 bytes per 128 activations.
struct alignas(64) Int4VnniChunk {
  int8_t lo[kSplitActLimbs][64], hi[kSplitActLimbs][64];
  int32_t z[kSplitActLimbs][16];
  float t[16];
  int32_t zg[kSplitActLimbs][4];
};

// Activations split once and used by many calls: a caller that splits one matrix's rows over
// threads prepares them once per dispatch instead of once per row chunk (about 1 us per call at
// K = 3072; ggml likewise quantizes its activation once per node). Memory: 5.5 bytes per activation.
class Int4VnniActivations {
 public:
  // X: M rows of K floats, row stride ldx. Precondition: int4_vnni_cpu(), K % 32 == 0.
  void prepare(const float* X, int64_t M, int64_t ldx, int64_t K);
  int64_t rows() const { return M_; }
  int64_t cols() const { return K_; }
  const Int4VnniChunk* token(int64_t m) const { return chunks_.data() + m * ((K_ + 127) / 128); }

 private:
  int64_t M_ = 0, K_ = 0;
  std::vector<Int4VnniChunk> chunks_;
};

// matmul_int4_vnni on prepared activations (a.cols() == W.K): rows [n0, n1) of Y for all a.rows().
void matmul_int4_vnni_prepared(const Int4Matrix& W, const Int4VnniActivations& a, float* Y, int64_t ldy, int64_t n0,
                               int64_t n1);

// The exact fp32-activation INT4 kernel (Highway; defined in matmul.cpp), whatever M is: equal to
// matmul_int4_ref up to fp32 summation order. For tests and benchmarks.
void matmul_int4_exact(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                       int64_t n0, int64_t n1);

}  // namespace mixq::kernels
