// Fast attention over the KV cache (Highway). Work runs over (query row, KV head) pairs: the query
// heads that share a KV head (6 of them for MiniMax-M2's 48/8) are handled together, so each K and
// V row is read and decoded to fp32 once per group rather than once per head. Per pair:
//   1. scores: K rows are decoded a block at a time into an fp32 scratch block (kPosBlock rows, in
//      L1); each head takes 4 positions at once (4 independent FMA chains) and reduces the 4
//      accumulators together (Reduce4), instead of one horizontal sum per position;
//   2. an fp32 softmax per head (vector max, exp and sum);
//   3. p . V: V rows decoded per block; every head's output chunk stays in registers while the
//      block's rows stream by (up to kMaxRun heads x 4 vectors on AVX-512).
// A BF16 cache on AVX-512 (the default cache, head_dim a multiple of 32) skips the decoded block:
// K and V are read in place as bf16 pairs (ScoresBf16, PvChunkBf16).
// Numerics: scores are single-accumulator dot products over the head dims, as in the reference,
// with a different final reduction tree; p . V adds positions in order. Within 2e-5 of
// attention_ref (tests/kernels/attention_test.cpp).
// Measured (engine_kernels_bench BM_AttentionDecode, one thread, MiniMax-M2 heads, BF16 cache):
// see docs/perf-engine.md.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/unroll.h"
#include "util/dtype.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/attention.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/aligned_allocator.h"
#include "hwy/contrib/math/math-inl.h"
#include "kernels/cpu/even_odd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Positions per decoded block: 32 rows x 128 dims x 4 B = 16 KB for K (or V), resident in L1
// while every head of the group reads it.
constexpr int64_t kPosBlock = kAttentionPosBlock;
// Query heads per run. The p . V pass keeps kMaxRun x kPvVecs accumulators in registers:
// 6 x 4 + 4 V vectors + 1 broadcast = 29 of AVX-512's 32; 6 x 2 + 2 + 1 = 15 of AVX2's 16.
constexpr int kMaxRun = 6;
// Positions of K and of V requested up front by each run (128 x 256 B x 2 = 64 KB at d = 128 in
// BF16: a short decode context's whole share, in flight at once).
constexpr int64_t kPrefetchRows = 128;
constexpr int kPvVecs = HWY_MAX_BYTES >= 64 ? 4 : 2;


template <KvType T>
HWY_INLINE VF LoadKv(DF df, const void* base, int64_t i) {
  if constexpr (T == KvType::F32) {
    return hn::LoadU(df, static_cast<const float*>(base) + i);
  } else if constexpr (T == KvType::BF16) {
    const hn::Rebind<uint16_t, DF> d16;
    const hn::RebindToUnsigned<DF> du;
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, static_cast<const uint16_t*>(base) + i))));
  } else {
    const hn::Rebind<uint8_t, DF> d8;
    const hn::RebindToUnsigned<DF> du;
    const auto u = hn::PromoteTo(du, hn::LoadU(d8, static_cast<const uint8_t*>(base) + i));
    const auto bits = hn::Or(hn::ShiftLeft<20>(hn::And(u, hn::Set(du, 0x7Fu))), hn::ShiftLeft<24>(hn::And(u, hn::Set(du, 0x80u))));
    return hn::Mul(hn::BitCast(df, bits), hn::Set(df, 0x1p120f));
  }
}

// Rows [j0, j0 + jn) of one KV head (element offset `off` within a position) as fp32 rows of d
// values, ld apart, at dst.
template <KvType T>
HWY_INLINE void DecodeRows(const void* base, int64_t stride, int64_t off, int64_t j0, int64_t jn, int64_t d, int64_t ld,
                           float* dst) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df)), dv = d - d % L;
  const int64_t es = kv_type_size(T), row_bytes = d * es;
  for (int64_t j = 0; j < jn; ++j) {
    const int64_t src = (j0 + j) * stride + off;
    // The same row of the next block: fetched while this block is computed on (without it, a
    // cold cache - the weights stream through it between two layers - stalls every block).
    // Past the end of the cache is harmless (prefetches do not fault).
    const auto* ahead = static_cast<const uint8_t*>(base) + (src + kPosBlock * stride) * es;
    for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b, 0, 3);
    float* row = dst + j * ld;
    int64_t i = 0;
    for (; i < dv; i += L) hn::StoreU(LoadKv<T>(df, base, src + i), df, row + i);
    for (; i < d; ++i) row[i] = kv_load(T, base, src + i);
  }
}

