// Fast kernels for kernels/cpu/matmul.h (Highway, compiled once per x86 target, picked at run time).
//
// Structure shared by every format: a register tile of MT activation rows x NR weight rows holds
// MT*NR vector accumulators; each weight vector is decoded once and used MT times. Activation rows
// are processed in blocks of kTokBlock so a block (kTokBlock x K fp32, <= 400 KB for K = 3072)
// stays in L2 while the NR weight rows (<= 24 KB) stay in L1 across the block.
// Batch 1 (decode) degenerates to MT = 1: NR independent row streams. BF16 is then bandwidth-bound;
// INT4 with fp32 activations costs ~0.4 vector ops per weight byte and is compute-bound on a core
// that retires about one 512-bit op per cycle (docs/perf-engine.md).
#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/far_parts.h"
#include "kernels/cpu/matmul_ref.h"
#include "kernels/cpu/matmul_int4_vnni.h"
#include "kernels/cpu/unroll.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/cpu/even_odd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

constexpr int kRowTile = 4;
constexpr int kTokTile = 4;
constexpr int64_t kTokBlock = 32;
// Batch 1 (decode) of the generic tile loop (F32; BF16 and FP8 decode read far-apart parts
// instead, far_parts.h): rows per tile. 8 interleaved row streams keep more DRAM lines in flight (each stream trains its own
// hardware prefetcher) than 4: BF16 measured 83-87 % of a plain streaming sum per core vs 65 % for
// 4 rows, in 4 KB pages (docs/perf-engine.md round 2).
constexpr int kRowTileDecode = 8;
// BF16 decode: the thread's rows as kBf16DecodeStreams far-apart parts (far_parts.h says why).
// Two threads over 12 matrices of 8192x3072 and 3072x6144 in 2 MB pages, cold,
// GB/s mean of 6-10 alternating trials (docs/perf-engine.md round 6): the old 16-row tile with a
// 512 B per-row prefetch 51-58; 4 parts 40-47 (below 5 parts they fall off), 5 parts 68-78,
// 6 parts 64-78, 7 parts 69-70, 8 parts 67-68, 12 parts 68, 16 parts 65; a 4-stream read 73-85.
// Each stream prefetches kBf16DecodePrefetch bytes ahead of itself (into the stream's next row
// near the end of a row). `mixq bench --no-mmap`, BF16 model, paired roofline, 3 alternating
// runs: 6 parts + 1 KB 81-82 %, 5 parts 80-83 %, 8 parts 71-72 %, 6 parts without prefetch
// 72-80 %; the old tile 67-69 %.
constexpr int kBf16DecodeStreams = 6;
constexpr int64_t kBf16DecodePrefetch = 1024;
constexpr int kRowTilePrefill = 6;  // BF16, more than one token (see MatmulBf16)

// Software prefetch for the weight streams. A row tile reads NR rows side by side, i.e. NR short
// interleaved streams (an INT4 row at K = 3072 is 1.5 KB) that restart at every tile, which the
// hardware stream prefetchers pick up late. The rows of consecutive tiles are contiguous, so while
// a tile consumes NR cache lines per step, the same number of lines is prefetched (into L2) on a
// linear pointer two tiles ahead: the prefetch runs exactly as fast as the consumption and has
// the next tiles in flight before their streams start. Prefetching past the matrix end is harmless
// (prefetches do not fault). pf == nullptr disables it (token tiles after the first re-read
// cached rows).
HWY_INLINE void PrefetchLines(const uint8_t* pf, int64_t bytes) {
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(pf + b, 0, 2);
}

// ---- per-row weight decoders: Load(df, k) = weights [k, k+L) of the row as exact fp32 ----------
struct F32Row {
  const float* w;
  HWY_INLINE VF Load(DF df, int64_t k) const { return hn::LoadU(df, w + k); }
  HWY_INLINE float Scalar(int64_t k) const { return w[k]; }
};
// e4m3 -> f32 by moving the 7 exponent/mantissa bits into f32 position (an f32 with the value
// 2^-120 * x, denormals included) and multiplying by 2^120: exact. The byte is sign-extended to
// 32 bits, << 20 puts the sign at bit 31 and the 7 bits at 26..20, & 0x87F00000 clears the sign's
// copies at 30..27. Requires block_k % L == 0 and a power-of-two block_k (checked by the
// dispatcher).
template <class DI>
HWY_INLINE hn::Vec<DI> Fp8Bits(DI di, const uint8_t* p) {
  const hn::Rebind<int8_t, DI> d8;
  return hn::And(hn::ShiftLeft<20>(hn::PromoteTo(di, hn::LoadU(d8, reinterpret_cast<const int8_t*>(p)))),
                 hn::Set(di, int32_t(0x87F00000u)));
}
struct Fp8Row {
  const uint8_t* w;
  const float* srow;
  int lbk;
  HWY_INLINE VF Load(DF df, int64_t k) const {
    const VF mag = hn::Mul(hn::BitCast(df, Fp8Bits(hn::RebindToSigned<DF>(), w + k)), hn::Set(df, 0x1p120f));
    return hn::Mul(mag, hn::Set(df, srow[k >> lbk]));
  }
  HWY_INLINE float Scalar(int64_t k) const { return kFp8E4M3ToF32[w[k]] * srow[k >> lbk]; }
};

