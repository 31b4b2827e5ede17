// Split-activation INT4 GEMV on AVX-512 VNNI (see matmul_int4_vnni.h for the scheme and the bound).
// Raw intrinsics under a GCC target pragma (Highway 1.0.3, the Debian version, has no VNNI op);
// nothing here runs unless int4_vnni_cpu() says the instructions exist, so the library still runs
// on any x86-64 (matmul_int4 keeps the Highway kernel there).
#include "kernels/cpu/matmul_int4_vnni.h"

#include "kernels/cpu/far_parts.h"
#include "kernels/cpu/matmul_int4_rows16.h"
#include "kernels/cpu/unroll.h"
#include "util/error.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace mixq::kernels {
namespace {

// Limb units 254^(L-1-i), i = 0..L-1, and the largest |q| they represent: 127 * 254^(L-1).
constexpr float kUnit[3] = {kSplitActLimbs == 3 ? 64516.f : 254.f, kSplitActLimbs == 3 ? 254.f : 1.f, 1.f};
constexpr float kInvUnit[3] = {1.f / kUnit[0], 1.f / kUnit[1], 1.f};
constexpr float kQMax = kSplitActLimbs == 3 ? 8193532.f : 32258.f;
static_assert(kSplitActLimbs == 2 || kSplitActLimbs == 3);

// Power-of-two group scale t = 2^e, the smallest with m <= kQMax t, and 1/t (both exact).
// m < 2^-96 (including 0) gives t = inv = 0: the group is treated as zero. A NaN or infinite
// activation gives t = NaN (and zero limbs), so the outputs become NaN as with fp32 math.
inline void pow2_scale(float m, float* t, float* inv) {
  if (std::isnan(m) || m > 0x1.fffffep127f) {
    *t = std::numeric_limits<float>::quiet_NaN();
    *inv = 0.f;
    return;
  }
  if (!(m >= 0x1p-96f)) {
    *t = *inv = 0.f;
    return;
  }
  constexpr int kLog = kSplitActLimbs == 3 ? 22 : 14;  // kQMax in [2^kLog, 2^(kLog+1))
  int e = int((std::bit_cast<uint32_t>(m) >> 23) & 0xFF) - 127 - kLog;  // m / 2^e in [2^kLog, 2^(kLog+1))
  if (m > kQMax * std::bit_cast<float>(uint32_t(e + 127) << 23)) ++e;
  *t = std::bit_cast<float>(uint32_t(e + 127) << 23);
  *inv = std::bit_cast<float>(uint32_t(127 - e) << 23);
}

}  // namespace

void split_activations(const float* x, int64_t K, int8_t* a, float* t) {
  for (int64_t g = 0; g * kSplitActGroup < K; ++g) {
    const float* xg = x + g * kSplitActGroup;
    float m = 0.f;
    for (int i = 0; i < kSplitActGroup; ++i) {
      const float ax = std::fabs(xg[i]);
      if (!(ax <= 0x1.fffffep127f)) {  // NaN or inf
        m = std::numeric_limits<float>::quiet_NaN();
        break;
      }
      m = std::max(m, ax);
    }
    float inv;
    pow2_scale(m, &t[g], &inv);
    for (int i = 0; i < kSplitActGroup; ++i) {
      if (inv == 0.f) {  // zero or non-finite group
        for (int l = 0; l < kSplitActLimbs; ++l) a[l * K + g * kSplitActGroup + i] = 0;
        continue;
      }
      float r = xg[i] * inv;  // q = x / t, exact (power of two), |q| <= kQMax
      for (int l = 0; l < kSplitActLimbs; ++l) {
        // round-to-nearest-even; r - h * unit is exact (an integer multiple below 2^24 taken from
        // a float whose fraction bits fit), |h| <= 127
        const float h = l + 1 < kSplitActLimbs ? std::nearbyint(r * kInvUnit[l]) : std::nearbyint(r);
        if (l + 1 < kSplitActLimbs) r = std::fma(-h, kUnit[l], r);
        a[l * K + g * kSplitActGroup + i] = int8_t(h);
      }
    }
  }
}

bool int4_vnni_cpu() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  return ok;
}

bool int4_vnni_shape_ok(const Int4Matrix& W) {
  const int64_t G = W.group;
  if (W.K <= 0 || W.K % kSplitActGroup != 0 || G <= 0 || W.K % G != 0) return false;
  return G == 32 || G == 64 || G == 128 || G % 128 == 0;
}

