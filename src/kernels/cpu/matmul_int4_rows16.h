// W4A16 INT4 on a row-interleaved copy of the weights: the split-activation scheme of
// matmul_int4_vnni.h (same limbs, same stated error bound), with vector lanes over 16 rows
// instead of over the words of one row.
//
// Why: in the native layout a vector holds 16 words of one row, i.e. 4 groups, so every 128
// weights of every row end with a limb combine, an int->fp32 conversion, a scale expansion and
// an FMA (about 18 vector ops per 64 weight bytes; 34 GB/s per thread hot, ~20 from DRAM, the
// limit of W4A16 decode, docs/perf-engine.md). Here a vector holds the same word of 16 rows, so
// one lane sums a whole 32-weight group in int32 and that epilogue runs once per group for 16
// rows, and each activation word is one 4-byte broadcast shared by all 16 lanes: about 10 ops per
// 64 bytes (2.2-2.5x hot, docs/perf-engine.md round 4).
//
// Layout (interleave_int4_rows16, in place; rows16 in Int4Matrix): rows [0, N16), N16 = N / 16 * 16,
// form tiles of 16 rows. Tile T keeps its own 16 * words_per_row words: for each 32-weight block b
// (words 4b..4b+3 of a row), 64 words [word i of the block][row r] = word 4b + i of row 16T + r.
// Its scales keep their 16 * groups_per_row slots: [group g][row r]. Rows >= N16 stay as they
// were (a row's words and scales are where the native layout has them), and take the native kernel.
// Int4Matrix::word_index / scale_index give any element's place.
//
// One token (decode) reads a row range's whole tiles as kInt4DecodeStreams far-apart parts side
// by side, sharing each activation broadcast: per tile the same operations, so the results do not
// depend on the split (tested bit for bit).
//
// Sums: per (row, 32-block) the exact int32 sum_l 254^(L-1-l) sum_k (u_k - 8) a_lk (|.| < 2^31 for
// L = 3: 32 * 8 * 127 * 64771), one rounded conversion to fp32 and one FMA with s_w * t_g per
// block, in k order: |y - sum_k w_k x^_k| <= gamma(K/32 + 1) * sum_k |w_k x^_k|.
#pragma once
#include <cstdint>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_int4_vnni.h"

namespace mixq::kernels {

// Whether interleave_int4_rows16 may be applied to W: an AVX-512 VNNI CPU, K % 32 == 0, group a
// multiple of 32, N >= 16, not already interleaved, and MIXQ_INT4_EXACT and MIXQ_INT4_NATIVE unset
// (or "0"): MIXQ_INT4_NATIVE=1 keeps the native layout, for comparisons.
bool int4_rows16_ok(const Int4Matrix& W);

// Rewrites packed (N * words_per_row words) and scale (N * groups_per_row entries of scale_type)
// into the rows16 layout, in place (a 16-row scratch). Precondition: int4_rows16_ok(W) for the
// same shape.
void interleave_int4_rows16(uint32_t* packed, void* scale, ScaleType scale_type, int64_t N, int64_t K, int64_t group);

// The kernel itself, called by matmul_int4_vnni_prepared (which every INT4 entry point reaches
// for a rows16 matrix, and which runs the rows past the last tile): rows [n0, n1), n1 <= N16, of
// Y for M <= 32 prepared tokens xt[0..M) (Int4VnniActivations::token). Any n0, n1: a tile cut by
// the range is computed whole into a scratch and the asked rows copied out (callers that split on
// multiples of 16, as parallel_rows does, never pay that).
void matmul_int4_rows16_tiles(const Int4Matrix& W, const Int4VnniChunk* const* xt, int64_t M, float* Y, int64_t ldy,
                              int64_t n0, int64_t n1);

}  // namespace mixq::kernels