template <int MT, int NR, class Row>
HWY_INLINE void Tile(const Row* rows, int64_t K, const float* X, int64_t ldx, float* Y, int64_t ldy) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  VF acc[MT][NR];
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[t][r] = hn::Zero(df);
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    VF w[NR];
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) w[r] = rows[r].Load(df, k);
    MIXQ_UNROLL for (int t = 0; t < MT; ++t) {
      const VF x = hn::LoadU(df, X + t * ldx + k);
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[t][r] = hn::MulAdd(w[r], x, acc[t][r]);
    }
  }
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(df, acc[t][r]));
      for (int64_t kk = k; kk < K; ++kk) s += X[t * ldx + kk] * rows[r].Scalar(kk);
      Y[t * ldy + r] = s;
    }
}

template <int NR, class Row>
HWY_INLINE void TokLoop(const Row* rows, int64_t K, const float* X, int64_t mb, int64_t ldx, float* Y, int64_t ldy) {
  int64_t t = 0;
  for (; t + kTokTile <= mb; t += kTokTile) Tile<kTokTile, NR>(rows, K, X + t * ldx, ldx, Y + t * ldy, ldy);
  switch (mb - t) {
    case 3: Tile<3, NR>(rows, K, X + t * ldx, ldx, Y + t * ldy, ldy); break;
    case 2: Tile<2, NR>(rows, K, X + t * ldx, ldx, Y + t * ldy, ldy); break;
    case 1: Tile<1, NR>(rows, K, X + t * ldx, ldx, Y + t * ldy, ldy); break;
    default: break;
  }
}

template <class MakeRow>
HWY_INLINE void Drive(const MakeRow& make, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1) {
  using Row = decltype(make(int64_t(0)));
  for (int64_t m0 = 0; m0 < M; m0 += kTokBlock) {
    const int64_t mb = std::min(kTokBlock, M - m0);
    const float* Xb = X + m0 * ldx;
    float* Yb = Y + m0 * ldy;
    int64_t n = n0;
    if (mb == 1)  // decode: 8 row streams (kRowTileDecode); same per-row sums
      for (; n + kRowTileDecode <= n1; n += kRowTileDecode) {
        Row rows[kRowTileDecode];
        MIXQ_UNROLL for (int r = 0; r < kRowTileDecode; ++r) rows[r] = make(n + r);
        Tile<1, kRowTileDecode>(rows, K, Xb, ldx, Yb + n, ldy);
      }
    for (; n + kRowTile <= n1; n += kRowTile) {
      const Row rows[kRowTile] = {make(n), make(n + 1), make(n + 2), make(n + 3)};
      TokLoop<kRowTile>(rows, K, Xb, mb, ldx, Yb + n, ldy);
    }
    for (; n < n1; ++n) {
      const Row rows[1] = {make(n)};
      TokLoop<1>(rows, K, Xb, mb, ldx, Yb + n, ldy);
    }
  }
}

void MatmulF32(const float* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
               int64_t n1) {
  Drive([&](int64_t n) { return F32Row{W + n * K}; }, K, X, M, ldx, Y, ldy, n0, n1);
}

// ---- BF16 ---------------------------------------------------------------------------------------
// Weights read as bf16 pairs, activations in even/odd order (even_odd-inl.h): two ALU ops per 2L
// weights instead of two widening shuffles.
template <int MT, int NR>
HWY_INLINE void Bf16PairTile(const uint16_t* const* rows, int64_t K, const float* Xp, int64_t ldxp, float* Y,
                             int64_t ldy, const uint8_t* pf) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t L = int64_t(hn::Lanes(df));
  const auto hi_mask = hn::Set(du, 0xFFFF0000u);
  VF acc[MT][NR];
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[t][r] = hn::Zero(df);
  int64_t k = 0;
  const int64_t step_bytes = NR * 2 * L * 2;  // NR rows x 2L bf16 per step
  for (; k + 2 * L <= K; k += 2 * L) {
    if (pf) {
      PrefetchLines(pf, step_bytes);
      pf += step_bytes;
    }
    VF we[NR], wo[NR];
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
      auto v = hn::LoadU(du, reinterpret_cast<const uint32_t*>(rows[r] + k));
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
      // Keep this a separate load: GCC otherwise folds it into both the shift and the and as
      // memory operands, i.e. every weight line is loaded twice. On weights streamed from DRAM
      // the second load waits on the same miss; one load per vector measured 25.5 vs 17.5 GB of
      // weights per CPU-second (single thread, 201 MB, K = 3072).
      asm volatile("" : "+v"(v.raw));
#endif
      we[r] = hn::BitCast(df, hn::ShiftLeft<16>(v));
      wo[r] = hn::BitCast(df, hn::And(v, hi_mask));
    }
    MIXQ_UNROLL for (int t = 0; t < MT; ++t) {
      const VF xe = hn::LoadU(df, Xp + t * ldxp + k);
      const VF xo = hn::LoadU(df, Xp + t * ldxp + k + L);
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
        acc[t][r] = hn::MulAdd(we[r], xe, acc[t][r]);
        acc[t][r] = hn::MulAdd(wo[r], xo, acc[t][r]);
      }
    }
  }
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(df, acc[t][r]));
      for (int64_t kk = k; kk < K; ++kk) s += Xp[t * ldxp + kk] * bf16_to_f32(rows[r][kk]);
      Y[t * ldy + r] = s;
    }
}