namespace {
std::atomic<bool> g_force_exact{false};
}

void force_int4_exact(bool on) { g_force_exact.store(on, std::memory_order_relaxed); }

bool int4_env_switch(const char* name) {
  const char* e = std::getenv(name);
  return e && *e && std::strcmp(e, "0") != 0;
}

bool use_int4_vnni(const Int4Matrix& W, int64_t M) {
  static const bool enabled = int4_vnni_cpu() && !int4_env_switch("MIXQ_INT4_EXACT");
  if (W.rows16) return true;  // interleaved weights take the split kernel whatever M is
  return enabled && !g_force_exact.load(std::memory_order_relaxed) && M <= kInt4VnniMaxM && int4_vnni_shape_ok(W);
}

#include "kernels/cpu/avx512_vnni_begin.h"  // the AVX-512 VNNI region starts

namespace {

using Chunk = Int4VnniChunk;
static_assert(sizeof(Chunk) == 64 * (3 * kSplitActLimbs + 2));

void prep_token(const float* x, int64_t K, Chunk* out) {
  const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i quad = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m512i ones = _mm512_set1_epi8(1);
  const int64_t nch = (K + 127) / 128;
  for (int64_t c = 0; c < nch; ++c) {
    Chunk& ch = out[c];
    alignas(16) float tg[4] = {0.f, 0.f, 0.f, 0.f};
    for (int j = 0; j < 4; ++j) {
      const int64_t k0 = c * 128 + 32 * j;
      if (k0 >= K) {
        for (int l = 0; l < kSplitActLimbs; ++l) {
          std::memset(ch.lo[l] + 16 * j, 0, 16);
          std::memset(ch.hi[l] + 16 * j, 0, 16);
        }
        continue;
      }
      const __m512 x0 = _mm512_loadu_ps(x + k0), x1 = _mm512_loadu_ps(x + k0 + 16);
      float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      // maxps drops NaNs depending on operand order: test for NaN / inf lanes explicitly
      if (_mm512_fpclass_ps_mask(x0, 0x99) | _mm512_fpclass_ps_mask(x1, 0x99))
        m = std::numeric_limits<float>::quiet_NaN();
      float inv;
      pow2_scale(m, &tg[j], &inv);
      if (inv == 0.f) {  // zero or non-finite group: zero limbs (t carries the NaN)
        for (int l = 0; l < kSplitActLimbs; ++l) {
          std::memset(ch.lo[l] + 16 * j, 0, 16);
          std::memset(ch.hi[l] + 16 * j, 0, 16);
        }
        continue;
      }
      const __m512 vinv = _mm512_set1_ps(inv);
      for (int p = 0; p < 2; ++p) {
        __m512 r = _mm512_mul_ps(_mm512_permutex2var_ps(x0, p ? od : ev, x1), vinv);
        for (int l = 0; l < kSplitActLimbs; ++l) {  // the same steps as split_activations
          __m512 h = r;
          if (l + 1 < kSplitActLimbs) {
            h = _mm512_roundscale_ps(_mm512_mul_ps(r, _mm512_set1_ps(kInvUnit[l])),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm512_fnmadd_ps(h, _mm512_set1_ps(kUnit[l]), r);
          }
          int8_t* dst = (p ? ch.hi[l] : ch.lo[l]) + 16 * j;
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(h)));
        }
      }
    }
    const __m512i z = _mm512_setzero_si512();
    for (int l = 0; l < kSplitActLimbs; ++l) {
      const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, ones, _mm512_load_si512(ch.lo[l])), ones,
                                            _mm512_load_si512(ch.hi[l]));
      _mm512_store_si512(ch.z[l], _mm512_sub_epi32(z, _mm512_slli_epi32(s, 3)));
      for (int j = 0; j < 4; ++j)
        ch.zg[l][j] = ch.z[l][4 * j] + ch.z[l][4 * j + 1] + ch.z[l][4 * j + 2] + ch.z[l][4 * j + 3];
    }
    _mm512_store_ps(ch.t, _mm512_permutexvar_ps(quad, _mm512_castps128_ps512(_mm_load_ps(tg))));
  }
}

