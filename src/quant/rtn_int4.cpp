// Hot loops are written so GCC vectorizes them (fixed-size group bodies, integer max for |w|,
// bf16 rounding and round-half-even as bit/float tricks with no library calls) and compiled
// twice through target_clones: AVX2+FMA where the CPU has it, the x86-64 baseline otherwise.
// The whole kernel is memory-bound: one read of the weights, 0.56 bytes/element written.
#pragma GCC optimize("O3")
#include "quant/rtn_int4.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

#if defined(__x86_64__) && !defined(__clang__)
#define MIXQ_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MIXQ_CLONES
#endif

namespace mixq {

uint16_t int4_group_scale_bf16(float amax) {
  uint16_t s = f32_to_bf16(amax * kInvSevenHalf);
  if ((s & 0x7fff) == 0) s = kBf16Eps;  // zero scale -> bf16 eps (compressed-tensors)
  return s;
}

int int4_quantize_value(float w, float scale) {
  float t = round_bf16(w / scale);
  t = std::min(std::max(t, -8.0f), 7.0f);
  return int(std::nearbyint(t));  // default rounding mode: half to even
}

namespace {

constexpr int kMaxGroup = 128;

inline float bf16_round_bits(float x) {  // RNE to bf16, finite inputs (NaN handled by callers' data)
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

// q for one group into u[] (q+8), returns the bf16 scale bits. Fixed G and plain array loops so
// each step vectorizes (integer max of |w| bits, vdivps, bf16 RNE by integer ops, magic-number RNE).
template <int G>
inline uint16_t quantize_group(const float* __restrict w, int32_t* __restrict u) {
  uint32_t bits[G];
  std::memcpy(bits, w, sizeof bits);
  uint32_t amax_bits = 0;
  for (int j = 0; j < G; ++j) {
    uint32_t b = bits[j] & 0x7fffffffu;
    amax_bits = b > amax_bits ? b : amax_bits;
  }
  float amax;
  std::memcpy(&amax, &amax_bits, 4);
  const uint16_t sb = int4_group_scale_bf16(amax);
  const float s = bf16_to_f32(sb);
  float t[G];
  for (int j = 0; j < G; ++j) t[j] = w[j] / s;
  uint32_t tb[G];
  std::memcpy(tb, t, sizeof tb);
  for (int j = 0; j < G; ++j) tb[j] = (tb[j] + 0x7fffu + ((tb[j] >> 16) & 1u)) & 0xffff0000u;  // bf16 RNE
  std::memcpy(t, tb, sizeof t);
  for (int j = 0; j < G; ++j) {
    float x = t[j];
    x = x < -8.0f ? -8.0f : x;
    x = x > 7.0f ? 7.0f : x;
    x = (x + 12582912.0f) - 12582912.0f;  // 1.5*2^23: round half to even for |x| <= 2^22
    u[j] = int32_t(x) + 8;
  }
  return sb;
}

inline uint16_t quantize_group(const float* w, int G, int32_t* u) {
  switch (G) {
    case 32: return quantize_group<32>(w, u);
    case 64: return quantize_group<64>(w, u);
    case 128: return quantize_group<128>(w, u);
  }
  MIXQ_ASSERT(false && "group size must be 32, 64 or 128");
  return 0;
}

inline void pack_words(const int32_t* u, int n, uint32_t* out) {
  for (int k = 0; k < n / 8; ++k) {
    uint32_t word = 0;
    for (int b = 0; b < 8; ++b) word |= uint32_t(u[8 * k + b]) << (4 * b);
    out[k] = word;
  }
}

MIXQ_CLONES void quant_rows_f32(const float* w, int64_t r0, int64_t r1, int64_t in, int G, uint32_t* packed, uint16_t* scales) {
  alignas(64) int32_t u[kMaxGroup];
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = w + r * in;
    for (int64_t g = 0; g < in / G; ++g) {
      scales[r * (in / G) + g] = quantize_group(row + g * G, G, u);
      pack_words(u, G, packed + r * (in / 8) + g * (G / 8));
    }
  }
}

MIXQ_CLONES void quant_rows_bf16(const uint16_t* w, int64_t r0, int64_t r1, int64_t in, int G, uint32_t* packed, uint16_t* scales) {
  alignas(64) float f[kMaxGroup];
  alignas(64) int32_t u[kMaxGroup];
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* row = w + r * in;
    for (int64_t g = 0; g < in / G; ++g) {
      for (int j = 0; j < G; ++j) {
        uint32_t b = uint32_t(row[g * G + j]) << 16;
        std::memcpy(&f[j], &b, 4);
      }
      scales[r * (in / G) + g] = quantize_group(f, G, u);
      pack_words(u, G, packed + r * (in / 8) + g * (G / 8));
    }
  }
}

MIXQ_CLONES void quant_rows_fp8(const uint8_t* w, const float* sc, int64_t r0, int64_t r1, int64_t in, int64_t bn, int64_t bk, int G,
                                uint32_t* packed, uint16_t* scales) {
  alignas(64) float f[kMaxGroup];
  alignas(64) int32_t u[kMaxGroup];
  const int64_t sc_cols = (in + bk - 1) / bk;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w + r * in;
    const float* srow = sc + (r / bn) * sc_cols;
    for (int64_t g = 0; g < in / G; ++g) {
      const float s = srow[(g * G) / bk];  // G divides bk (checked): one block scale per group
      const uint8_t* src = row + g * G;
      for (int j = 0; j < G; ++j) f[j] = kFp8E4M3ToF32[src[j]] * s;
      for (int j = 0; j < G; ++j) f[j] = bf16_round_bits(f[j]);
      scales[r * (in / G) + g] = quantize_group(f, G, u);
      pack_words(u, G, packed + r * (in / 8) + g * (G / 8));
    }
  }
}

