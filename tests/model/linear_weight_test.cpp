// LinearWeight over the three storage formats: dense, FP8-block (official and compressed-tensors
// scale names), W4A16 packed; reference dequantization and shape/dtype validation.
#include "model/linear_weight.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model_test_util.h"

using namespace mixq;
using namespace mixq::testing;
using ::testing::HasSubstr;

namespace {

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

std::string load_error(const Checkpoint& ck, const std::string& m, const Shape* expect = nullptr) {
  try {
    load_linear(ck, m, expect);
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST(LinearWeight, DenseFormats) {
  auto dir = temp_dir("dense");
  auto v = randn(6 * 5, 1);
  std::vector<uint16_t> h;
  for (float f : v) h.push_back(f32_to_f16(f));
  write_tensors(dir, {bf16("a.weight", {6, 5}, v), raw("b.weight", DType::F32, {6, 5}, v),
                      raw("c.weight", DType::F16, {6, 5}, h)});
  Checkpoint ck(dir);
  for (const char* m : {"a", "b", "c"}) {
    auto w = load_linear(ck, m);
    EXPECT_EQ(w.format, WeightFormat::Dense);
    EXPECT_EQ(w.out, 6);
    EXPECT_EQ(w.in, 5);
    auto d = w.dequantize();
    for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(d[i], v[i], std::fabs(v[i]) * 0.01 + 1e-6) << m;
  }
  EXPECT_EQ(load_linear(ck, "a").storage_label(), "BF16");
  EXPECT_EQ(load_linear(ck, "b").bytes(), 120u);
  EXPECT_EQ(load_linear(ck, "b").dequantize(), v);  // F32 is exact
  Shape want{5, 6};
  EXPECT_THAT(load_error(ck, "a", &want), HasSubstr("the config implies [5, 6]"));
  EXPECT_THAT(load_error(ck, "zz"), HasSubstr("'zz.weight' is missing"));
  std::filesystem::remove_all(dir);
}

TEST(LinearWeight, Fp8BlockWithPartialBlocks) {
  auto dir = temp_dir("fp8");
  const int64_t out = 200, in = 300;  // scale [2, 3]; last blocks partial
  std::vector<uint8_t> q(size_t(out * in));
  std::mt19937 g(3);
  for (auto& x : q) {
    do x = uint8_t(g()); while ((x & 0x7f) == 0x7f);  // no NaN codes
  }
  std::vector<float> s = {0.5f, 2.0f, 0.125f, 1.0f, 4.0f, 0.25f};
  write_tensors(dir, {raw("m.weight", DType::F8_E4M3, {out, in}, q), raw("m.weight_scale_inv", DType::F32, {2, 3}, s),
                      raw("n.weight", DType::F8_E4M3, {out, in}, q), raw("n.weight_scale", DType::F32, {2, 3}, s),
                      raw("bad.weight", DType::F8_E4M3, {out, in}, q), raw("bad.weight_scale_inv", DType::F32, {2, 2}, std::vector<float>(s.begin(), s.begin() + 4)),
                      raw("none.weight", DType::F8_E4M3, {out, in}, q)});
  Checkpoint ck(dir);
  auto w = load_linear(ck, "m");
  EXPECT_EQ(w.format, WeightFormat::Fp8Block);
  EXPECT_TRUE(w.scale_named_inv);
  EXPECT_FALSE(load_linear(ck, "n").scale_named_inv);
  EXPECT_EQ(w.storage_label(), "FP8-block");
  EXPECT_EQ(w.bytes(), uint64_t(out * in + 24));
  EXPECT_EQ(w.tensor_names(), (std::vector<std::string>{"m.weight", "m.weight_scale_inv"}));
  auto d = w.dequantize();
  for (int64_t r = 0; r < out; ++r)
    for (int64_t c = 0; c < in; ++c)
      ASSERT_EQ(d[size_t(r * in + c)], fp8e4m3_to_f32(q[size_t(r * in + c)]) * s[size_t((r / 128) * 3 + c / 128)]) << r << "," << c;
  // dequantize_rows of a middle range equals the same rows of the whole.
  std::vector<float> part(size_t(3 * in));
  w.dequantize_rows(127, 130, part.data());
  EXPECT_TRUE(std::equal(part.begin(), part.end(), d.begin() + 127 * in));
  EXPECT_THAT(load_error(ck, "bad"), HasSubstr("expected a float [2, 3] for 128x128 blocks"));
  EXPECT_THAT(load_error(ck, "none"), HasSubstr("no weight_scale_inv"));
  std::filesystem::remove_all(dir);
}

TEST(LinearWeight, PackedInt4) {
  auto dir = temp_dir("w4");
  const int64_t out = 3, in = 64, G = 32;
  std::vector<int> u(size_t(out * in));
  std::mt19937 g(5);
  for (auto& x : u) x = int(g() % 16);
  std::vector<int32_t> packed(size_t(out * in / 8), 0);
  for (int64_t r = 0; r < out; ++r)
    for (int64_t c = 0; c < in; ++c)
      packed[size_t(r * (in / 8) + c / 8)] |= int32_t(uint32_t(u[size_t(r * in + c)]) << (4 * (c % 8)));
  std::vector<float> scale = {0.5f, 1.0f, 2.0f, 0.25f, 1.5f, 3.0f};  // [3, 2]
  std::vector<int64_t> shape = {out, in};
  write_tensors(dir, {raw("p.weight_packed", DType::I32, {out, in / 8}, packed), bf16("p.weight_scale", {out, in / G}, scale),
                      raw("p.weight_shape", DType::I64, {2}, shape),
                      raw("z.weight_packed", DType::I32, {out, in / 8}, packed), bf16("z.weight_scale", {out, in / G}, scale),
                      raw("z.weight_shape", DType::I64, {2}, shape), bf16("z.weight_zero_point", {out, in / G}, scale),
                      raw("s.weight_packed", DType::I32, {out, in / 8 + 1}, std::vector<int32_t>(size_t(out * (in / 8 + 1)))),
                      bf16("s.weight_scale", {out, in / G}, scale), raw("s.weight_shape", DType::I64, {2}, shape)});
  Checkpoint ck(dir);
  auto w = load_linear(ck, "p");
  EXPECT_EQ(w.format, WeightFormat::PackedInt4);
  EXPECT_EQ(w.group_size, 32);
  EXPECT_EQ(w.storage_label(), "W4A16-g32");
  EXPECT_EQ(w.out, 3);
  EXPECT_EQ(w.in, 64);
  auto d = w.dequantize();
  for (int64_t r = 0; r < out; ++r)
    for (int64_t c = 0; c < in; ++c)
      EXPECT_EQ(d[size_t(r * in + c)], float(u[size_t(r * in + c)] - 8) * scale[size_t(r * 2 + c / G)]);
  EXPECT_THAT(load_error(ck, "z"), HasSubstr("asymmetric"));
  EXPECT_THAT(load_error(ck, "s"), HasSubstr("s.weight_packed"));
  std::filesystem::remove_all(dir);
}

TEST(LinearWeight, RejectsNonFloatWeights) {
  auto dir = temp_dir("bad");
  write_tensors(dir, {raw("i.weight", DType::I8, {2, 2}, std::vector<int8_t>{1, 2, 3, 4}),
                      raw("v.weight", DType::F32, {4}, std::vector<float>{1, 2, 3, 4})});
  Checkpoint ck(dir);
  EXPECT_THAT(load_error(ck, "i"), HasSubstr("dtype I8"));
  EXPECT_THAT(load_error(ck, "v"), HasSubstr("2-D"));
  std::filesystem::remove_all(dir);
}
