// Exhaustive checks of the scalar conversions against golden tables made by
// tests/golden/gen_dtype_goldens.py (PyTorch for bf16/f16; an exact rational model of c10's rules
// for fp8, whose float8 dtypes Debian's torch lacks). Every code is decoded; every code value, every
// midpoint between adjacent codes and its fp32 neighbours, the specials and random fp32 patterns are
// encoded.
#include "util/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace mixq;

namespace {

std::vector<uint32_t> load_u32(const std::string& name) {
  std::string path = std::string(MIXQ_SOURCE_DIR) + "/tests/golden/dtype/" + name;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    ADD_FAILURE() << "missing golden " << path;
    return {};
  }
  std::vector<uint32_t> v;
  uint32_t x;
  while (std::fread(&x, 4, 1, f) == 1) v.push_back(x);  // little-endian host
  std::fclose(f);
  return v;
}

bool f32_is_nan_bits(uint32_t b) { return (b & 0x7fffffffu) > 0x7f800000u; }

void check_decode(const std::string& name, size_t codes, const std::function<float(uint32_t)>& decode) {
  auto want = load_u32(name + "_decode.bin");
  ASSERT_EQ(want.size(), codes);
  size_t bad = 0;
  for (uint32_t c = 0; c < codes; ++c) {
    uint32_t got = f32_bits(decode(c));
    bool ok = f32_is_nan_bits(want[c]) ? f32_is_nan_bits(got) && (got >> 31) == (want[c] >> 31) : got == want[c];
    if (!ok && bad++ < 10) ADD_FAILURE() << name << " decode 0x" << std::hex << c << ": got 0x" << got << " want 0x" << want[c];
  }
  EXPECT_EQ(bad, 0u);
}

void check_encode(const std::string& name, bool is_nan_code(uint32_t), const std::function<uint32_t(float)>& encode,
                  size_t min_cases) {
  auto pairs = load_u32(name + "_encode.bin");
  ASSERT_GE(pairs.size() / 2, min_cases);
  size_t bad = 0;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    const uint32_t in = pairs[i], want = pairs[i + 1];
    const uint32_t got = encode(f32_from_bits(in));
    bool ok = is_nan_code(want) ? is_nan_code(got) : got == want;
    if (!ok && bad++ < 10)
      ADD_FAILURE() << name << " encode 0x" << std::hex << in << " (" << f32_from_bits(in) << "): got 0x" << got
                    << " want 0x" << want;
  }
  EXPECT_EQ(bad, 0u) << "of " << pairs.size() / 2;
}

bool bf16_nan(uint32_t c) { return (c & 0x7fff) > 0x7f80; }
bool f16_nan(uint32_t c) { return (c & 0x7fff) > 0x7c00; }
bool e4m3_nan(uint32_t c) { return (c & 0x7f) == 0x7f; }
bool e5m2_nan(uint32_t c) { return (c & 0x7f) > 0x7c; }

}  // namespace

TEST(DType, Bf16DecodeAllCodes) { check_decode("bf16", 65536, [](uint32_t c) { return bf16_to_f32(uint16_t(c)); }); }
TEST(DType, F16DecodeAllCodes) { check_decode("f16", 65536, [](uint32_t c) { return f16_to_f32(uint16_t(c)); }); }
TEST(DType, E4m3DecodeAllCodes) { check_decode("e4m3", 256, [](uint32_t c) { return fp8e4m3_to_f32(uint8_t(c)); }); }
TEST(DType, E5m2DecodeAllCodes) { check_decode("e5m2", 256, [](uint32_t c) { return fp8e5m2_to_f32(uint8_t(c)); }); }

TEST(DType, E4m3LookupTableMatchesDecoder) {
  for (int c = 0; c < 256; ++c) {
    float a = kFp8E4M3ToF32[c], b = fp8e4m3_to_f32(uint8_t(c));
    if (std::isnan(b)) EXPECT_TRUE(std::isnan(a)) << c;
    else EXPECT_EQ(f32_bits(a), f32_bits(b)) << c;
  }
}