// Per-call layout of the weight scales: chunk c reads the scales [sbase[c], sbase[c] + n) of each
// row (mask smask[c], so the last row's read never passes the array), and lane i (word i) takes
// scale sbase[c] + idx[i].
struct Ctx {
  int64_t nch = 0;
  int64_t row_bytes = 0;  // packed bytes per row
  int64_t tail_words = 0;  // words in a partial last chunk (0: K % 128 == 0)
  std::vector<int32_t> sbase;
  std::vector<uint8_t> smask;
  __m512i idxd, idxw;  // dword index (f32 scales) / word index into bf16 scales (odd words)
};

template <bool kBf16>
inline __m512 lane_scales(const uint8_t* srow, int32_t sbase, __mmask8 sm, const Ctx& cx) {
  if constexpr (kBf16) {
    const __m128i v = _mm_maskz_loadu_epi16(sm, reinterpret_cast<const uint16_t*>(srow) + sbase);
    // bf16 -> f32: the 16 bits go to the high half of each dword, the low half is zeroed.
    return _mm512_castsi512_ps(_mm512_maskz_permutexvar_epi16(0xAAAAAAAAu, cx.idxw, _mm512_zextsi128_si512(v)));
  } else {
    const __m128 v = _mm_maskz_loadu_ps(sm, reinterpret_cast<const float*>(srow) + sbase);
    return _mm512_permutexvar_ps(cx.idxd, _mm512_zextps128_ps512(v));
  }
}

// MT tokens x NR rows. rows[r]: packed row; srow[r]: its scales; xt[t]: token t's chunks.
// pf: linear prefetch pointer kPrefetchTiles row tiles ahead (nullptr: none). With pf, each row's
// own stream is also prefetched kRowPrefetch bytes ahead, running on into the same row of the next
// tile near the row's end (rows are contiguous; the next tile is inside the call when pf is set).
// Software prefetch: kPrefetchTiles 4-row tiles ahead on a linear pointer (a tile is 6 KB at
// K = 3072) plus kRowPrefetch bytes ahead on each row, both into L1 (T0). Measured on 64
// cold 1536x3072 experts (170 MB), 2 threads. In 4 KB pages, 9 alternating trials in a noisy hour:
// 2 tiles into L2 (the first setting) 35-47 GB/s; 2 tiles T0 40-52; 3 T0 45-53; 4 T0 43-52 (best
// or level in 8 of 9); 6 T0 44-53; 4 into L3 41-52; none 23-26. In 2 MB pages, 4 trials: 4 tiles
// 38-45; 2 tiles + rows 256 B 44-47; 1 tile + rows 256 B 44-48; rows alone (256-1024 B) 28-40;
// 8-row tiles 26-34. Then this kernel against the 4-tile one, 8 alternating trials: mean 40.0
// vs 38.8 GB/s (a small gain; the kernel is near its limit here, docs/perf-engine.md round 3).
constexpr int64_t kPrefetchTiles = 2;
constexpr int64_t kRowPrefetch = 256;

// kFar (decode, run_far): the NR rows come from NR far-apart parts, each part's rows adjacent, so
// each row's stream runs on linearly into its part's next row: pf is unused and each row (and its
// scales) is prefetched kFarPrefetch bytes ahead of itself. The arithmetic is the same either way.
// `mixq bench` W4A16, mapped (4 KB pages), experts phase GB/s, 4 alternating rounds on fast memory
// (docs/perf-engine.md round 6): 4-row tiles with the linear prefetch (before) 18-31; far parts
// 2 KB ahead 40-51, 4 KB 23-42, 8 KB 30-34.
constexpr int64_t kFarPrefetch = 2048;