// Halves a vector down to 4 lanes (adding the halves) and stores them.
#if HWY_TARGET != HWY_SCALAR
template <class D, class V>
HWY_INLINE void StoreSum4(D d, V v, float* out) {
  if constexpr (hn::MaxLanes(d) > 4) {
    const hn::Half<D> dh;
    StoreSum4(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)), out);
  } else {
    hn::StoreU(v, d, out);
  }
}
#endif

// out[r] = sum of the lanes of a_r, for 4 vectors at once: two interleave steps sum each 128-bit
// block's 4 lanes into lane r of that block, then the blocks are added together.
HWY_INLINE void Reduce4(VF a0, VF a1, VF a2, VF a3, float* out) {
  const DF df;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (hn::MaxLanes(df) >= 4) {
    const hn::Repartition<uint64_t, DF> d64;
    const VF a01 = hn::Add(hn::InterleaveLower(df, a0, a1), hn::InterleaveUpper(df, a0, a1));  // a0 a1 a0 a1
    const VF a23 = hn::Add(hn::InterleaveLower(df, a2, a3), hn::InterleaveUpper(df, a2, a3));  // a2 a3 a2 a3
    const auto lo = hn::InterleaveLower(d64, hn::BitCast(d64, a01), hn::BitCast(d64, a23));
    const auto hi = hn::InterleaveUpper(d64, hn::BitCast(d64, a01), hn::BitCast(d64, a23));
    StoreSum4(df, hn::Add(hn::BitCast(df, lo), hn::BitCast(df, hi)), out);
    return;
  }
#endif
  {
    out[0] = hn::GetLane(hn::SumOfLanes(df, a0));
    out[1] = hn::GetLane(hn::SumOfLanes(df, a1));
    out[2] = hn::GetLane(hn::SumOfLanes(df, a2));
    out[3] = hn::GetLane(hn::SumOfLanes(df, a3));
  }
}

// p[h][j] = q[h] . k_j (unscaled) for HG heads and the jn rows of kf (fp32, ld apart). Tiles of
// HG heads x 4 positions: each q and k vector load feeds several FMAs, 4 HG independent chains.
template <int HG>
HWY_INLINE void Scores(const float* const* q, const float* kf, int64_t jn, int64_t d, int64_t ld, float* const* p) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df)), dv = d - d % L;
  int64_t j = 0;
  for (; j + 4 <= jn; j += 4) {
    const float* k0 = kf + j * ld;
    VF a[HG][4];
    MIXQ_UNROLL for (int h = 0; h < HG; ++h)
      MIXQ_UNROLL for (int r = 0; r < 4; ++r) a[h][r] = hn::Zero(df);
    for (int64_t i = 0; i < dv; i += L) {
      VF kv[4];
      MIXQ_UNROLL for (int r = 0; r < 4; ++r) kv[r] = hn::LoadU(df, k0 + r * ld + i);
      MIXQ_UNROLL for (int h = 0; h < HG; ++h) {
        const VF qv = hn::LoadU(df, q[h] + i);
        MIXQ_UNROLL for (int r = 0; r < 4; ++r) a[h][r] = hn::MulAdd(qv, kv[r], a[h][r]);
      }
    }
    MIXQ_UNROLL for (int h = 0; h < HG; ++h) {
      Reduce4(a[h][0], a[h][1], a[h][2], a[h][3], p[h] + j);
      if (dv < d)
        for (int r = 0; r < 4; ++r)
          for (int64_t i = dv; i < d; ++i) p[h][j + r] += q[h][i] * k0[r * ld + i];
    }
  }
  for (; j < jn; ++j) {
    const float* kr = kf + j * ld;
    for (int h = 0; h < HG; ++h) {
      VF a = hn::Zero(df);
      for (int64_t i = 0; i < dv; i += L) a = hn::MulAdd(hn::LoadU(df, q[h] + i), hn::LoadU(df, kr + i), a);
      float s = hn::GetLane(hn::SumOfLanes(df, a));
      for (int64_t i = dv; i < d; ++i) s += q[h][i] * kr[i];
      p[h][j] = s;
    }
  }
}