// Batch 1: S contiguous parts of `per` rows from n0, read side by side (for_far_parts): row
// s * per + i of every part at step i. Per row the same single-accumulator
// FMAs in the same order as Bf16PairTile<1, NR>: results are identical whatever part or tile a row
// falls in, so they do not depend on the thread split.
template <int S>
HWY_INLINE void Bf16DecodeStreams(const uint16_t* W, int64_t K, const float* Xp, float* Y, int64_t n0, int64_t per,
                                  int64_t prefetch_end) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t L = int64_t(hn::Lanes(df));
  const auto hi_mask = hn::Set(du, 0xFFFF0000u);
  constexpr int64_t pf = kBf16DecodePrefetch / 2;  // in elements
  for (int64_t i = 0; i < per; ++i) {
    const uint16_t* row[S];
    MIXQ_UNROLL for (int s = 0; s < S; ++s) row[s] = W + (n0 + s * per + i) * K;
    VF acc[S];
    MIXQ_UNROLL for (int s = 0; s < S; ++s) acc[s] = hn::Zero(df);
    int64_t k = 0;
    for (; k + 2 * L <= K; k += 2 * L) {
      const VF xe = hn::LoadU(df, Xp + k);
      const VF xo = hn::LoadU(df, Xp + k + L);
      MIXQ_UNROLL for (int s = 0; s < S; ++s) {
        // The stream's rows are adjacent: pf ahead runs on into its next row. Not past the
        // caller's rows (another thread's, or the end of the matrix): no prefetch there.
        if (row[s] + k + pf < W + prefetch_end * K) __builtin_prefetch(row[s] + k + pf, 0, 3);
        auto v = hn::LoadU(du, reinterpret_cast<const uint32_t*>(row[s] + k));
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
        asm volatile("" : "+v"(v.raw));  // one load per weight vector (see Bf16PairTile)
#endif
        acc[s] = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v)), xe, acc[s]);
        acc[s] = hn::MulAdd(hn::BitCast(df, hn::And(v, hi_mask)), xo, acc[s]);
      }
    }
    MIXQ_UNROLL for (int s = 0; s < S; ++s) {
      float sum = hn::GetLane(hn::SumOfLanes(df, acc[s]));
      for (int64_t kk = k; kk < K; ++kk) sum += Xp[kk] * bf16_to_f32(row[s][kk]);
      Y[n0 + s * per + i] = sum;
    }
  }
}

template <int NR>
HWY_INLINE void Bf16PairTokLoop(const uint16_t* const* rows, int64_t K, const float* Xp, int64_t mb, int64_t ldxp,
                                float* Y, int64_t ldy, const uint8_t* pf) {
  int64_t t = 0;
  for (; t + kTokTile <= mb; t += kTokTile, pf = nullptr)
    Bf16PairTile<kTokTile, NR>(rows, K, Xp + t * ldxp, ldxp, Y + t * ldy, ldy, pf);
  switch (mb - t) {
    case 3: Bf16PairTile<3, NR>(rows, K, Xp + t * ldxp, ldxp, Y + t * ldy, ldy, pf); break;
    case 2: Bf16PairTile<2, NR>(rows, K, Xp + t * ldxp, ldxp, Y + t * ldy, ldy, pf); break;
    case 1: Bf16PairTile<1, NR>(rows, K, Xp + t * ldxp, ldxp, Y + t * ldy, ldy, pf); break;
    default: break;
  }
}

// Token tail of a prefill row tile: the remaining rem < MT activation rows, as one smaller tile.
template <int MT, int NR>
HWY_INLINE void Bf16TokTail(int64_t rem, const uint16_t* const* rows, int64_t K, const float* Xp, int64_t ldxp,
                            float* Y, int64_t ldy) {
  if constexpr (MT >= 1) {
    if (rem == MT) return Bf16PairTile<MT, NR>(rows, K, Xp, ldxp, Y, ldy, nullptr);
    Bf16TokTail<MT - 1, NR>(rem, rows, K, Xp, ldxp, Y, ldy);
  }
}

template <int MT, int NR>
HWY_INLINE void Bf16Prefill(const uint16_t* W, int64_t K, const float* Xp, int64_t mb, float* Yb, int64_t ldy,
                            int64_t& n, int64_t n1) {
  for (; n + NR <= n1; n += NR) {
    const uint16_t* rows[NR];
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) rows[r] = W + (n + r) * K;
    int64_t t = 0;
    for (; t + MT <= mb; t += MT) Bf16PairTile<MT, NR>(rows, K, Xp + t * K, K, Yb + t * ldy + n, ldy, nullptr);
    Bf16TokTail<MT - 1, NR>(mb - t, rows, K, Xp + t * K, K, Yb + t * ldy + n, ldy);
  }
}

