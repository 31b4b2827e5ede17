// Goldens for the INT4 math and layout (compressed-tensors-awq.md §2.2, §3.2-§3.4) and the fast
// kernels against a scalar reference written here straight from the spec.
#include "quant/rtn_int4.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/fp8_block_source.h"
#include "util/dtype.h"

using namespace mixq;

namespace {

// Scalar reference: one element at a time, spec order of operations.
struct Ref {
  std::vector<uint32_t> packed;
  std::vector<uint16_t> scales;
};
Ref reference(const std::vector<float>& w, int64_t rows, int64_t in, int64_t G) {
  Ref r;
  r.packed.assign(size_t(rows * in / 8), 0);
  r.scales.resize(size_t(rows * in / G));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t g = 0; g < in / G; ++g) {
      float mn = 0, mx = 0;
      for (int64_t j = 0; j < G; ++j) { float x = w[size_t(i * in + g * G + j)]; mn = std::min(mn, x); mx = std::max(mx, x); }
      float amax = std::max(std::fabs(mn), std::fabs(mx));
      uint16_t sb = f32_to_bf16(amax * f32_from_bits(0x3E088889u));
      if (bf16_to_f32(sb) == 0.0f) sb = f32_to_bf16(0.0078125f);
      r.scales[size_t(i * (in / G) + g)] = sb;
      float s = bf16_to_f32(sb);
      for (int64_t j = 0; j < G; ++j) {
        int64_t c = g * G + j;
        float t = round_bf16(w[size_t(i * in + c)] / s);
        t = std::fmin(std::fmax(t, -8.0f), 7.0f);
        int q = int(std::nearbyint(t));
        r.packed[size_t(i * (in / 8) + c / 8)] |= uint32_t(q + 8) << (4 * (c % 8));
      }
    }
  return r;
}

std::vector<float> random_bf16(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = round_bf16(d(rng));
  return v;
}

}  // namespace

TEST(RtnInt4, ReciprocalConstant) { EXPECT_EQ(f32_bits(kInvSevenHalf), 0x3E088889u); }

TEST(RtnInt4, SpecPackingExample) {
  // q = [1,-2,3,0,-8,7,5,-1] -> 0x7DF08B69 (bytes 69 8b f0 7d). Build weights that quantize to
  // exactly these q with scale 1: amax must give s = 1 -> amax = 7.5 (bf16(7.5 * 1/7.5) = 1).
  std::vector<float> w = {1, -2, 3, 0, -7.5f, 7, 5, -1};
  w.resize(32, 0.0f);
  std::vector<uint32_t> packed(4);
  std::vector<uint16_t> scales(1);
  quantize_pack_int4(w.data(), 1, 32, 32, packed.data(), scales.data());
  EXPECT_EQ(bf16_to_f32(scales[0]), 1.0f);
  EXPECT_EQ(packed[0], 0x7DF08B69u);
  uint8_t bytes[4];
  std::memcpy(bytes, &packed[0], 4);
  EXPECT_EQ(bytes[0], 0x69); EXPECT_EQ(bytes[1], 0x8b); EXPECT_EQ(bytes[2], 0xf0); EXPECT_EQ(bytes[3], 0x7d);
  EXPECT_EQ(packed[1], 0x88888888u);  // zeros -> u = 8
}

TEST(RtnInt4, HandComputedScalesTiesAndZeroGroups) {
  // amax 1.0: s = bf16(1 * 0.13333334) = 0.1337891 (0x3E09); amax 0 -> 2^-7.
  EXPECT_EQ(int4_group_scale_bf16(1.0f), 0x3E09);  // 0x3E088889 rounds up
  EXPECT_EQ(int4_group_scale_bf16(0.0f), kBf16Eps);
  EXPECT_EQ(bf16_to_f32(kBf16Eps), 0.0078125f);
  EXPECT_EQ(int4_group_scale_bf16(7.5f), f32_to_bf16(1.0f));
  // Ties with s = 1: +7.5 clamps to 7; -7.5 rounds half-even to -8; 6.5 -> 6; -0.5 -> -0; 2.5 -> 2; 3.5 -> 4.
  EXPECT_EQ(int4_quantize_value(7.5f, 1.0f), 7);
  EXPECT_EQ(int4_quantize_value(-7.5f, 1.0f), -8);
  EXPECT_EQ(int4_quantize_value(6.5f, 1.0f), 6);
  EXPECT_EQ(int4_quantize_value(-0.5f, 1.0f), 0);
  EXPECT_EQ(int4_quantize_value(2.5f, 1.0f), 2);
  EXPECT_EQ(int4_quantize_value(3.5f, 1.0f), 4);
  EXPECT_EQ(int4_quantize_value(100.0f, 1.0f), 7);
  // bf16 rounding of w/s before rounding to int: with s = 0.1337891 (0x3E09), w = 3.50047 s gives
  // w/s = 3.50047 in fp32, which bf16 rounds to 3.5 -> tie -> 4 (even).
  float s = bf16_to_f32(0x3E09);
  float w = 3.50047f * s;
  EXPECT_EQ(round_bf16(w / s), 3.5f);
  EXPECT_EQ(int4_quantize_value(w, s), 4);
  // The kernel agrees on a group exercising all of the above (including an all-zero group).
  std::vector<float> g(64, 0.0f);
  g[0] = 7.5f; g[1] = -7.5f; g[2] = 6.5f; g[3] = -0.5f; g[4] = 2.5f; g[5] = 3.5f;
  std::vector<uint32_t> packed(8);
  std::vector<uint16_t> scales(2);
  quantize_pack_int4(g.data(), 1, 64, 32, packed.data(), scales.data());
  EXPECT_EQ(scales[0], f32_to_bf16(1.0f));
  EXPECT_EQ(scales[1], kBf16Eps);
  auto q = [&](int j) { return int((packed[size_t(j / 8)] >> (4 * (j % 8))) & 0xF) - 8; };
  EXPECT_EQ(q(0), 7); EXPECT_EQ(q(1), -8); EXPECT_EQ(q(2), 6); EXPECT_EQ(q(3), 0); EXPECT_EQ(q(4), 2); EXPECT_EQ(q(5), 4);
  for (int j = 32; j < 64; ++j) EXPECT_EQ(q(j), 0);
}

