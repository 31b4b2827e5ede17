// Row-interleaved split-activation INT4 kernel (see matmul_int4_rows16.h for the layout and the
// bound). Raw AVX-512 VNNI intrinsics under a target pragma, as matmul_int4_vnni.cpp; nothing here
// runs unless int4_rows16_ok() said the instructions exist when the weights were interleaved.
#include "kernels/cpu/matmul_int4_rows16.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/far_parts.h"
#include "kernels/cpu/unroll.h"
#include "util/error.h"

namespace mixq::kernels {

bool int4_rows16_ok(const Int4Matrix& W) {
  static const bool enabled =
      int4_vnni_cpu() && !int4_env_switch("MIXQ_INT4_EXACT") && !int4_env_switch("MIXQ_INT4_NATIVE");
  return enabled && !W.rows16 && W.N >= 16 && W.K > 0 && W.K % 32 == 0 && W.group > 0 && W.group % 32 == 0 &&
         W.K % W.group == 0;
}

void interleave_int4_rows16(uint32_t* packed, void* scale, ScaleType scale_type, int64_t N, int64_t K, int64_t group) {
  const int64_t wpr = K / 8, gpr = K / group, ss = scale_type == ScaleType::F32 ? 4 : 2;
  std::vector<uint32_t> w(size_t(16 * wpr));
  std::vector<uint8_t> s(size_t(16 * gpr * ss));
  uint8_t* sc = static_cast<uint8_t*>(scale);
  for (int64_t T = 0; T < N / 16; ++T) {
    uint32_t* q = packed + T * 16 * wpr;
    uint8_t* qs = sc + T * 16 * gpr * ss;
    std::memcpy(w.data(), q, w.size() * 4);
    std::memcpy(s.data(), qs, s.size());
    for (int64_t b = 0; b < wpr / 4; ++b)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t r = 0; r < 16; ++r) q[b * 64 + i * 16 + r] = w[size_t(r * wpr + 4 * b + i)];
    for (int64_t g = 0; g < gpr; ++g)
      for (int64_t r = 0; r < 16; ++r) std::memcpy(qs + (g * 16 + r) * ss, s.data() + (r * gpr + g) * ss, size_t(ss));
  }
}

#include "kernels/cpu/avx512_vnni_begin.h"  // the AVX-512 VNNI region starts