void MatmulBf16(const uint16_t* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                int64_t n0, int64_t n1) {
  thread_local std::vector<float> xp;
  xp.resize(size_t(std::min(M, kTokBlock) * K));
  for (int64_t m0 = 0; m0 < M; m0 += kTokBlock) {
    const int64_t mb = std::min(kTokBlock, M - m0);
    for (int64_t t = 0; t < mb; ++t) PermuteEvenOdd(X + (m0 + t) * ldx, K, xp.data() + t * K);
    float* Yb = Y + m0 * ldy;
    int64_t n = n0;
    if (mb == 1) {
      for_far_parts<kBf16DecodeStreams>(n, n1, [&](auto parts, int64_t first, int64_t per) {
        Bf16DecodeStreams<decltype(parts)::value>(W, K, xp.data(), Yb, first, per, n1);
      });
      n = n1;
    } else {
      // Prefill: 4 tokens x 6 rows. Single-thread GFLOP per CPU-second at M = 32, K = 3072
      // (engine_kernels_bench BM_Bf16/32): 4x6 110-123, 4x4 104-110, 5x4 106-108, 6x3 63-65,
      // 8x3 65, 8x2 52-54 (more tokens per tile stream more activations from L2 per FMA).
      Bf16Prefill<kTokTile, kRowTilePrefill>(W, K, xp.data(), mb, Yb, ldy, n, n1);
    }
    for (; n + kRowTile <= n1; n += kRowTile) {
      const uint16_t* rows[kRowTile] = {W + n * K, W + (n + 1) * K, W + (n + 2) * K, W + (n + 3) * K};
      const uint8_t* pf = mb == 1 ? nullptr : reinterpret_cast<const uint8_t*>(rows[0]) + 2 * kRowTile * K * 2;
      Bf16PairTokLoop<kRowTile>(rows, K, xp.data(), mb, K, Yb + n, ldy, pf);
    }
    for (; n < n1; ++n) {
      const uint16_t* rows[1] = {W + n * K};
      Bf16PairTokLoop<1>(rows, K, xp.data(), mb, K, Yb + n, ldy, nullptr);
    }
  }
}

bool Fp8Supported(int64_t block_k) {
  const DF df;
  return block_k > 0 && (block_k & (block_k - 1)) == 0 && block_k % int64_t(hn::Lanes(df)) == 0;
}

// FP8 decode (one token). Each weight vector is Fp8Bits, the f32 of e4m3(u) * 2^-120 (exact,
// e4m3 denormals become f32 denormals), straight into the FMA: Fp8Row's two multiplies (2^120 and
// the block scale) leave the inner loop. So that the products stay normal floats, the token is
// scaled by 2^32 once per call and each block's partial sum is multiplied once by its scale times
// 2^88 (powers of two: exact unless the token exceeds 2^96 or a scale 2^40):
// y = sum_blocks (s_b 2^88) * sum_k (w_k 2^-120)(x_k 2^32), which differs from the tiled path's
// sum_k fl(w_k s_b) x_k by float rounding only. Rows as far-apart parts (far_parts.h).
constexpr int kFp8DecodeStreams = 6;
constexpr int64_t kFp8DecodePrefetch = 1024;
constexpr float kFp8TokenScale = 0x1p32f, kFp8BlockScale = 0x1p88f;

// Rows n0 + s * per + i for s < S, i < per (S far-apart parts read side by side, as
// Bf16DecodeStreams). xs: the token times kFp8TokenScale. Rows past prefetch_end are not
// prefetched.
template <int S>
HWY_INLINE void Fp8DecodeStreams(const Fp8BlockMatrix& W, const float* xs, float* Y, int64_t n0, int64_t per,
                                 int64_t prefetch_end) {
  const DF df;
  const hn::RebindToSigned<DF> di;
  const int64_t L = int64_t(hn::Lanes(df)), K = W.K, bk = W.block_k, sc = W.scale_cols();
  const uint8_t* end = W.w + prefetch_end * K;
  for (int64_t i = 0; i < per; ++i) {
    const uint8_t* row[S];
    const float* srow[S];
    MIXQ_UNROLL for (int s = 0; s < S; ++s) {
      const int64_t n = n0 + s * per + i;
      row[s] = W.w + n * K;
      srow[s] = W.scale + (n / W.block_n) * sc;
    }
    VF acc[S];
    MIXQ_UNROLL for (int s = 0; s < S; ++s) acc[s] = hn::Zero(df);
    int64_t k = 0;
    for (int64_t b = 0; k + L <= K; ++b) {
      const int64_t kend = std::min(K, (b + 1) * bk) / L * L;  // whole vectors of block b
      VF part[S];
      MIXQ_UNROLL for (int s = 0; s < S; ++s) part[s] = hn::Zero(df);
      for (; k < kend; k += L) {
        const VF x = hn::LoadU(df, xs + k);
        MIXQ_UNROLL for (int s = 0; s < S; ++s) {
          const uint8_t* pf = row[s] + k + kFp8DecodePrefetch;
          if ((k & 63) == 0 && pf < end) __builtin_prefetch(pf, 0, 3);
          part[s] = hn::MulAdd(hn::BitCast(df, Fp8Bits(di, row[s] + k)), x, part[s]);
        }
      }
      MIXQ_UNROLL for (int s = 0; s < S; ++s)
        acc[s] = hn::MulAdd(part[s], hn::Set(df, srow[s][b] * kFp8BlockScale), acc[s]);
    }
    MIXQ_UNROLL for (int s = 0; s < S; ++s) {
      float sum = hn::GetLane(hn::SumOfLanes(df, acc[s]));
      for (int64_t kk = k; kk < K; ++kk)
        sum += xs[kk] / kFp8TokenScale * kFp8E4M3ToF32[row[s][kk]] * srow[s][kk / bk];
      Y[n0 + s * per + i] = sum;
    }
  }
}