// p[0..n) <- exp(scale * p - max(scale * p)); returns their sum.
HWY_INLINE float SoftmaxNumerators(float* p, int64_t n, float scale) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df)), nv = n - n % L;
  const VF vs = hn::Set(df, scale);
  float mx = -INFINITY;
  if (nv > 0) {
    VF m = hn::Set(df, -INFINITY);
    for (int64_t j = 0; j < nv; j += L) {
      const VF x = hn::Mul(hn::LoadU(df, p + j), vs);
      hn::StoreU(x, df, p + j);
      m = hn::Max(m, x);
    }
    mx = hn::GetLane(hn::MaxOfLanes(df, m));
  }
  for (int64_t j = nv; j < n; ++j) mx = std::max(mx, p[j] *= scale);
  const VF vmx = hn::Set(df, mx);
  VF acc = hn::Zero(df);
  for (int64_t j = 0; j < nv; j += L) {
    const VF e = hn::Exp(df, hn::Sub(hn::LoadU(df, p + j), vmx));
    hn::StoreU(e, df, p + j);
    acc = hn::Add(acc, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(df, acc));
  for (int64_t j = nv; j < n; ++j) sum += (p[j] = std::exp(p[j] - mx));
  return sum;
}

// o[g][c .. c + CV*L) += sum over the block's rows j of p[g][j] * vf[j][c ..], for G heads.
template <int G, int CV>
HWY_INLINE void PvChunk(const float* vf, int64_t jn, int64_t ld, int64_t c, const float* const* p, float* const* o) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  VF acc[G][CV];
  MIXQ_UNROLL for (int g = 0; g < G; ++g)
    MIXQ_UNROLL for (int v = 0; v < CV; ++v) acc[g][v] = hn::LoadU(df, o[g] + c + v * L);
  for (int64_t j = 0; j < jn; ++j) {
    VF vv[CV];
    MIXQ_UNROLL for (int v = 0; v < CV; ++v) vv[v] = hn::LoadU(df, vf + j * ld + c + v * L);
    MIXQ_UNROLL for (int g = 0; g < G; ++g) {
      const VF pg = hn::Set(df, p[g][j]);
      MIXQ_UNROLL for (int v = 0; v < CV; ++v) acc[g][v] = hn::MulAdd(pg, vv[v], acc[g][v]);
    }
  }
  MIXQ_UNROLL for (int g = 0; g < G; ++g)
    MIXQ_UNROLL for (int v = 0; v < CV; ++v) hn::StoreU(acc[g][v], df, o[g] + c + v * L);
}

template <int G>
HWY_INLINE void PvBlock(const float* vf, int64_t jn, int64_t d, int64_t ld, const float* const* p, float* const* o) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df)), dv = d - d % L;
  int64_t c = 0;
  for (; c + kPvVecs * L <= dv; c += kPvVecs * L) PvChunk<G, kPvVecs>(vf, jn, ld, c, p, o);
  for (; c < dv; c += L) PvChunk<G, 1>(vf, jn, ld, c, p, o);
  if (dv < d)
    for (int g = 0; g < G; ++g)
      for (int64_t j = 0; j < jn; ++j)
        for (int64_t i = dv; i < d; ++i) o[g][i] += p[g][j] * vf[j * ld + i];
}

// ---- BF16 cache read in place (AVX-512) ---------------------------------------------------------
// K and V rows read as bf16 pairs (even_odd-inl.h), with no scratch block (the decoded path stores
// and reloads every value). Queries and the p.V outputs are kept in even/odd order (RunOn).