namespace {

using Chunk = Int4VnniChunk;
constexpr int L = kSplitActLimbs;

// Software prefetch into L1, kWeightPrefetch bytes ahead on the weights (one linear stream per
// call: 256 B per 32-block, across tile boundaries) and kScalePrefetch ahead on the scales, the
// first window requested up front. Measured in an engine-shaped loop (8 random experts of 32,
// w1/w3 1536x3072 and w2 3072x1536 per expert, 2 threads, 2 MB pages, GB/s, a 4-stream read
// loop at 66-84): 2 tiles (48 KB) ahead without the up-front window 49-55; 4 KB ahead 43-50;
// 8 KB 47-57; 16 KB 49-59; 32 KB 52-55; 16 KB without the up-front window 48-56.
constexpr int64_t kWeightPrefetch = 16384, kScalePrefetch = 2048;
// Decode (one token) reads kInt4DecodeStreams far-apart parts of its tiles side by side
// (far_parts.h), each prefetched kStreamPrefetch ahead, and the parts share every activation
// broadcast. `mixq bench --no-mmap`, W4A16 model, experts phase GB/s, alternating runs
// (docs/perf-engine.md round 6): 2 parts 55-59, 3 parts 44-51, one stream (before) 42-48; 8 KB
// ahead level with 4 and 16 KB.
constexpr int kInt4DecodeStreams = 2;
constexpr int64_t kStreamPrefetch = 8192;

inline int32_t act4(const int8_t* limb, int j, int i) {
  int32_t v;
  std::memcpy(&v, limb + 16 * j + 4 * i, 4);
  return v;
}

// The end of one call's weights and scales: the prefetch ahead stops there (the bytes past it
// belong to another matrix or to the other thread's rows).
struct PrefetchEnd {
  const char* wend = nullptr;
  const char* send = nullptr;
};

// The first `bytes` of weights from w0 and kScalePrefetch of scales from s0, requested up front
// (not past e).
void prefetch_window(const uint32_t* w0, const uint8_t* s0, const PrefetchEnd& e, int64_t bytes) {
  const char* w = reinterpret_cast<const char*>(w0);
  for (int64_t o = 0; o < bytes && w + o < e.wend; o += 64) _mm_prefetch(w + o, _MM_HINT_T0);
  const char* s = reinterpret_cast<const char*>(s0);
  for (int64_t o = 0; o < kScalePrefetch && s + o < e.send; o += 64) _mm_prefetch(s + o, _MM_HINT_T0);
}

// One tile of 16 rows for 2 <= MT <= 4 tokens: Y[t * ldy + r], r < 16. q: the tile's words; s: its
// scales; pfw: set for the first token pass over the tile only. (One token: tile16_streams.)
template <bool kBf16, int MT>
void tile16(const uint32_t* q, const uint8_t* s, const Chunk* const* xt, int64_t nblk, int64_t G, float* Y,
            int64_t ldy, const PrefetchEnd* pfw) {
  static_assert(MT >= 2);
  constexpr int64_t ss = kBf16 ? 2 : 4;
  __m512 acc[MT];
  MIXQ_UNROLL for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i m0f = _mm512_set1_epi8(0x0F), k254 = _mm512_set1_epi32(254);
  const int64_t blocks_per_group = G / 32;
  // g = b * 32 / G, counted: a 64-bit division per block fed every block's scale address (one
  // token, hot, 1 thread: 26.6 -> 19.4 cycles per 16-row block with tile16_streams' shared
  // broadcasts, docs/perf-engine.md round 6)
  for (int64_t b = 0, g = 0, in_group = 0; b < nblk; ++b) {
    if (pfw) {
      const char* p = reinterpret_cast<const char*>(q + b * 64) + kWeightPrefetch;
      if (p < pfw->wend) MIXQ_UNROLL for (int l = 0; l < 4; ++l) _mm_prefetch(p + 64 * l, _MM_HINT_T0);
      if (!(b & 1)) {
        const char* sp = reinterpret_cast<const char*>(s) + g * 16 * ss + kScalePrefetch;
        if (sp < pfw->send) _mm_prefetch(sp, _MM_HINT_T0);
      }
    }
    const int64_t c = b >> 2;
    const int j = int(b & 3);
    __m512i d[MT][L];
    MIXQ_UNROLL for (int t = 0; t < MT; ++t)
      MIXQ_UNROLL for (int l = 0; l < L; ++l) d[t][l] = _mm512_set1_epi32(xt[t][c].zg[l][j]);
    MIXQ_UNROLL for (int i = 0; i < 4; ++i) {
      const __m512i w = _mm512_loadu_si512(q + b * 64 + i * 16);
      const __m512i lo = _mm512_and_si512(w, m0f);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), m0f);
      MIXQ_UNROLL for (int t = 0; t < MT; ++t) {
        const Chunk& ch = xt[t][c];
        MIXQ_UNROLL for (int l = 0; l < L; ++l) {
          d[t][l] = _mm512_dpbusd_epi32(d[t][l], lo, _mm512_set1_epi32(act4(ch.lo[l], j, i)));
          d[t][l] = _mm512_dpbusd_epi32(d[t][l], hi, _mm512_set1_epi32(act4(ch.hi[l], j, i)));
        }
      }
    }
    __m512 sw;
    if constexpr (kBf16) {  // bf16 -> f32: the 16 bits into the high half of each dword
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + g * 16 * ss));
      sw = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    } else {
      sw = _mm512_loadu_ps(reinterpret_cast<const float*>(s + g * 16 * ss));
    }
    MIXQ_UNROLL for (int t = 0; t < MT; ++t) {
      // 254 d0 + d1 in one vpdpwssd (|d0| <= 32 * 8 * 127 fits the low int16), then * 254 + d2
      __m512i e = _mm512_dpwssd_epi32(d[t][1], d[t][0], k254);
      if constexpr (L == 3) e = _mm512_add_epi32(_mm512_mullo_epi32(e, k254), d[t][2]);
      const __m512 st = _mm512_mul_ps(sw, _mm512_set1_ps(xt[t][c].t[4 * j]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(e), st, acc[t]);
    }
    if (++in_group == blocks_per_group) {
      in_group = 0;
      ++g;
    }
  }
  MIXQ_UNROLL for (int t = 0; t < MT; ++t) _mm512_storeu_ps(Y + t * ldy, acc[t]);
}