void MatmulFp8(const Fp8BlockMatrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
               int64_t n1) {
  if (!Fp8Supported(W.block_k)) return matmul_fp8_block_ref(W, X, M, ldx, Y, ldy, n0, n1);
  if (M == 1) {
    // Decode: the token times 2^32 (see kFp8TokenScale), kFp8DecodeStreams far-apart parts.
    thread_local std::vector<float> xs;
    xs.resize(size_t(W.K));
    for (int64_t k = 0; k < W.K; ++k) xs[size_t(k)] = X[k] * kFp8TokenScale;
    for_far_parts<kFp8DecodeStreams>(n0, n1, [&](auto parts, int64_t first, int64_t per) {
      Fp8DecodeStreams<decltype(parts)::value>(W, xs.data(), Y, first, per, n1);
    });
    return;
  }
  int lbk = 0;
  while ((int64_t(1) << lbk) < W.block_k) ++lbk;
  const int64_t sc = W.scale_cols();
  Drive([&](int64_t n) { return Fp8Row{W.w + n * W.K, W.scale + (n / W.block_n) * sc, lbk}; }, W.K, X, M, ldx, Y,
        ldy, n0, n1);
}

// ---- INT4 (pack-quantized) --------------------------------------------------------------------
// A chunk of L packed bytes holds 2L consecutive weights: byte b's low nibble is element 2b, its
// high nibble element 2b+1. Instead of shuffling weights, the activations are permuted once per
// call into [even elements of the chunk | odd elements of the chunk], so the low nibbles of L bytes
// meet x_even and the high nibbles x_odd, each as one plain vector FMA.
// Nibble -> fp32: with 16 lanes (AVX-512) one table lookup into the 16 values (u-8)*scale of the
// current group; with fewer lanes, convert and multiply. Both give exactly (u-8)*scale.

template <int MT, int NR>
HWY_INLINE void Int4Tile(const uint8_t* const* rows, const float* const* srows, int64_t K, int64_t G,
                         const float* Xp, int64_t ldxp, float* Y, int64_t ldy) {
  const DF df;
  const hn::RebindToSigned<DF> di;
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<uint8_t, DF> d8;
  constexpr size_t kMaxL = hn::MaxLanes(DF());
  const int64_t L = int64_t(hn::Lanes(df));
  VF acc[MT][NR];
  for (int t = 0; t < MT; ++t)
    for (int r = 0; r < NR; ++r) acc[t][r] = hn::Zero(df);
  HWY_ALIGN float lut_base[16];
  for (int i = 0; i < 16; ++i) lut_base[i] = float(i - 8);
  const int64_t groups = K / G;
  for (int64_t g = 0; g < groups; ++g) {
    VF sv[NR];
    for (int r = 0; r < NR; ++r) {
      sv[r] = hn::Set(df, srows[r][g]);
      if constexpr (kMaxL == 16) sv[r] = hn::Mul(hn::Load(df, lut_base), sv[r]);  // scaled table
    }
    for (int64_t k = g * G; k < (g + 1) * G; k += 2 * L) {
      VF wl[NR], wh[NR];
      for (int r = 0; r < NR; ++r) {
        const auto u = hn::PromoteTo(du, hn::LoadU(d8, rows[r] + k / 2));
        const auto lo = hn::BitCast(di, hn::And(u, hn::Set(du, 0xFu)));
        const auto hi = hn::BitCast(di, hn::ShiftRight<4>(u));
        if constexpr (kMaxL == 16) {
          wl[r] = hn::TableLookupLanes(sv[r], hn::IndicesFromVec(df, lo));
          wh[r] = hn::TableLookupLanes(sv[r], hn::IndicesFromVec(df, hi));
        } else {
          wl[r] = hn::Mul(hn::ConvertTo(df, hn::Sub(lo, hn::Set(di, 8))), sv[r]);
          wh[r] = hn::Mul(hn::ConvertTo(df, hn::Sub(hi, hn::Set(di, 8))), sv[r]);
        }
      }
      for (int t = 0; t < MT; ++t) {
        const VF xe = hn::LoadU(df, Xp + t * ldxp + k);
        const VF xo = hn::LoadU(df, Xp + t * ldxp + k + L);
        for (int r = 0; r < NR; ++r) {
          acc[t][r] = hn::MulAdd(wl[r], xe, acc[t][r]);
          acc[t][r] = hn::MulAdd(wh[r], xo, acc[t][r]);
        }
      }
    }
  }
  for (int t = 0; t < MT; ++t)
    for (int r = 0; r < NR; ++r) Y[t * ldy + r] = hn::GetLane(hn::SumOfLanes(df, acc[t][r]));
}

template <int NR>
HWY_INLINE void Int4TokLoop(const uint8_t* const* rows, const float* const* srows, int64_t K, int64_t G,
                            const float* Xp, int64_t mb, int64_t ldxp, float* Y, int64_t ldy) {
  int64_t t = 0;
  for (; t + kTokTile <= mb; t += kTokTile) Int4Tile<kTokTile, NR>(rows, srows, K, G, Xp + t * ldxp, ldxp, Y + t * ldy, ldy);
  switch (mb - t) {
    case 3: Int4Tile<3, NR>(rows, srows, K, G, Xp + t * ldxp, ldxp, Y + t * ldy, ldy); break;
    case 2: Int4Tile<2, NR>(rows, srows, K, G, Xp + t * ldxp, ldxp, Y + t * ldy, ldy); break;
    case 1: Int4Tile<1, NR>(rows, srows, K, G, Xp + t * ldxp, ldxp, Y + t * ldy, ldy); break;
    default: break;
  }
}

bool Int4Supported(int64_t K, int64_t G) {
  const DF df;
  return G > 0 && K % G == 0 && G % (2 * int64_t(hn::Lanes(df))) == 0;
}