template <int HG>
HWY_INLINE void ScoresBf16(const float* const* q, const uint16_t* k, int64_t stride, int64_t jn, int64_t d,
                           float* const* p) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t L = int64_t(hn::Lanes(df));
  const auto hi_mask = hn::Set(du, 0xFFFF0000u);
  int64_t j = 0;
  for (; j + 4 <= jn; j += 4) {
    VF a[HG][4];
    MIXQ_UNROLL for (int h = 0; h < HG; ++h)
      MIXQ_UNROLL for (int r = 0; r < 4; ++r) a[h][r] = hn::Zero(df);
    for (int64_t i = 0; i < d; i += 2 * L) {
      VF ke[4], ko[4];
      MIXQ_UNROLL for (int r = 0; r < 4; ++r) {
        const auto v = hn::LoadU(du, reinterpret_cast<const uint32_t*>(k + (j + r) * stride + i));
        ke[r] = hn::BitCast(df, hn::ShiftLeft<16>(v));
        ko[r] = hn::BitCast(df, hn::And(v, hi_mask));
      }
      MIXQ_UNROLL for (int h = 0; h < HG; ++h) {
        const VF qe = hn::LoadU(df, q[h] + i), qo = hn::LoadU(df, q[h] + i + L);
        MIXQ_UNROLL for (int r = 0; r < 4; ++r) a[h][r] = hn::MulAdd(qo, ko[r], hn::MulAdd(qe, ke[r], a[h][r]));
      }
    }
    MIXQ_UNROLL for (int h = 0; h < HG; ++h) Reduce4(a[h][0], a[h][1], a[h][2], a[h][3], p[h] + j);
  }
  for (; j < jn; ++j)
    for (int h = 0; h < HG; ++h) {
      VF a = hn::Zero(df);
      for (int64_t i = 0; i < d; i += 2 * L) {
        const auto v = hn::LoadU(du, reinterpret_cast<const uint32_t*>(k + j * stride + i));
        a = hn::MulAdd(hn::LoadU(df, q[h] + i), hn::BitCast(df, hn::ShiftLeft<16>(v)), a);
        a = hn::MulAdd(hn::LoadU(df, q[h] + i + L), hn::BitCast(df, hn::And(v, hi_mask)), a);
      }
      p[h][j] = hn::GetLane(hn::SumOfLanes(df, a));
    }
}

// o[g][c .. c + 2 CV L) (even/odd order) += sum over the rows j of p[g][j] * v_j, for G heads.
template <int G, int CV>
HWY_INLINE void PvChunkBf16(const uint16_t* v, int64_t stride, int64_t jn, int64_t c, const float* const* p,
                            float* const* o) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const int64_t L = int64_t(hn::Lanes(df));
  const auto hi_mask = hn::Set(du, 0xFFFF0000u);
  VF acc[G][2 * CV];
  MIXQ_UNROLL for (int g = 0; g < G; ++g)
    MIXQ_UNROLL for (int u = 0; u < 2 * CV; ++u) acc[g][u] = hn::LoadU(df, o[g] + c + u * L);
  for (int64_t j = 0; j < jn; ++j) {
    VF vv[2 * CV];
    MIXQ_UNROLL for (int u = 0; u < CV; ++u) {
      const auto w = hn::LoadU(du, reinterpret_cast<const uint32_t*>(v + j * stride + c + 2 * u * L));
      vv[2 * u] = hn::BitCast(df, hn::ShiftLeft<16>(w));
      vv[2 * u + 1] = hn::BitCast(df, hn::And(w, hi_mask));
    }
    MIXQ_UNROLL for (int g = 0; g < G; ++g) {
      const VF pg = hn::Set(df, p[g][j]);
      MIXQ_UNROLL for (int u = 0; u < 2 * CV; ++u) acc[g][u] = hn::MulAdd(pg, vv[u], acc[g][u]);
    }
  }
  MIXQ_UNROLL for (int g = 0; g < G; ++g)
    MIXQ_UNROLL for (int u = 0; u < 2 * CV; ++u) hn::StoreU(acc[g][u], df, o[g] + c + u * L);
}