template <int MT, int NR, bool kBf16, bool kFar = false>
void tile(const uint32_t* const* rows, const uint8_t* const* srow, const Chunk* const* xt, const Ctx& cx,
          float* Y, int64_t ldy, const char* pf) {
  __m512 acc[MT][NR];
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) acc[t][r] = _mm512_setzero_ps();
  const __m512i m0f = _mm512_set1_epi8(0x0F), k254 = _mm512_set1_epi32(254);
  const __mmask16 tail_mask = __mmask16((1u << cx.tail_words) - 1);
  for (int64_t c = 0; c < cx.nch; ++c) {
    const int32_t sb = cx.sbase[size_t(c)];
    if constexpr (kFar) {
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(rows[r]) + 64 * c + kFarPrefetch, _MM_HINT_T0);
        // the scales as far ahead, relative to their size (1/16 of the weights' for bf16 at G = 32)
        if ((c & 1) == 0)
          _mm_prefetch(reinterpret_cast<const char*>(srow[r]) + sb * (kBf16 ? 2 : 4) + kFarPrefetch / 16, _MM_HINT_T0);
      }
    } else if (pf) {
      MIXQ_UNROLL for (int l = 0; l < NR; ++l) _mm_prefetch(pf + 64 * l, _MM_HINT_T0);
      pf += 64 * NR;
      const int64_t o = 64 * c + kRowPrefetch, rb = cx.row_bytes;
      const int64_t off = o < rb ? o : NR * rb + (o - rb);
      MIXQ_UNROLL for (int r = 0; r < NR; ++r) _mm_prefetch(reinterpret_cast<const char*>(rows[r]) + off, _MM_HINT_T0);
    }
    const bool part = cx.tail_words != 0 && c == cx.nch - 1;
    const __mmask8 sm = cx.smask[size_t(c)];
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) {
      const uint32_t* wp = rows[r] + 16 * c;
      const __m512i w = part ? _mm512_maskz_loadu_epi32(tail_mask, wp) : _mm512_loadu_si512(wp);
      const __m512i lo = _mm512_and_si512(w, m0f);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), m0f);
      const __m512 sw = lane_scales<kBf16>(srow[r], sb, sm, cx);
      MIXQ_UNROLL for (int t = 0; t < MT; ++t) {
        const Chunk& ch = xt[t][c];
        __m512i d[kSplitActLimbs];  // sum (u-8) a_l per word, |.| <= 8 * 8 * 127 = 8128
        MIXQ_UNROLL for (int l = 0; l < kSplitActLimbs; ++l) {
          d[l] = _mm512_dpbusd_epi32(_mm512_load_si512(ch.z[l]), lo, _mm512_load_si512(ch.lo[l]));
          d[l] = _mm512_dpbusd_epi32(d[l], hi, _mm512_load_si512(ch.hi[l]));
        }
        // 254 d0 + d1: d0 fits in the low int16 of each dword (the high int16 is its sign and
        // meets 0), so one vpdpwssd combines two limbs exactly (|.| < 2^21).
        __m512i e = _mm512_dpwssd_epi32(d[1], d[0], k254);
        // three limbs: 254 (254 d0 + d1) + d2, |.| <= 8128 * 64771 < 2^30, exact in int32
        if constexpr (kSplitActLimbs == 3) e = _mm512_add_epi32(_mm512_mullo_epi32(e, k254), d[2]);
        acc[t][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(e), _mm512_mul_ps(sw, _mm512_load_ps(ch.t)), acc[t][r]);
      }
    }
  }
  MIXQ_UNROLL for (int t = 0; t < MT; ++t)
    MIXQ_UNROLL for (int r = 0; r < NR; ++r) Y[t * ldy + r] = _mm512_reduce_add_ps(acc[t][r]);
}

template <int NR, bool kBf16>
void tile_tokens(int64_t mb, const uint32_t* const* rows, const uint8_t* const* srow, const Chunk* const* xt,
                 const Ctx& cx, float* Y, int64_t ldy, const char* pf) {
  switch (mb) {
    case 1: return tile<1, NR, kBf16>(rows, srow, xt, cx, Y, ldy, pf);
    case 2: return tile<2, NR, kBf16>(rows, srow, xt, cx, Y, ldy, pf);
    case 3: return tile<3, NR, kBf16>(rows, srow, xt, cx, Y, ldy, pf);
    default: return tile<4, NR, kBf16>(rows, srow, xt, cx, Y, ldy, pf);
  }
}