void Int4EvenOdd(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                 int64_t n1) {
  const int64_t K = W.K, G = W.group, gpr = W.groups_per_row();
  const int64_t bytes_per_row = W.words_per_row() * 4;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(W.packed);
  // Scales as fp32 for the rows of one tile (bf16 on disk is converted per group, cheap: 1/G).
  thread_local std::vector<float> xp, sbuf;
  xp.resize(size_t(std::min(M, kTokBlock) * K));
  sbuf.resize(size_t(kRowTile * gpr));
  auto row_scales = [&](int64_t n, int slot) {
    float* s = sbuf.data() + slot * gpr;
    for (int64_t g = 0; g < gpr; ++g) s[g] = W.scale_at(n, g);
    return s;
  };
  for (int64_t m0 = 0; m0 < M; m0 += kTokBlock) {
    const int64_t mb = std::min(kTokBlock, M - m0);
    for (int64_t t = 0; t < mb; ++t) PermuteEvenOdd(X + (m0 + t) * ldx, K, xp.data() + t * K);
    float* Yb = Y + m0 * ldy;
    int64_t n = n0;
    for (; n + kRowTile <= n1; n += kRowTile) {
      const uint8_t* rows[kRowTile];
      const float* srows[kRowTile];
      for (int r = 0; r < kRowTile; ++r) {
        rows[r] = base + (n + r) * bytes_per_row;
        srows[r] = row_scales(n + r, r);
      }
      Int4TokLoop<kRowTile>(rows, srows, K, G, xp.data(), mb, K, Yb + n, ldy);
    }
    for (; n < n1; ++n) {
      const uint8_t* rows[1] = {base + n * bytes_per_row};
      const float* srows[1] = {row_scales(n, 0)};
      Int4TokLoop<1>(rows, srows, K, G, xp.data(), mb, K, Yb + n, ldy);
    }
  }
}


// ---- INT4, word-native (the decode path) ----------------------------------------------------
// A chunk of 8L weights is L packed words, loaded as one vector. Nibble i of every word (bits
// 4i..4i+3, element 8j+i of word j) becomes L fp32 weights by one shift and one lookup into the
// constant table {u - 8}; the activations are permuted once per call so that lane j of step i meets
// x[8j + i] (PermuteWordNibbles). Per 8L weights and row that is 1 load, 7 shifts, 8 lookups and
// 8 FMAs; the group scale is applied once per chunk and row (lane j belongs to group
// (chunk * 8L + 8j) / G), not once per weight. For one token the 8 products are summed unscaled
// into a temporary and folded into the accumulator times the scale vector; for a token tile the
// decoded weights are scaled once and reused by every token.
// Preconditions (Int4WordSupported): L >= 8, K % 8L == 0, G % 8 == 0, and either G % 8L == 0
// (chunk inside one group) or 8L % G == 0 with at most 4 groups per chunk (one 128-bit scale load).

using DU = hn::RebindToUnsigned<DF>;
using VU = hn::Vec<DU>;

template <int i>
HWY_INLINE VF Nibble(VU v, VF lut) {
  const DF df;
  const VU s = hn::ShiftRight<4 * i>(v);
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  return VF{_mm512_permutexvar_ps(s.raw, lut.raw)};  // uses only the low 4 index bits: no mask
#else
  const DU du;
  const hn::RebindToSigned<DF> di;
  if constexpr (hn::MaxLanes(DF()) == 16) {
    return hn::TableLookupLanes(lut, hn::IndicesFromVec(df, hn::And(s, hn::Set(du, 0xFu))));
  } else {
    (void)lut;
    return hn::ConvertTo(df, hn::Sub(hn::BitCast(di, hn::And(s, hn::Set(du, 0xFu))), hn::Set(di, 8)));
  }
#endif
}

// One load per packed weight vector: GCC otherwise folds it into each of the 7 shifts in Nibble<i>
// as a memory operand, i.e. every DRAM-streamed line is loaded 8 times (see Bf16PairTile).
HWY_INLINE VU Int4LoadOnce(DU du, const uint32_t* p) {
  VU v = hn::LoadU(du, p);
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  asm volatile("" : "+v"(v.raw));
#endif
  return v;
}

// xw[c + i*L + j] = x[c + 8j + i] for every chunk c of 8L values (K % 8L == 0).
HWY_INLINE void PermuteWordNibbles(const float* x, int64_t K, int64_t L, float* o) {
  for (int64_t c = 0; c < K; c += 8 * L)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t i = 0; i < 8; ++i) o[c + i * L + j] = x[c + 8 * j + i];
}

template <int MT, int NR>
HWY_INLINE void Int4WordChunk(const VU* v, const VF* sv, VF lut, const float* Xw, int64_t ldx, int64_t c,
                              VF (&acc)[MT][NR]) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  const float* x = Xw + c;
  if constexpr (MT == 1) {
    VF tmp[NR];
#define MIXQ_NIB(I)                                                                        \
  {                                                                                        \
    const VF xi = hn::LoadU(df, x + (I) * L);                                              \
    MIXQ_UNROLL for (int r = 0; r < NR; ++r)                                               \
      tmp[r] = (I) == 0 ? hn::Mul(Nibble<I>(v[r], lut), xi) : hn::MulAdd(Nibble<I>(v[r], lut), xi, tmp[r]); \
  }
    MIXQ_NIB(0) MIXQ_NIB(1) MIXQ_NIB(2) MIXQ_NIB(3) MIXQ_NIB(4) MIXQ_NIB(5) MIXQ_NIB(6) MIXQ_NIB(7)
#undef MIXQ_NIB
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[0][r] = hn::MulAdd(tmp[r], sv[r], acc[0][r]);
  } else {
#define MIXQ_NIB(I)                                                        \
  {                                                                        \
    VF xi[MT];                                                             \
    MIXQ_UNROLL for (int t = 0; t < MT; ++t) xi[t] = hn::LoadU(df, x + t * ldx + (I) * L); \
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) {                             \
      const VF w = hn::Mul(Nibble<I>(v[r], lut), sv[r]);                   \
      MIXQ_UNROLL for (int t = 0; t < MT; ++t) acc[t][r] = hn::MulAdd(w, xi[t], acc[t][r]); \
    }                                                                      \
  }
    MIXQ_NIB(0) MIXQ_NIB(1) MIXQ_NIB(2) MIXQ_NIB(3) MIXQ_NIB(4) MIXQ_NIB(5) MIXQ_NIB(6) MIXQ_NIB(7)