// 2 x 2 vectors per row and head: 6 heads x 4 accumulators + 4 V vectors + 1 broadcast = 29.
template <int G>
HWY_INLINE void PvBlockBf16(const uint16_t* v, int64_t stride, int64_t jn, int64_t d, const float* const* p,
                            float* const* o) {
  const int64_t L = int64_t(hn::Lanes(DF()));
  int64_t c = 0;
  for (; c + 4 * L <= d; c += 4 * L) PvChunkBf16<G, 2>(v, stride, jn, c, p, o);
  for (; c < d; c += 2 * L) PvChunkBf16<G, 1>(v, stride, jn, c, p, o);
}

// Lines of rows [j0, j1) of one head (row_bytes each), requested ahead of use.
HWY_INLINE void PrefetchRows(const void* base, int64_t stride, int64_t off, int64_t j0, int64_t j1, int64_t es,
                             int64_t row_bytes) {
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t b = 0; b < row_bytes; b += 64)
      __builtin_prefetch(static_cast<const uint8_t*>(base) + (j * stride + off) * es + b, 0, 3);
}

// Where position j0 of a source lives: the base of its pool block (paged) or of the whole cache,
// with j0 made relative to it. Positions j0 .. j0 + kPosBlock - 1 share the block (block_size is
// a multiple of kPosBlock).
HWY_INLINE const void* BlockOf(const KvRows& kv, const void* base, int64_t es, int64_t& j0) {
  if (!kv.block_table) return base;
  const int64_t b = j0 / kv.block_size;
  j0 -= b * kv.block_size;
  return static_cast<const uint8_t*>(base) + kv.block_table[b] * kv.block_stride * es;
}

// Where a run reads K and V. Each source: keys(j0, jn) / values(j0, jn) make rows
// [j0, j0 + jn) ready (and request the next ones), scores<HG> and pv<G> work on them; kPermuted:
// queries and outputs are in the even/odd order of InPlaceBf16.

// Any cache type and target: rows decoded to an fp32 block.
template <KvType T>
struct DecodedKv {
  static constexpr bool kPermuted = false;
  const KvRows& kv;
  int64_t off, d, dp;
  float* block;
  void keys(int64_t j0, int64_t jn) {
    const void* b = BlockOf(kv, kv.k, kv_type_size(T), j0);
    DecodeRows<T>(b, kv.stride, off, j0, jn, d, dp, block);
  }
  void values(int64_t j0, int64_t jn) {
    const void* b = BlockOf(kv, kv.v, kv_type_size(T), j0);
    DecodeRows<T>(b, kv.stride, off, j0, jn, d, dp, block);
  }
  template <int HG>
  void scores(const float* const* q, int64_t jn, float* const* p) const {
    Scores<HG>(q, block, jn, d, dp, p);
  }
  template <int G>
  void pv(int64_t jn, const float* const* p, float* const* o) const {
    PvBlock<G>(block, jn, d, dp, p, o);
  }
};

// A BF16 cache on AVX-512 with head_dim a multiple of 2L: rows read in place.
struct InPlaceBf16 {
  static constexpr bool kPermuted = true;
  const KvRows& kv;
  int64_t off, d, n;
  const uint16_t* k = nullptr;
  const uint16_t* v = nullptr;
  // One block past the first kPrefetchRows, which Run requested up front (paged: the next
  // position block, wherever its pool block is).
  void ahead(const void* base, int64_t j0) const {
    if (kv.block_table) {
      int64_t j = j0 + kPosBlock;
      if (j >= n) return;
      const int64_t jn = std::min(kPosBlock, n - j);
      const void* b = BlockOf(kv, base, 2, j);
      return PrefetchRows(b, kv.stride, off, j, j + jn, 2, 2 * d);
    }
    PrefetchRows(base, kv.stride, off, std::max(j0 + kPosBlock, kPrefetchRows),
                 std::min(n, std::max(j0 + 2 * kPosBlock, kPrefetchRows)), 2, 2 * d);
  }
  void keys(int64_t j0, int64_t) {
    ahead(kv.k, j0);
    const void* b = BlockOf(kv, kv.k, 2, j0);
    k = static_cast<const uint16_t*>(b) + off + j0 * kv.stride;
  }
  void values(int64_t j0, int64_t) {
    ahead(kv.v, j0);
    const void* b = BlockOf(kv, kv.v, 2, j0);
    v = static_cast<const uint16_t*>(b) + off + j0 * kv.stride;
  }
  template <int HG>
  void scores(const float* const* q, int64_t jn, float* const* p) const {
    ScoresBf16<HG>(q, k, kv.stride, jn, d, p);
  }
  template <int G>
  void pv(int64_t jn, const float* const* p, float* const* o) const {
    PvBlockBf16<G>(v, kv.stride, jn, d, p, o);
  }
};