// One token: S far-apart parts of `per` rows from n0 (far_parts.h), the tile taking row i of
// each part.
template <int S, bool kBf16>
void run_far(const Int4Matrix& W, const Chunk* x, const Ctx& cx, float* Y, int64_t n0, int64_t per) {
  const int64_t wpr = W.words_per_row(), sbytes = W.groups_per_row() * (kBf16 ? 2 : 4);
  const uint8_t* scales = static_cast<const uint8_t*>(W.scale);
  for (int r = 0; r < S; ++r)  // each part's first window, which no in-loop prefetch covers
    for (int64_t b = 0; b < kFarPrefetch && b < per * wpr * 4; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(W.packed + (n0 + r * per) * wpr) + b, _MM_HINT_T0);
  const Chunk* const xt[1] = {x};
  for (int64_t i = 0; i < per; ++i) {
    const uint32_t* rows[S];
    const uint8_t* srow[S];
    float y[S];
    MIXQ_UNROLL for (int r = 0; r < S; ++r) {
      rows[r] = W.packed + (n0 + r * per + i) * wpr;
      srow[r] = scales + (n0 + r * per + i) * sbytes;
    }
    tile<1, S, kBf16, true>(rows, srow, xt, cx, y, 1, nullptr);
    MIXQ_UNROLL for (int r = 0; r < S; ++r) Y[n0 + r * per + i] = y[r];
  }
}

// Rows [n0, n1) of Y for the M prepared tokens xt[0..M) (any M: blocks of kTokBlock).
template <bool kBf16>
void run(const Int4Matrix& W, const Chunk* const* xt, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  constexpr int NR = 4;
  constexpr int64_t MT = 4, kTokBlock = 32;
  const int64_t K = W.K, G = W.group, wpr = W.words_per_row(), gpr = W.groups_per_row();
  const int64_t ssize = kBf16 ? 2 : 4;
  thread_local Ctx cx;
  cx.nch = (K + 127) / 128;
  cx.row_bytes = wpr * 4;
  cx.tail_words = (K % 128) / 8;
  const int64_t per = G <= 128 ? 128 / G : 1;  // scales per chunk
  cx.sbase.resize(size_t(cx.nch));
  cx.smask.resize(size_t(cx.nch));
  for (int64_t c = 0; c < cx.nch; ++c) {
    const int64_t b = c * 128 / G;
    cx.sbase[size_t(c)] = int32_t(b);
    cx.smask[size_t(c)] = uint8_t((1u << std::min(per, gpr - b)) - 1);
  }
  alignas(64) int32_t iw[16], iw16[32];
  for (int i = 0; i < 16; ++i) {
    iw[i] = G <= 128 ? int32_t(8 * i / G) : 0;
    iw16[2 * i] = 0;
    iw16[2 * i + 1] = iw[i];
  }
  alignas(64) int16_t w16[32];
  for (int i = 0; i < 32; ++i) w16[i] = int16_t(iw16[i]);
  cx.idxd = _mm512_load_si512(iw);
  cx.idxw = _mm512_load_si512(w16);

  // Token blocks of kTokBlock (kTokBlock * 704 B per 128 activations: 528 KiB at K = 3072,
  // L2-resident); inside a block each 4-row tile (6 KB of weights at K = 3072) stays in L1 while
  // every token tile of 4 passes over it, so a prefill block streams the weights once.
  if (M == 1) {  // decode: the tile's NR rows from NR far-apart parts
    for_far_parts<NR>(n0, n1, [&](auto parts, int64_t first, int64_t per) {
      run_far<decltype(parts)::value, kBf16>(W, xt[0], cx, Y, first, per);
    });
    return;
  }
  const uint8_t* scales = static_cast<const uint8_t*>(W.scale);
  // A call's rows are often a short slice (an expert's row chunk: 768 rows, 1.1 MB): the first
  // kPrefetchTiles tiles get no in-loop prefetch, so request them up front; the in-loop prefetch
  // stops at n1 (the rows past it belong to another call, often on the other thread).
  const auto prefetch_rows = [&](int64_t r0, int64_t r1) {
    const char* w = reinterpret_cast<const char*>(W.packed + r0 * wpr);
    for (int64_t b = 0; b < (r1 - r0) * wpr * 4; b += 64) _mm_prefetch(w + b, _MM_HINT_T0);
    const char* sp = reinterpret_cast<const char*>(scales + r0 * gpr * ssize);
    for (int64_t b = 0; b < (r1 - r0) * gpr * ssize; b += 64) _mm_prefetch(sp + b, _MM_HINT_T0);
  };
  prefetch_rows(n0, std::min(n1, n0 + kPrefetchTiles * NR));
  for (int64_t m0 = 0; m0 < M; m0 += kTokBlock) {
    const int64_t mblk = std::min(kTokBlock, M - m0);
    const Chunk* const* xb = xt + m0;
    float* Yb = Y + m0 * ldy;
    int64_t n = n0;
    for (; n + NR <= n1; n += NR) {
      const uint32_t* rows[NR];
      const uint8_t* srow[NR];
      for (int r = 0; r < NR; ++r) {
        rows[r] = W.packed + (n + r) * wpr;
        srow[r] = scales + (n + r) * gpr * ssize;
      }
      // Weights kPrefetchTiles tiles ahead, consumed linearly; the scales of that tile in one go.
      const bool ahead = m0 == 0 && n + (kPrefetchTiles + 1) * NR <= n1;
      const char* pf = ahead ? reinterpret_cast<const char*>(rows[0] + kPrefetchTiles * NR * wpr) : nullptr;
      if (ahead) {
        const char* spf = reinterpret_cast<const char*>(srow[0] + kPrefetchTiles * NR * gpr * ssize);
        for (int64_t b = 0; b < NR * gpr * ssize; b += 64) _mm_prefetch(spf + b, _MM_HINT_T0);
      }
      for (int64_t t = 0; t < mblk; t += MT, pf = nullptr)
        tile_tokens<NR, kBf16>(std::min(MT, mblk - t), rows, srow, xb + t, cx, Yb + t * ldy + n, ldy, pf);
    }
    for (; n < n1; ++n) {
      const uint32_t* rows[1] = {W.packed + n * wpr};
      const uint8_t* srow[1] = {scales + n * gpr * ssize};
      for (int64_t t = 0; t < mblk; t += MT)
        tile_tokens<1, kBf16>(std::min(MT, mblk - t), rows, srow, xb + t, cx, Yb + t * ldy + n, ldy, nullptr);
    }
  }
}