#undef MIXQ_NIB
  }
}

// rows: NR packed rows; srows: their fp32 scales (padded by 4 floats for the 128-bit loads).
template <int MT, int NR>
HWY_INLINE void Int4WordTile(const uint32_t* const* rows, const float* const* srows, int64_t K, int64_t G,
                             const float* Xw, int64_t ldx, float* Y, int64_t ldy, const uint8_t* pf) {
  const DF df;
  const DU du;
  const hn::RebindToSigned<DF> di;
  const int64_t L = int64_t(hn::Lanes(df)), C = 8 * L;
  HWY_ALIGN float lut_v[16];
  for (int i = 0; i < 16; ++i) lut_v[i] = float(i - 8);
  const VF lut = hn::LoadU(df, lut_v);  // first L entries used only on 16-lane targets
  VF acc[MT][NR];
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[t][r] = hn::Zero(df);
  VU v[NR];
  VF sv[NR];
  if (G % C == 0) {
    const int64_t cpg = G / C;
    for (int64_t g = 0, c = 0; c < K; ++g) {
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) sv[r] = hn::Set(df, srows[r][g]);
      for (int64_t cc = 0; cc < cpg; ++cc, c += C) {
        if (pf) {
          PrefetchLines(pf, NR * L * 4);
          pf += NR * L * 4;
        }
        MIXQ_UNROLL for (int r = 0; r < NR; ++r) v[r] = Int4LoadOnce(du, rows[r] + c / 8);
        Int4WordChunk<MT, NR>(v, sv, lut, Xw, ldx, c, acc);
      }
    }
  } else {
    HWY_ALIGN int32_t sidx_v[16];
    for (int64_t j = 0; j < 16; ++j) sidx_v[j] = int32_t(8 * j / G);
    const auto sidx = hn::IndicesFromVec(df, hn::Load(di, sidx_v));
    const int64_t gpc = C / G;
    for (int64_t c = 0, g = 0; c < K; c += C, g += gpc) {
      if (pf) {
        PrefetchLines(pf, NR * L * 4);
        pf += NR * L * 4;
      }
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
        sv[r] = hn::TableLookupLanes(hn::LoadDup128(df, srows[r] + g), sidx);
        v[r] = Int4LoadOnce(du, rows[r] + c / 8);
      }
      Int4WordChunk<MT, NR>(v, sv, lut, Xw, ldx, c, acc);
    }
  }
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) Y[t * ldy + r] = hn::GetLane(hn::SumOfLanes(df, acc[t][r]));
}

template <int NR>
HWY_INLINE void Int4WordTokLoop(const uint32_t* const* rows, const float* const* srows, int64_t K, int64_t G,
                                const float* Xw, int64_t mb, int64_t ldx, float* Y, int64_t ldy, const uint8_t* pf) {
  int64_t t = 0;
  for (; t + kTokTile <= mb; t += kTokTile, pf = nullptr)
    Int4WordTile<kTokTile, NR>(rows, srows, K, G, Xw + t * ldx, ldx, Y + t * ldy, ldy, pf);
  switch (mb - t) {
    case 3: Int4WordTile<3, NR>(rows, srows, K, G, Xw + t * ldx, ldx, Y + t * ldy, ldy, pf); break;
    case 2: Int4WordTile<2, NR>(rows, srows, K, G, Xw + t * ldx, ldx, Y + t * ldy, ldy, pf); break;
    case 1: Int4WordTile<1, NR>(rows, srows, K, G, Xw + t * ldx, ldx, Y + t * ldy, ldy, pf); break;
    default: break;
  }
}

bool Int4WordSupported(int64_t K, int64_t G) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df)), C = 8 * L;
  if (L < 8 || K % C != 0 || G <= 0 || G % 8 != 0 || K % G != 0) return false;
  return G % C == 0 || (C % G == 0 && C / G <= 4);
}

HWY_INLINE int64_t ScaleSize(const Int4Matrix& W) { return W.scale_type == ScaleType::F32 ? 4 : 2; }
HWY_INLINE const uint8_t* ScaleBytes(const Int4Matrix& W, int64_t n) {
  return static_cast<const uint8_t*>(W.scale) + n * W.groups_per_row() * ScaleSize(W);
}