// f.template operator()<HG>(g) over tiles of HG <= 3 heads covering [0, G) (3 x 4 accumulators +
// 4 k vectors + the q vectors; 4 heads = 2 + 2, not 3 + 1).
template <class F>
HWY_INLINE void ForHeadTiles(int G, F&& f) {
  for (int g = 0; g < G;) {
    const int left = G - g, hg = left == 4 ? 2 : std::min(3, left);
    if (hg == 3) f.template operator()<3>(g);
    else if (hg == 2) f.template operator()<2>(g);
    else f.template operator()<1>(g);
    g += hg;
  }
}

// f.template operator()<G>() for a run of G <= kMaxRun heads.
template <class F>
HWY_INLINE void WithRunSize(int G, F&& f) {
  switch (G) {
    case 1: return f.template operator()<1>();
    case 2: return f.template operator()<2>();
    case 3: return f.template operator()<3>();
    case 4: return f.template operator()<4>();
    case 5: return f.template operator()<5>();
    default: return f.template operator()<6>();
  }
}

// Query row t, heads [h0, h0 + G) (all on KV head kvh), over positions [0, n). Scratch, 64-byte
// aligned (a misaligned 64-byte load spans two cache lines and costs two), rows padded to whole
// lines: queries (qs), scores (ps), and for a permuted source the outputs (os); dp, np = padded d, n.
template <class Src>
void RunOn(Src& src, const float* q, int64_t ldq, const AttentionShape& s, float* out, int64_t ldo, int64_t t,
           int64_t h0, int G, int64_t n, float* qs, float* ps, float* os, int64_t dp, int64_t np) {
  const DF df;
  const int64_t d = s.d, L = int64_t(hn::Lanes(df));
  const float* p[kMaxRun];
  float* o[kMaxRun];    // the heads' output rows
  float* acc[kMaxRun];  // where p.V accumulates: o, or os in the permuted order
  for (int g = 0; g < G; ++g) {
    const float* qh = q + t * ldq + (h0 + g) * d;
    float* qp = qs + g * dp;
    if constexpr (Src::kPermuted) PermuteEvenOdd(qh, d, qp);
    else std::copy_n(qh, d, qp);
    p[g] = ps + g * np;
    o[g] = out + t * ldo + (h0 + g) * d;
    acc[g] = Src::kPermuted ? os + g * dp : o[g];
  }
  for (int64_t j0 = 0; j0 < n; j0 += kPosBlock) {
    const int64_t jn = std::min(kPosBlock, n - j0);
    src.keys(j0, jn);
    ForHeadTiles(G, [&]<int HG>(int g) {
      const float* qg[HG];
      float* pg[HG];
      for (int h = 0; h < HG; ++h) {
        qg[h] = qs + (g + h) * dp;
        pg[h] = ps + (g + h) * np + j0;
      }
      src.template scores<HG>(qg, jn, pg);
    });
  }
  float inv[kMaxRun];
  for (int g = 0; g < G; ++g) {
    inv[g] = 1.f / SoftmaxNumerators(ps + g * np, n, s.scale);
    std::fill(acc[g], acc[g] + d, 0.f);
  }
  for (int64_t j0 = 0; j0 < n; j0 += kPosBlock) {
    const int64_t jn = std::min(kPosBlock, n - j0);
    src.values(j0, jn);
    const float* pj[kMaxRun];
    for (int g = 0; g < G; ++g) pj[g] = p[g] + j0;
    WithRunSize(G, [&]<int GG>() { src.template pv<GG>(jn, pj, acc); });
  }
  for (int g = 0; g < G; ++g) {
    if constexpr (Src::kPermuted) {
      UnpermuteEvenOdd(acc[g], d, inv[g], o[g]);
    } else {
      const int64_t dv = d - d % L;
      int64_t i = 0;
      for (; i < dv; i += L) hn::StoreU(hn::Mul(hn::LoadU(df, o[g] + i), hn::Set(df, inv[g])), df, o[g] + i);
      for (; i < d; ++i) o[g][i] *= inv[g];
    }
  }
}