// One token: S whole tiles (from S far-apart parts of the rows in decode, so that each part is
// one long sequential stream, see kInt4DecodeStreams) computed side by side, every activation
// broadcast shared by the S tiles. Each tile gets the same operations in the same order whatever
// S, so a row's result does not depend on how the rows were split. Lo and hi nibble products go
// to separate int32 chains (4 deep, not 8: one token is latency-bound otherwise).
// q[i], s[i], Y[i], pf[i]: the i-th tile's words, scales, output rows and prefetch ends (pf null:
// no prefetch).
template <bool kBf16, int S>
void tile16_streams(const uint32_t* const* q, const uint8_t* const* s, const Chunk* x, int64_t nblk, int64_t G,
                    float* const* Y, const PrefetchEnd* pf) {
  constexpr int64_t ss = kBf16 ? 2 : 4;
  const int64_t blocks_per_group = G / 32;
  __m512 acc[S];
  MIXQ_UNROLL for (int i = 0; i < S; ++i) acc[i] = _mm512_setzero_ps();
  const __m512i m0f = _mm512_set1_epi8(0x0F), k254 = _mm512_set1_epi32(254);
  // g = b * 32 / G, counted (see tile16)
  for (int64_t b = 0, g = 0, in_group = 0; b < nblk; ++b) {
    const int64_t c = b >> 2;
    const int j = int(b & 3);
    const Chunk& ch = x[c];
    if (pf) MIXQ_UNROLL for (int si = 0; si < S; ++si) {
      const char* p = reinterpret_cast<const char*>(q[si] + b * 64) + kStreamPrefetch;
      if (p < pf[si].wend) MIXQ_UNROLL for (int l = 0; l < 4; ++l) _mm_prefetch(p + 64 * l, _MM_HINT_T0);
      if (!(b & 1)) {
        const char* sp = reinterpret_cast<const char*>(s[si]) + g * 16 * ss + kScalePrefetch;
        if (sp < pf[si].send) _mm_prefetch(sp, _MM_HINT_T0);
      }
    }
    // Word by word, each activation broadcast once for all S tiles.
    __m512i d[S][L], dh[S][L];
    MIXQ_UNROLL for (int si = 0; si < S; ++si)
      MIXQ_UNROLL for (int l = 0; l < L; ++l) {
        d[si][l] = _mm512_set1_epi32(ch.zg[l][j]);
        dh[si][l] = _mm512_setzero_si512();
      }
    MIXQ_UNROLL for (int i = 0; i < 4; ++i) {
      __m512i lo[S], hi[S];
      MIXQ_UNROLL for (int si = 0; si < S; ++si) {
        const __m512i w = _mm512_loadu_si512(q[si] + b * 64 + i * 16);
        lo[si] = _mm512_and_si512(w, m0f);
        hi[si] = _mm512_and_si512(_mm512_srli_epi16(w, 4), m0f);
      }
      MIXQ_UNROLL for (int l = 0; l < L; ++l) {
        const __m512i al = _mm512_set1_epi32(act4(ch.lo[l], j, i));
        MIXQ_UNROLL for (int si = 0; si < S; ++si) d[si][l] = _mm512_dpbusd_epi32(d[si][l], lo[si], al);
        const __m512i ah = _mm512_set1_epi32(act4(ch.hi[l], j, i));
        MIXQ_UNROLL for (int si = 0; si < S; ++si) dh[si][l] = _mm512_dpbusd_epi32(dh[si][l], hi[si], ah);
      }
    }
    const __m512 tj = _mm512_set1_ps(ch.t[4 * j]);
    MIXQ_UNROLL for (int si = 0; si < S; ++si) {
      __m512 sw;
      if constexpr (kBf16) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s[si] + g * 16 * ss));
        sw = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
      } else {
        sw = _mm512_loadu_ps(reinterpret_cast<const float*>(s[si] + g * 16 * ss));
      }
      MIXQ_UNROLL for (int l = 0; l < L; ++l) d[si][l] = _mm512_add_epi32(d[si][l], dh[si][l]);
      __m512i e = _mm512_dpwssd_epi32(d[si][1], d[si][0], k254);
      if constexpr (L == 3) e = _mm512_add_epi32(_mm512_mullo_epi32(e, k254), d[si][2]);
      const __m512 st = _mm512_mul_ps(sw, tj);
      acc[si] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(e), st, acc[si]);
    }
    if (++in_group == blocks_per_group) {
      in_group = 0;
      ++g;
    }
  }
  MIXQ_UNROLL for (int i = 0; i < S; ++i) _mm512_storeu_ps(Y[i], acc[i]);
}

template <bool kBf16>
void tile16_tokens(int64_t mt, const uint32_t* q, const uint8_t* s, const Chunk* const* xt, int64_t nblk, int64_t G,
                   float* Y, int64_t ldy, const PrefetchEnd* pf) {
  switch (mt) {
    case 1: return tile16_streams<kBf16, 1>(&q, &s, xt[0], nblk, G, &Y, pf);
    case 2: return tile16<kBf16, 2>(q, s, xt, nblk, G, Y, ldy, pf);
    case 3: return tile16<kBf16, 3>(q, s, xt, nblk, G, Y, ldy, pf);
    default: return tile16<kBf16, 4>(q, s, xt, nblk, G, Y, ldy, pf);
  }
}