TEST(RtnInt4, FastKernelsMatchScalarReference) {
  for (auto [rows, in, G] : {std::tuple<int64_t, int64_t, int64_t>{1, 32, 32}, {37, 96, 32}, {129, 256, 32}, {65, 384, 64}, {33, 512, 128}}) {
    auto w = random_bf16(size_t(rows * in), uint32_t(rows * 7 + in));
    for (int64_t i = 0; i < in; i += 17) w[size_t(i)] = round_bf16(w[size_t(i)] * 40.0f);  // outliers
    for (int64_t j = 0; j < G; ++j) w[size_t(in - G + j)] = 0.0f;  // an all-zero group
    w[size_t(in)] = round_bf16(1e-40f);                              // a group whose scale underflows
    Ref r = reference(w, rows, in, G);
    std::vector<uint32_t> packed(size_t(rows * in / 8));
    std::vector<uint16_t> scales(size_t(rows * in / G));
    quantize_pack_int4(w.data(), rows, in, G, packed.data(), scales.data());
    EXPECT_EQ(packed, r.packed) << rows << "x" << in << " G" << G;
    EXPECT_EQ(scales, r.scales);
    std::vector<uint16_t> wb(w.size());
    for (size_t i = 0; i < w.size(); ++i) wb[i] = f32_to_bf16(w[i]);
    std::fill(packed.begin(), packed.end(), 0);
    quantize_pack_int4_bf16(wb.data(), rows, in, G, packed.data(), scales.data());
    EXPECT_EQ(packed, r.packed);
    EXPECT_EQ(scales, r.scales);
    // QDQ = bf16(q * s) of the same q and s; dequantize = (u - 8) * s.
    std::vector<float> qdq(w.size()), deq(w.size());
    qdq_int4(w.data(), rows, in, G, qdq.data());
    dequantize_int4(packed.data(), scales.data(), rows, in, G, deq.data());
    for (size_t i = 0; i < w.size(); ++i) {
      ASSERT_EQ(qdq[i], round_bf16(deq[i])) << i;
      float s = bf16_to_f32(scales[i / size_t(G)]);
      // Spec §9 bound: 0.5*s plus the bf16 rounding of w/s (<= |w/s| * 2^-8 * s).
      EXPECT_LE(std::fabs(deq[i] - w[i]), 0.5f * s + std::fabs(w[i]) * (1.0f / 256.0f) + 1e-30f) << i;
    }
  }
}

TEST(RtnInt4, QdqRoundsNonBf16InputFirstAndMayAlias) {
  std::vector<float> w = random_bf16(64 * 32, 3);
  for (auto& x : w) x *= 1.0001f;  // no longer bf16-exact
  std::vector<float> ref(w.size());
  std::vector<float> rounded(w.size());
  for (size_t i = 0; i < w.size(); ++i) rounded[i] = round_bf16(w[i]);
  qdq_int4(rounded.data(), 64, 32, 32, ref.data());
  qdq_int4(w.data(), 64, 32, 32, w.data());
  EXPECT_EQ(w, ref);
}

TEST(RtnInt4, FusedFp8BlockMatchesDequantizeThenQuantize) {
  const int64_t rows = 200, in = 384;  // partial last row block (200 = 128 + 72)
  std::mt19937 rng(5);
  std::vector<uint8_t> w(size_t(rows * in));
  for (auto& x : w) { x = uint8_t(rng()); if ((x & 0x7f) == 0x7f) x = 0x10; }
  std::vector<float> sc(size_t(2 * 3));
  for (size_t i = 0; i < sc.size(); ++i) sc[i] = 1e-3f * float(i + 1);
  std::vector<float> f(size_t(rows * in));
  dequantize_fp8_block_rows(w.data(), sc.data(), rows, in, 128, 128, 0, rows, f.data());
  for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f[i], round_bf16(kFp8E4M3ToF32[w[i]] * sc[size_t((int64_t(i) / in / 128) * 3 + (int64_t(i) % in) / 128)]));
  Ref r = reference(f, rows, in, 32);
  std::vector<uint32_t> packed(size_t(rows * in / 8));
  std::vector<uint16_t> scales(size_t(rows * in / 32));
  quantize_pack_int4_fp8block(w.data(), sc.data(), rows, in, 128, 128, 32, packed.data(), scales.data());
  EXPECT_EQ(packed, r.packed);
  EXPECT_EQ(scales, r.scales);
}