// Row scales of one row as fp32 into s[0, gpr) (+ 4 padding floats for LoadDup128).
HWY_INLINE void RowScales(const Int4Matrix& W, int64_t n, float* s) {
  const int64_t gpr = W.groups_per_row();
  if (W.scale_type == ScaleType::F32) {
    const float* src = static_cast<const float*>(W.scale) + n * gpr;
    std::copy(src, src + gpr, s);
  } else {
    const DF df;
    const DU du;
    const hn::Rebind<uint16_t, DF> d16;
    const int64_t L = int64_t(hn::Lanes(df));
    const uint16_t* src = static_cast<const uint16_t*>(W.scale) + n * gpr;
    int64_t g = 0;
    for (; g + L <= gpr; g += L)
      hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, src + g)))), df, s + g);
    for (; g < gpr; ++g) s[g] = bf16_to_f32(src[g]);
  }
  for (int i = 0; i < 4; ++i) s[gpr + i] = 0.f;
}

void Int4Word(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
              int64_t n1) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  const int64_t K = W.K, G = W.group, gpr = W.groups_per_row(), wpr = W.words_per_row();
  thread_local std::vector<float> xw, sbuf;
  xw.resize(size_t(std::min(M, kTokBlock) * K));
  sbuf.resize(size_t(kRowTile * (gpr + 4)));
  for (int64_t m0 = 0; m0 < M; m0 += kTokBlock) {
    const int64_t mb = std::min(kTokBlock, M - m0);
    for (int64_t t = 0; t < mb; ++t) PermuteWordNibbles(X + (m0 + t) * ldx, K, L, xw.data() + t * K);
    float* Yb = Y + m0 * ldy;
    int64_t n = n0;
    for (; n + kRowTile <= n1; n += kRowTile) {
      const uint32_t* rows[kRowTile];
      const float* srows[kRowTile];
      for (int r = 0; r < kRowTile; ++r) {
        rows[r] = W.packed + (n + r) * wpr;
        float* s = sbuf.data() + r * (gpr + 4);
        RowScales(W, n + r, s);
        srows[r] = s;
      }
      // Prefetch two tiles ahead: the weights linearly as they are consumed, the next tile's scales
      // (read at its start) in one go.
      const uint8_t* pf = reinterpret_cast<const uint8_t*>(rows[0] + 2 * kRowTile * wpr);
      PrefetchLines(ScaleBytes(W, n + kRowTile), kRowTile * gpr * ScaleSize(W));
      Int4WordTokLoop<kRowTile>(rows, srows, K, G, xw.data(), mb, K, Yb + n, ldy, pf);
    }
    for (; n < n1; ++n) {
      RowScales(W, n, sbuf.data());
      const uint32_t* rows[1] = {W.packed + n * wpr};
      const float* srows[1] = {sbuf.data()};
      Int4WordTokLoop<1>(rows, srows, K, G, xw.data(), mb, K, Yb + n, ldy, nullptr);
    }
  }
}

void MatmulInt4(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                int64_t n1) {
  if (Int4WordSupported(W.K, W.group)) return Int4Word(W, X, M, ldx, Y, ldy, n0, n1);
  if (Int4Supported(W.K, W.group)) return Int4EvenOdd(W, X, M, ldx, Y, ldy, n0, n1);
  matmul_int4_ref(W, X, M, ldx, Y, ldy, n0, n1);
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
namespace {
// Thread chunks start on a multiple of this: the INT4 rows16 tile (a multiple of every other row
// tile), so a chunk boundary never splits a tile.
constexpr int64_t kRowTileOuter = 16;
}
HWY_EXPORT(MatmulF32);
HWY_EXPORT(MatmulBf16);
HWY_EXPORT(MatmulFp8);
HWY_EXPORT(MatmulInt4);

void matmul_f32(const float* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                int64_t n1) {
  HWY_DYNAMIC_DISPATCH(MatmulF32)(W, K, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_bf16(const uint16_t* W, int64_t K, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                 int64_t n0, int64_t n1) {
  HWY_DYNAMIC_DISPATCH(MatmulBf16)(W, K, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_fp8_block(const Fp8BlockMatrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1) {
  HWY_DYNAMIC_DISPATCH(MatmulFp8)(W, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_int4(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0,
                 int64_t n1) {
  // Decode (M <= kInt4VnniMaxM) on AVX-512 VNNI: split int8 activations, stated error bound
  // (matmul_int4_vnni.h); prefill and other CPUs take the exact fp32 kernel.
  // Interleaved weights (read into RAM, matmul_int4_rows16.h) take it for any M (use_int4_vnni).
  if (use_int4_vnni(W, M)) return matmul_int4_vnni(W, X, M, ldx, Y, ldy, n0, n1);
  HWY_DYNAMIC_DISPATCH(MatmulInt4)(W, X, M, ldx, Y, ldy, n0, n1);
}
void matmul_int4_exact(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                       int64_t n0, int64_t n1) {
  if (W.rows16) fail("matmul_int4_exact: the exact kernel reads the native INT4 layout, not rows16");
  HWY_DYNAMIC_DISPATCH(MatmulInt4)(W, X, M, ldx, Y, ldy, n0, n1);
}

void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t tiles = (n + kRowTileOuter - 1) / kRowTileOuter;
  const int64_t grain_tiles = std::max<int64_t>(1, (grain + kRowTileOuter - 1) / kRowTileOuter);
  ThreadPool::global().parallel_for(size_t(tiles), size_t(grain_tiles), [&](size_t b, size_t e, size_t) {
    fn(int64_t(b) * kRowTileOuter, std::min(n, int64_t(e) * kRowTileOuter));
  });
}

const char* matmul_target_name() {
  const int64_t bits = int64_t(hwy::SupportedTargets()) & int64_t(HWY_TARGETS);
  return hwy::TargetName(bits & -bits);
}

}  // namespace mixq::kernels
#endif