MIXQ_CLONES void qdq_rows(const float* w, int64_t r0, int64_t r1, int64_t in, int G, float* out) {
  alignas(64) float f[kMaxGroup];
  alignas(64) int32_t u[kMaxGroup];
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t g = 0; g < in / G; ++g) {
      const float* src = w + r * in + g * G;
      for (int j = 0; j < G; ++j) f[j] = bf16_round_bits(src[j]);
      const float s = bf16_to_f32(quantize_group(f, G, u));
      float* dst = out + r * in + g * G;
      for (int j = 0; j < G; ++j) dst[j] = bf16_round_bits(float(u[j] - 8) * s);
    }
  }
}

void check_shape(int64_t in, int64_t G) {
  MIXQ_ASSERT(G == 32 || G == 64 || G == 128);
  MIXQ_ASSERT(in % G == 0 && in % 8 == 0);
}

size_t grain_rows(int64_t in) { return size_t(std::max<int64_t>(1, 32768 / std::max<int64_t>(1, in))); }

}  // namespace

void quantize_pack_int4(const float* w, int64_t rows, int64_t in, int64_t G, uint32_t* packed, uint16_t* scales) {
  check_shape(in, G);
  ThreadPool::global().parallel_for(size_t(rows), grain_rows(in), [&](size_t b, size_t e, size_t) {
    quant_rows_f32(w, int64_t(b), int64_t(e), in, int(G), packed, scales);
  });
}

void quantize_pack_int4_bf16(const uint16_t* w, int64_t rows, int64_t in, int64_t G, uint32_t* packed, uint16_t* scales) {
  check_shape(in, G);
  ThreadPool::global().parallel_for(size_t(rows), grain_rows(in), [&](size_t b, size_t e, size_t) {
    quant_rows_bf16(w, int64_t(b), int64_t(e), in, int(G), packed, scales);
  });
}

void quantize_pack_int4_fp8block(const uint8_t* w, const float* scale_inv, int64_t rows, int64_t in, int64_t bn, int64_t bk, int64_t G,
                                 uint32_t* packed, uint16_t* scales) {
  check_shape(in, G);
  MIXQ_ASSERT(bk % G == 0);
  ThreadPool::global().parallel_for(size_t(rows), grain_rows(in), [&](size_t b, size_t e, size_t) {
    quant_rows_fp8(w, scale_inv, int64_t(b), int64_t(e), in, bn, bk, int(G), packed, scales);
  });
}

void qdq_int4(const float* w, int64_t rows, int64_t in, int64_t G, float* out) {
  check_shape(in, G);
  ThreadPool::global().parallel_for(size_t(rows), grain_rows(in), [&](size_t b, size_t e, size_t) {
    qdq_rows(w, int64_t(b), int64_t(e), in, int(G), out);
  });
}

void dequantize_int4(const uint32_t* packed, const uint16_t* scales, int64_t rows, int64_t in, int64_t G, float* out) {
  check_shape(in, G);
  ThreadPool::global().parallel_for(size_t(rows), grain_rows(in), [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r)
      for (int64_t c = 0; c < in; ++c) {
        uint32_t word = packed[int64_t(r) * (in / 8) + c / 8];
        int q = int((word >> (4 * (c % 8))) & 0xF) - 8;
        out[int64_t(r) * in + c] = float(q) * bf16_to_f32(scales[int64_t(r) * (in / G) + c / G]);
      }
  });
}

}  // namespace mixq
