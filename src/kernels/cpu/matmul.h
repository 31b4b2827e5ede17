// Weight-streaming matrix products Y = X W^T for the storage formats a checkpoint can hold.
//
// Every kernel computes output columns (= weight rows) [n0, n1) for all M activation rows:
//   Y[m * ldy + n] = sum_k X[m * ldx + k] * W[n, k]      m in [0, M), n in [n0, n1)
// Activations and accumulation are fp32; weights are decoded to exact fp32 values in registers
// (BF16 by a shift, FP8 e4m3 by bit arithmetic times its block scale, INT4 nibbles through a
// 16-entry table pre-multiplied by the group scale) and never written out as a dequantized matrix.
// The caller owns threading: it splits [0, N) over the pool (see parallel_rows), so one call never
// spawns work of its own. Runtime ISA dispatch (AVX2 / AVX-512 / ...) goes through Highway.
//
// Each kernel has a scalar reference (matmul_ref.h) computing the same sum in plain k order; the
// fast kernels differ from it only by fp32 summation order.
#pragma once
#include <cstdint>
#include <functional>

namespace mixq::kernels {

enum class ScaleType : uint8_t { F32, BF16 };

// FP8-block: W is F8_E4M3 [N, K], scale [ceil(N/block_n), ceil(K/block_k)] (fp32), w = fp8 * scale.
struct Fp8BlockMatrix {
  const uint8_t* w = nullptr;
  const float* scale = nullptr;
  int64_t N = 0, K = 0, block_n = 128, block_k = 128;
  int64_t scale_cols() const { return (K + block_k - 1) / block_k; }
};

// compressed-tensors pack-quantized symmetric INT4: packed I32 [N, ceil(K/8)] with element k of a
// row at bits 4*(k%8) of word k/8 (value u - 8), scale [N, K/group] (fp32 or bf16), w = (u-8)*s.
// rows16: packed and scale were interleaved in place by interleave_int4_rows16 (tiles of 16 rows,
// matmul_int4_rows16.h; only for weights read into RAM); word_index / scale_index say where a
// row's word or scale is in either layout.
struct Int4Matrix {
  const uint32_t* packed = nullptr;
  const void* scale = nullptr;
  ScaleType scale_type = ScaleType::BF16;
  int64_t N = 0, K = 0, group = 32;
  bool rows16 = false;
  int64_t words_per_row() const { return (K + 7) / 8; }
  int64_t groups_per_row() const { return K / group; }
  // Index into packed of word w (elements 8w..8w+7) of row n, and into scale of group g of row n.
  int64_t word_index(int64_t n, int64_t w) const {
    if (!rows16 || n >= N / 16 * 16) return n * words_per_row() + w;
    return (n / 16) * 16 * words_per_row() + (w / 4) * 64 + (w % 4) * 16 + n % 16;
  }
  int64_t scale_index(int64_t n, int64_t g) const {
    if (!rows16 || n >= N / 16 * 16) return n * groups_per_row() + g;
    return (n / 16) * 16 * groups_per_row() + g * 16 + n % 16;
  }
  float scale_at(int64_t n, int64_t g) const;
};

void matmul_f32(const float* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                int64_t n0, int64_t n1);
void matmul_bf16(const uint16_t* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                 int64_t n0, int64_t n1);
void matmul_fp8_block(const Fp8BlockMatrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1);
void matmul_int4(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                 int64_t n1);

// Splits [0, n) into chunks of at least `grain` rows (rounded to 4, the kernels' row tile) over the
// global thread pool: fn(begin, end).
void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// The ISA the dispatcher picked on this machine, e.g. "AVX3" (for reports).
const char* matmul_target_name();

}  // namespace mixq::kernels