// One token, S parts of `per` whole tiles from T0 read side by side (tile16_streams). Each part
// prefetches up to the next part's start, the last one up to T_end (the caller's last tile).
template <bool kBf16, int S>
void run16_parts(const Int4Matrix& W, const Chunk* x, float* Y, int64_t T0, int64_t per, int64_t T_end) {
  constexpr int64_t ss = kBf16 ? 2 : 4;
  const int64_t wpr = W.words_per_row(), gpr = W.groups_per_row(), nblk = W.K / 32;
  const int64_t tile_words = 16 * wpr, tile_scale_bytes = 16 * gpr * ss;
  const uint8_t* scales = static_cast<const uint8_t*>(W.scale);
  auto words = [&](int64_t T) { return W.packed + T * tile_words; };
  auto scale = [&](int64_t T) { return scales + T * tile_scale_bytes; };
  PrefetchEnd pf[S];
  MIXQ_UNROLL for (int i = 0; i < S; ++i) {
    const int64_t end = i + 1 < S ? T0 + (i + 1) * per : T_end;
    pf[i] = {reinterpret_cast<const char*>(words(end)), reinterpret_cast<const char*>(scale(end))};
    prefetch_window(words(T0 + i * per), scale(T0 + i * per), pf[i], kStreamPrefetch);
  }
  for (int64_t t = 0; t < per; ++t) {
    const uint32_t* q[S];
    const uint8_t* sc[S];
    float* y[S];
    MIXQ_UNROLL for (int i = 0; i < S; ++i) {
      const int64_t T = T0 + i * per + t;
      q[i] = words(T);
      sc[i] = scale(T);
      y[i] = Y + 16 * T;
    }
    tile16_streams<kBf16, S>(q, sc, x, nblk, W.group, y, pf);
  }
}

// Tiles overlapping rows [n0, n1) (n1 <= N16) for M <= 32 tokens xt[0..M).
template <bool kBf16>
void run16(const Int4Matrix& W, const Chunk* const* xt, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  constexpr int64_t MT = 4, ss = kBf16 ? 2 : 4;
  const int64_t wpr = W.words_per_row(), gpr = W.groups_per_row(), nblk = W.K / 32;
  const int64_t tile_words = 16 * wpr, tile_scale_bytes = 16 * gpr * ss;
  const uint8_t* scales = static_cast<const uint8_t*>(W.scale);
  const int64_t T0 = n0 / 16, T1 = (n1 + 15) / 16;
  if (M == 1 && n0 % 16 == 0 && n1 % 16 == 0) {  // decode over whole tiles
    for_far_parts<kInt4DecodeStreams>(T0, T1, [&](auto parts, int64_t first, int64_t per) {
      run16_parts<kBf16, decltype(parts)::value>(W, xt[0], Y, first, per, T1);
    });
    return;
  }
  alignas(64) float part[32 * 16];  // a tile cut by [n0, n1): all its rows, then the asked ones
  PrefetchEnd pf{reinterpret_cast<const char*>(W.packed + T1 * tile_words),
        reinterpret_cast<const char*>(scales + T1 * tile_scale_bytes)};
  prefetch_window(W.packed + T0 * tile_words, scales + T0 * tile_scale_bytes, pf, kWeightPrefetch);
  for (int64_t T = T0; T < T1; ++T) {
    const uint32_t* q = W.packed + T * tile_words;
    const uint8_t* s = scales + T * tile_scale_bytes;
    const int64_t r0 = std::max(n0, 16 * T), r1 = std::min(n1, 16 * T + 16);
    const bool whole = r0 == 16 * T && r1 == 16 * T + 16;
    float* Yt = whole ? Y + 16 * T : part;
    const int64_t ld = whole ? ldy : 16;
    for (int64_t t = 0; t < M; t += MT)
      tile16_tokens<kBf16>(std::min(MT, M - t), q, s, xt + t, nblk, W.group, Yt + t * ld, ld, t == 0 ? &pf : nullptr);
    if (!whole)
      for (int64_t t = 0; t < M; ++t) std::memcpy(Y + t * ldy + r0, part + t * 16 + (r0 - 16 * T), size_t(r1 - r0) * 4);
  }
}

}  // namespace

void matmul_int4_rows16_tiles(const Int4Matrix& W, const Int4VnniChunk* const* xt, int64_t M, float* Y, int64_t ldy,
                              int64_t n0, int64_t n1) {
  MIXQ_ASSERT(W.rows16 && M <= 32 && n1 <= W.N / 16 * 16);
  if (W.scale_type == ScaleType::BF16) run16<true>(W, xt, M, Y, ldy, n0, n1);
  else run16<false>(W, xt, M, Y, ldy, n0, n1);
}

#include "kernels/cpu/avx512_vnni_end.h"  // and ends

}  // namespace mixq::kernels