void run_any(const Int4Matrix& W, const Chunk* const* xt, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  if (W.scale_type == ScaleType::BF16) run<true>(W, xt, M, Y, ldy, n0, n1);
  else run<false>(W, xt, M, Y, ldy, n0, n1);
}

}  // namespace

void matmul_int4_vnni(const Int4Matrix& W, const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy,
                      int64_t n0, int64_t n1) {
  if (M <= 0 || n1 <= n0) return;
  // Blocks of 32 tokens prepared into a per-thread buffer (bounded whatever M is).
  constexpr int64_t kBlock = 32;
  thread_local Int4VnniActivations a;
  for (int64_t m0 = 0; m0 < M; m0 += kBlock) {
    const int64_t mb = std::min(kBlock, M - m0);
    a.prepare(X + m0 * ldx, mb, ldx, W.K);
    matmul_int4_vnni_prepared(W, a, Y + m0 * ldy, ldy, n0, n1);
  }
}

void Int4VnniActivations::prepare(const float* X, int64_t M, int64_t ldx, int64_t K) {
  M_ = M;
  K_ = K;
  const int64_t nch = (K + 127) / 128;
  chunks_.resize(size_t(M * nch));
  for (int64_t t = 0; t < M; ++t) prep_token(X + t * ldx, K, chunks_.data() + t * nch);
}

void matmul_int4_vnni_prepared(const Int4Matrix& W, const Int4VnniActivations& a, float* Y, int64_t ldy, int64_t n0,
                               int64_t n1) {
  if (a.cols() != W.K) fail("matmul_int4_vnni_prepared: activations have {} columns, the matrix {}", a.cols(), W.K);
  if (a.rows() <= 0 || n1 <= n0) return;
  // rows16: the whole tiles take the rows16 kernel; the rows past the last one keep the native
  // layout (and addresses), so they take this file's kernel like any native matrix.
  const int64_t N16 = W.rows16 ? W.N / 16 * 16 : 0;
  constexpr int64_t kBlock = 32;
  const Chunk* xt[kBlock];
  for (int64_t m0 = 0; m0 < a.rows(); m0 += kBlock) {
    const int64_t mb = std::min(kBlock, a.rows() - m0);
    for (int64_t t = 0; t < mb; ++t) xt[t] = a.token(m0 + t);
    if (n0 < N16) matmul_int4_rows16_tiles(W, xt, mb, Y + m0 * ldy, ldy, n0, std::min(n1, N16));
    if (n1 > N16) run_any(W, xt, mb, Y + m0 * ldy, ldy, std::max(n0, N16), n1);
  }
}

#include "kernels/cpu/avx512_vnni_end.h"  // and ends

}  // namespace mixq::kernels