TEST(DType, Bf16EncodeCodesMidpointsSpecials) {
  check_encode("bf16", bf16_nan, [](float f) { return uint32_t(f32_to_bf16(f)); }, 200000);
}
TEST(DType, F16EncodeCodesMidpointsSpecials) {
  check_encode("f16", f16_nan, [](float f) { return uint32_t(f32_to_f16(f)); }, 200000);
}
TEST(DType, E4m3EncodeCodesMidpointsSpecials) {
  check_encode("e4m3", e4m3_nan, [](float f) { return uint32_t(f32_to_fp8e4m3(f)); }, 1000);
}
TEST(DType, E5m2EncodeCodesMidpointsSpecials) {
  check_encode("e5m2", e5m2_nan, [](float f) { return uint32_t(f32_to_fp8e5m2(f)); }, 1000);
}

// The documented boundaries, spelled out (the tables hold them too).
TEST(DType, E4m3Boundaries) {
  EXPECT_EQ(f32_to_fp8e4m3(448.0f), 0x7e);
  EXPECT_EQ(f32_to_fp8e4m3(464.0f), 0x7e);                              // tie -> even (448)
  EXPECT_EQ(f32_to_fp8e4m3(std::nextafter(464.0f, 1e9f)), 0x7f);        // rounds past 448: NaN, no saturation
  EXPECT_EQ(f32_to_fp8e4m3(480.0f), 0x7f);
  EXPECT_EQ(f32_to_fp8e4m3(-480.0f), 0xff);
  EXPECT_EQ(f32_to_fp8e4m3(INFINITY), 0x7f);
  EXPECT_EQ(f32_to_fp8e4m3(-0.0f), 0x80);
  EXPECT_EQ(f32_to_fp8e4m3(0x1p-9f), 0x01);                             // smallest subnormal
  EXPECT_EQ(f32_to_fp8e4m3(0x1p-10f), 0x00);                            // tie with 0 -> even (0)
  EXPECT_EQ(f32_to_fp8e4m3(0x1.8p-9f), 0x02);                           // 1.5 x min: tie -> even (2)
  EXPECT_EQ(fp8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_TRUE(std::isnan(fp8e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(fp8e4m3_to_f32(0xff)));
  EXPECT_EQ(fp8e4m3_to_f32(0x08), 0x1p-6f);                             // smallest normal
}

TEST(DType, Bf16AndF16Boundaries) {
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000)), 0x3f82);  // tie -> even
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x7f7fffff)), 0x7f80);  // rounds to Inf
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.996f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // tie -> even = Inf
  EXPECT_EQ(f32_to_f16(NAN) & 0x7fff, 0x7e00);
  EXPECT_EQ(f32_to_fp8e5m2(57344.0f), 0x7b);
  EXPECT_EQ(f32_to_fp8e5m2(61440.0f), 0x7c);
}

TEST(DType, NamesAndSizes) {
  const DType all[] = {DType::BF16, DType::F16, DType::F32, DType::F64, DType::F8_E4M3, DType::F8_E5M2,
                       DType::I8, DType::U8, DType::I16, DType::I32, DType::I64, DType::BOOL};
  const size_t sizes[] = {2, 2, 4, 8, 1, 1, 1, 1, 2, 4, 8, 1};
  for (size_t i = 0; i < std::size(all); ++i) {
    EXPECT_EQ(dtype_size(all[i]), sizes[i]);
    auto back = dtype_from_name(dtype_name(all[i]));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, all[i]);
  }
  EXPECT_FALSE(dtype_from_name("F8_E4M3FN").has_value());
  EXPECT_FALSE(dtype_from_name("bf16").has_value());
  EXPECT_FALSE(dtype_from_name("").has_value());
}