template <KvType T>
void Run(const float* q, int64_t ldq, const AttentionShape& s, const KvRows& kv, float* out, int64_t ldo, int64_t t,
         int64_t h0, int G, int64_t kvh, int64_t n) {
  const int64_t d = s.d, off = kv.head_offset(kvh, d), es = kv_type_size(T);
  const int64_t dp = (d + 15) / 16 * 16, np = (n + 15) / 16 * 16;
  // Per thread: the decoded block, then queries, scores and permuted outputs (see RunOn).
  thread_local hwy::AlignedFreeUniquePtr<float[]> scratch;
  thread_local size_t capacity = 0;
  const size_t need = size_t(kPosBlock * dp + kMaxRun * (2 * dp + np));
  if (capacity < need) {
    scratch = hwy::AllocateAligned<float>(need);
    capacity = need;
  }
  float* block = scratch.get();
  float* qs = block + kPosBlock * dp;
  float* ps = qs + kMaxRun * dp;
  float* os = ps + kMaxRun * np;
  // The first blocks of K and V requested at once (the sources fetch one block ahead after that).
  // (Paged: the first pool block's rows only; the sources fetch the later ones a block ahead.)
  const int64_t first = kv.block_table ? std::min(n, std::min(kv.block_size, kPrefetchRows)) : std::min(n, kPrefetchRows);
  for (const void* base : {kv.k, kv.v}) {
    int64_t j = 0;
    PrefetchRows(BlockOf(kv, base, es, j), kv.stride, off, 0, first, es, d * es);
  }
  if constexpr (T == KvType::BF16 && HWY_MAX_BYTES >= 64) {
    if (d % (2 * int64_t(hn::Lanes(DF()))) == 0) {
      InPlaceBf16 src{kv, off, d, n};
      return RunOn(src, q, ldq, s, out, ldo, t, h0, G, n, qs, ps, os, dp, np);
    }
  }
  DecodedKv<T> src{kv, off, d, dp, block};
  RunOn(src, q, ldq, s, out, ldo, t, h0, G, n, qs, ps, os, dp, np);
}

template <KvType T>
void AttnT(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out, int64_t ldo,
           int64_t item0, int64_t item1) {
  const int64_t group = s.nh / s.nkv;
  for (int64_t it = item0; it < item1;) {
    const int64_t t = it / s.nh, h = it % s.nh, kvh = h / group;
    // The heads from h to the end of kvh's group (or of the range), in runs of at most kMaxRun of
    // about equal size.
    const int64_t len = std::min((kvh + 1) * group - h, item1 - it);
    const int64_t runs = (len + kMaxRun - 1) / kMaxRun;
    const int G = int((len + runs - 1) / runs);
    Run<T>(q, ldq, s, kv, out, ldo, t, h, G, kvh, pos0 + t + 1);
    it += G;
  }
}

void Attention(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
               int64_t ldo, int64_t item0, int64_t item1) {
  switch (kv.type) {
    case KvType::F32: return AttnT<KvType::F32>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
    case KvType::BF16: return AttnT<KvType::BF16>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
    case KvType::FP8: return AttnT<KvType::FP8>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
HWY_EXPORT(Attention);
void attention(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
               int64_t ldo, int64_t item0, int64_t item1) {
  HWY_DYNAMIC_DISPATCH(Attention)(q, ldq, s, pos0, kv, out, ldo, item0, item1);
}
}  // namespace mixq::kernels
#endif
