// Hand-computed small cases for each step of AWQ's math (spec compressed-tensors-awq.md §3, §5).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "calib/awq_grid.h"
#include "calib/awq_reference_qdq.h"
#include "calib/awq_search.h"
#include "calib/awq_smoothing.h"
#include "calib/awq_stats.h"
#include "quant/rtn_int4.h"
#include "util/dtype.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

using namespace mixq;
using namespace mixq::calib;

TEST(AwqQdq, ReciprocalIsCudaFp32OneOverSevenPointFive) {
  EXPECT_EQ(f32_bits(w4_sym_reciprocal_range()), 0x3E088889u);
  EXPECT_EQ(w4_sym_reciprocal_range(), float(1.0 / 7.5));
}

TEST(AwqQdq, ScaleIsBf16OfAmaxTimesReciprocalAndZeroBecomesEps) {
  EXPECT_EQ(w4_sym_group_scale(7.5f), 1.0f);          // 7.5 * 0.13333334 = 1.0000000x -> bf16 1
  EXPECT_EQ(w4_sym_group_scale(0.0f), 0.0078125f);    // zero scale -> torch.finfo(bf16).eps
  EXPECT_EQ(w4_sym_group_scale(1.0f), round_bf16(1.0f * w4_sym_reciprocal_range()));
  EXPECT_EQ(w4_sym_group_scale(1.0f), 0.1337890625f); // 0x3E088889 rounds up to bf16 0x3E09
}

TEST(AwqQdq, ClampThenRoundHalfToEven) {
  // One group of 4 with amax 7.5 -> scale 1, so w/scale = w.
  const float w[4] = {7.5f, -7.5f, 6.5f, -0.5f};
  int8_t q[4];
  float sc;
  quantize_w4_group_sym_reference(w, 1, 4, 4, q, &sc);
  EXPECT_EQ(sc, 1.0f);
  EXPECT_EQ(q[0], 7);    // +amax clamps to 7
  EXPECT_EQ(q[1], -8);   // -7.5 ties to even -8
  EXPECT_EQ(q[2], 6);    // 6.5 ties to even 6
  EXPECT_EQ(q[3], 0);    // -0.5 -> -0
  const float w2[4] = {2.5f, 3.5f, 0.3f, -7.5f};  // bf16(0.3) = 0.30078125 -> 0
  quantize_w4_group_sym_reference(w2, 1, 4, 4, q, &sc);
  EXPECT_EQ(q[0], 2);
  EXPECT_EQ(q[1], 4);
  EXPECT_EQ(q[2], 0);
  float out[4];
  qdq_w4_group_sym_reference(w2, 1, 4, 4, out);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], 4.0f);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[3], -8.0f);  // -amax dequantizes to -8 s
}

TEST(AwqQdq, GroupsAreIndependentAndZeroGroupStaysZero) {
  // Row of two groups of 2: [0, 0 | 1, -0.25]; second group amax 1 -> scale 0.1337890625.
  const float w[4] = {0.0f, 0.0f, 1.0f, -0.25f};
  float out[4];
  qdq_w4_group_sym_reference(w, 1, 4, 2, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  const float s = 0.1337890625f;
  EXPECT_EQ(out[2], round_bf16(7.0f * s));                                      // 1/s = 7.47 -> 7
  EXPECT_EQ(out[3], round_bf16(std::nearbyint(round_bf16(-0.25f / s)) * s));   // -1.875 -> -2
  EXPECT_EQ(out[3], round_bf16(-2.0f * s));
}

TEST(AwqGrid, DuoOnIsIdentityThenNineteenRatios) {
  auto g = awq_grid_points(20, DuoScaling::On);
  ASSERT_EQ(g.size(), 20u);
  EXPECT_EQ(g[0].ratio, 0.0);
  EXPECT_FALSE(g[0].use_duo);
  for (int k = 0; k <= 18; ++k) {
    EXPECT_TRUE(g[size_t(k + 1)].use_duo);
    EXPECT_EQ(g[size_t(k + 1)].ratio, double(k) / 18.0);
  }
  EXPECT_EQ(g[19].ratio, 1.0);
}

TEST(AwqGrid, DuoOffAndBoth) {
  auto off = awq_grid_points(20, DuoScaling::Off);
  ASSERT_EQ(off.size(), 20u);
  EXPECT_EQ(off[19].ratio, 1.0);
  EXPECT_EQ(off[1].ratio, 1.0 / 19.0);
  for (auto& p : off) EXPECT_FALSE(p.use_duo);
  auto both = awq_grid_points(20, DuoScaling::Both);
  ASSERT_EQ(both.size(), 20u);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(both[size_t(2 * k)].ratio, double(k) / 9.0);
    EXPECT_FALSE(both[size_t(2 * k)].use_duo);
    EXPECT_EQ(both[size_t(2 * k + 1)].ratio, double(k) / 9.0);
    EXPECT_TRUE(both[size_t(2 * k + 1)].use_duo);
  }
  EXPECT_THROW(awq_grid_points(2, DuoScaling::On), InputError);
  EXPECT_THROW(awq_grid_points(1, DuoScaling::Off), InputError);
  EXPECT_THROW(awq_grid_points(3, DuoScaling::Both), InputError);
}

TEST(AwqScales, IdentityPointGivesOnes) {
  std::vector<float> x{0.5f, 3.0f, 0.0f};
  std::vector<double> w{1.0, 2.0, 0.1};
  for (double v : awq_scales(x, w, {0.0, false})) EXPECT_EQ(v, 1.0);
}

TEST(AwqScales, DuoFormulaAndNormalization) {
  // ratio 1: s = x / (w^0 + 1e-4) = x / 1.0001; normalized by sqrt(max*min) = 2/1.0001 -> [0.5, 2].
  std::vector<float> x{1.0f, 4.0f};
  std::vector<double> w{1.0, 1.0};
  auto s = awq_scales(x, w, {1.0, true});
  EXPECT_NEAR(s[0], 0.5, 1e-15);
  EXPECT_NEAR(s[1], 2.0, 1e-15);
  // ratio 0: s = 1 / (w + 1e-4), w = [1, 4]: normalized s0 = sqrt(4.0001/1.0001), s1 = 1/s0.
  std::vector<double> w2{1.0, 4.0};
  s = awq_scales(x, w2, {0.0, true});
  EXPECT_NEAR(s[0], std::sqrt(4.0001 / 1.0001), 1e-14);
  EXPECT_NEAR(s[1], std::sqrt(1.0001 / 4.0001), 1e-14);
  // ratio 0.5: s = sqrt(x) / (sqrt(w) + 1e-4) with x = [1, 4], w = [4, 1].
  std::vector<double> w3{4.0, 1.0};
  s = awq_scales(x, w3, {0.5, true});
  const double a = 1.0 / (2.0 + 1e-4), b = 2.0 / (1.0 + 1e-4), d = std::sqrt(a * b);
  EXPECT_NEAR(s[0], a / d, 1e-14);
  EXPECT_NEAR(s[1], b / d, 1e-14);
}

TEST(AwqScales, NonDuoIsFp32AndClampsAtOneEMinusFour) {
  std::vector<float> x{1.0f, 4.0f};
  std::vector<double> unused;
  auto s = awq_scales(x, unused, {0.5, false});  // [1, 2] / sqrt(2)
  EXPECT_EQ(s[0], double(1.0f / std::sqrt(2.0f)));
  EXPECT_EQ(s[1], double(2.0f / std::sqrt(2.0f)));
  // x = 0 channel: 0^1 = 0 -> clamp 1e-4; other channel 1: normalized by sqrt(1e-4) = 0.01.
  std::vector<float> z{0.0f, 1.0f};
  s = awq_scales(z, unused, {1.0, false});
  EXPECT_NEAR(s[0], 0.01, 1e-6);
  EXPECT_NEAR(s[1], 100.0, 1e-2);
}

TEST(AwqScales, NanAndInfBecomeOne) {
  std::vector<float> x{std::numeric_limits<float>::quiet_NaN(), 4.0f};
  std::vector<double> unused;
  for (double v : awq_scales(x, unused, {1.0, false})) EXPECT_EQ(v, 1.0);
  std::vector<float> inf{std::numeric_limits<float>::infinity(), 4.0f};
  auto s = awq_scales(inf, unused, {1.0, false});  // inf/sqrt(inf*4) = nan -> 1; 4/inf = 0
  EXPECT_EQ(s[0], 1.0);
  EXPECT_EQ(s[1], 0.0);
}

TEST(AwqStats, XMeanStreamsOverBatches) {
  Matrix a(2, 3), b(1, 3);
  a.data = {1, -2, 0.5f, 3, 4, -0.5f};
  b.data = {-2, 0, 1};
  XMeanAccumulator acc(3);
  acc.add(a);
  acc.add(b);
  EXPECT_EQ(acc.tokens(), 3);
  auto m = acc.mean();
  EXPECT_EQ(m[0], 2.0f);
  EXPECT_EQ(m[1], 2.0f);
  EXPECT_EQ(m[2], 2.0f / 3.0f);
  XMeanAccumulator empty(3);
  for (float v : empty.mean()) EXPECT_EQ(v, 0.0f);
}

TEST(AwqStats, WMeanIsGroupNormalizedAndPooled) {
  Matrix w(2, 4);
  w.data = {1, -2, 0.5f, 0.25f,  // groups [1,2]/2 -> .5, 1 ; [.5,.25]/.5 -> 1, .5
            2, 2, 0, 0};         // [1, 1] ; [0, 0] (0 / bf16(1e-6))
  const Matrix* one[] = {&w};
  auto m = compute_w_mean(one, 2);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_DOUBLE_EQ(m[0], 0.75);
  EXPECT_DOUBLE_EQ(m[1], 1.0);
  EXPECT_DOUBLE_EQ(m[2], 0.5);
  EXPECT_DOUBLE_EQ(m[3], 0.25);
  // A second layer of one row [3, 3, 3, 3] (all normalize to 1): pooled over 3 rows.
  Matrix v(1, 4);
  v.data = {3, 3, 3, 3};
  const Matrix* two[] = {&w, &v};
  m = compute_w_mean(two, 2);
  EXPECT_DOUBLE_EQ(m[0], (0.5 + 1 + 1) / 3);
  EXPECT_DOUBLE_EQ(m[3], (0.5 + 0 + 1) / 3);
  // Normalized values are bf16: 1/3 in bf16 is 0.333984375.
  Matrix t(1, 2);
  t.data = {1, 3};
  const Matrix* three[] = {&t};
  m = compute_w_mean(three, 2);
  EXPECT_DOUBLE_EQ(m[0], 0.333984375);
  EXPECT_DOUBLE_EQ(m[1], 1.0);
}

TEST(AwqLoss, MeanOfSquaresWithBf16BatchSums) {
  std::vector<float> ref{1, 2, 3, 4}, out{1, 2, 3, 5};
  EXPECT_EQ(awq_mse_loss(ref, out, {}), 0.25f);
  std::vector<int64_t> b{2, 2};
  EXPECT_EQ(awq_mse_loss(ref, out, b), 0.25f);
  // A batch sum of 257 is stored in bf16 as 256 (tie to even).
  std::vector<float> z(257, 0.0f), o(257, 1.0f);
  EXPECT_EQ(awq_mse_loss(z, o, {}), 256.0f / 257.0f);
  std::vector<int64_t> split{128, 129};  // 128 + 129 exact in bf16: 257 total
  EXPECT_EQ(awq_mse_loss(z, o, split), 257.0f / 257.0f);
}

namespace {

// A parent whose output for call c (0 = the reference) is ref + sqrt(target_loss[c-1]) everywhere,
// so the search sees the given loss sequence.
struct ScriptedParent {
  std::vector<float> losses;
  int calls = 0;
  void operator()(const BalanceWeights&, std::vector<float>& out) {
    out.assign(4, 1.0f);
    if (calls > 0) {
      const float l = losses[size_t(calls - 1)];
      for (auto& v : out) v += std::isnan(l) ? l : std::sqrt(l);
    }
    ++calls;
  }
};

Matrix small_weight() {
  Matrix w(2, 4);
  w.data = {1, -2, 0.5f, 0.25f, 2, 2, 0, 1};
  return w;
}

}  // namespace

TEST(AwqSearch, FirstStrictMinimumWins) {
  Matrix w = small_weight();
  BalanceLayer bl[] = {{&w, true}};
  std::vector<float> x{1, 2, 3, 4};
  AwqSearchOptions o;
  o.n_grid = 6;  // identity + 5 ratios
  o.group = 2;
  o.qdq = qdq_w4_group_sym_reference;
  auto nan = std::numeric_limits<float>::quiet_NaN();
  auto sp = std::make_shared<ScriptedParent>(ScriptedParent{{4, nan, 1, 1, 0.25f, 0.25f}});
  auto r = awq_search_best_scales("t", bl, x, 10, [sp](auto& bw, auto& out) { (*sp)(bw, out); }, o);
  ASSERT_EQ(r.losses.size(), 6u);
  EXPECT_EQ(r.best_index, 4);
  EXPECT_TRUE(r.grid[4].use_duo);
  EXPECT_EQ(r.grid[4].ratio, 0.75);
  EXPECT_EQ(r.scales, awq_scales(x, compute_w_mean(std::vector<const Matrix*>{&w}, 2), r.grid[4]));
  EXPECT_EQ(r.losses[0], 4.0f);
  EXPECT_TRUE(std::isnan(r.losses[1]));
}

TEST(AwqSearch, AllEqualLossesKeepIdentityAndNoFiniteLossIsAnError) {
  Matrix w = small_weight();
  BalanceLayer bl[] = {{&w, true}};
  std::vector<float> x{1, 2, 3, 4};
  AwqSearchOptions o;
  o.n_grid = 4;
  o.group = 2;
  o.qdq = qdq_w4_group_sym_reference;
  auto sp = std::make_shared<ScriptedParent>(ScriptedParent{{1, 1, 1, 1}});
  auto r = awq_search_best_scales("t", bl, x, 10, [sp](auto& bw, auto& out) { (*sp)(bw, out); }, o);
  EXPECT_EQ(r.best_index, 0);
  for (double s : r.scales) EXPECT_EQ(s, 1.0);
  auto nan = std::numeric_limits<float>::quiet_NaN();
  auto bad = std::make_shared<ScriptedParent>(ScriptedParent{{nan, nan, nan, nan}});
  try {
    awq_search_best_scales("model.layers.3.post_attention_layernorm", bl, x, 10,
                           [bad](auto& bw, auto& out) { (*bad)(bw, out); }, o);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.3.post_attention_layernorm"), std::string::npos);
  }
}

TEST(AwqSearch, NoTokensSkipsWithIdentityScales) {
  Matrix w = small_weight();
  BalanceLayer bl[] = {{&w, true}};
  std::vector<float> x{0, 0, 0, 0};
  int calls = 0;
  auto r = awq_search_best_scales("t", bl, x, 0, [&](auto&, auto&) { ++calls; }, AwqSearchOptions{});
  EXPECT_TRUE(r.skipped);
  EXPECT_EQ(calls, 0);
  for (double s : r.scales) EXPECT_EQ(s, 1.0);
}

TEST(AwqSearch, TrialWeightsAreQdqOfScaledOverScaleAndRouterIsUntouched) {
  Matrix w = small_weight(), gate(1, 4);
  gate.data = {0.1f, 0.2f, 0.3f, 0.4f};
  BalanceLayer bl[] = {{&gate, false}, {&w, true}};
  std::vector<float> x{1, 2, 3, 4};
  AwqSearchOptions o;
  o.n_grid = 3;
  o.group = 2;
  o.qdq = qdq_w4_group_sym_reference;
  int call = 0;
  std::vector<double> w_mean = compute_w_mean(std::vector<const Matrix*>{&w}, 2);
  auto grid = awq_grid_points(3, DuoScaling::On);
  auto parent = [&](const BalanceWeights& bw, std::vector<float>& out) {
    std::vector<float> s0, s1;
    EXPECT_EQ(bw.get(0, s0), gate.data.data());  // the router: original weights, no copy
    const float* t = bw.get(1, s1);
    if (call == 0) {
      EXPECT_EQ(t, w.data.data());
    } else {
      auto s = awq_scales(x, w_mean, grid[size_t(call - 1)]);
      std::vector<float> expect(8);
      // Hand-rolled: W' = bf16(W*s); QDQ; / s; bf16.
      for (int i = 0; i < 8; ++i) expect[size_t(i)] = round_bf16(float(double(w.data[size_t(i)]) * s[size_t(i % 4)]));
      qdq_w4_group_sym_reference(expect.data(), 2, 4, 2, expect.data());
      for (int i = 0; i < 8; ++i) expect[size_t(i)] = round_bf16(float(double(expect[size_t(i)]) / s[size_t(i % 4)]));
      for (int i = 0; i < 8; ++i) EXPECT_EQ(t[i], expect[size_t(i)]) << i;
    }
    out.assign(2, float(call++));
  };
  awq_search_best_scales("t", bl, x, 5, parent, o);
  EXPECT_EQ(call, 4);
}

TEST(AwqSmoothing, StoredValuesRoundThroughFp32ToBf16) {
  std::vector<float> norm{1.0f, 3.0f};
  std::vector<double> s{3.0, 0.5};
  smooth_norm_weight(norm, s);
  EXPECT_EQ(norm[0], round_bf16(float(1.0 / 3.0)));
  EXPECT_EQ(norm[1], 6.0f);
  Matrix w(2, 2);
  w.data = {1, 1, 2, 2};
  scale_balance_columns(w, s, StoreAs::F32);
  EXPECT_EQ(w.data, (std::vector<float>{3, 0.5f, 6, 1}));
  Matrix r(3, 2);
  r.data = {5, 5, 1, 1, 2, 2};
  smooth_linear_rows(r, s, StoreAs::BF16);  // the last 2 rows
  EXPECT_EQ(r.data, (std::vector<float>{5, 5, round_bf16(float(1.0 / 3)), round_bf16(float(1.0 / 3)), 4, 4}));
}

TEST(AwqQdq, QuantsFastQdqEqualsTheReferenceBitForBit) {
  // Random bf16 weights with outliers, all-zero groups and exact ties at +-7.5 s, odd row counts.
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  for (int64_t rows : {1, 7, 33}) {
    const int64_t cols = 96;
    std::vector<float> w(size_t(rows * cols));
    for (auto& v : w) v = round_bf16(nd(rng));
    for (int64_t c = 0; c < 32; ++c) w[size_t(c)] = 0.0f;  // a zero group
    w[40] = 7.5f; w[41] = -7.5f; w[42] = 6.5f; w[43] = -0.5f; w[44] = 2.5f;  // ties, scale 1 group
    for (int64_t c = 32; c < 64; ++c) if (c > 44) w[size_t(c)] = 0.25f;
    if (rows > 1) w[size_t(cols + 5)] = 300.0f;  // an outlier
    std::vector<float> a(w.size()), b(w.size());
    qdq_w4_group_sym_reference(w.data(), rows, cols, 32, a.data());
    qdq_int4(w.data(), rows, cols, 32, b.data());
    // Equal values; the sign of a zero may differ (torch.round gives -0.0 for small negatives, which
    // no product or stored int4 code can observe).
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "rows " << rows << " i " << i;
  }
}

// PyTorch-computed goldens (tests/calib/make_awq_golden.py): w_mean, the scales of every grid point
// and the trial weights bf16(QDQ(bf16(W*s))/s) must match llm-compressor's tensor semantics.
TEST(AwqGolden, MatchesPyTorchTensorSemantics) {
  std::ifstream f(std::string(MIXQ_SOURCE_DIR) + "/tests/calib/golden/awq_small.json");
  ASSERT_TRUE(f.good());
  nlohmann::json j = nlohmann::json::parse(f);
  const int64_t rows = j["rows"], cols = j["cols"], group = j["group"];
  Matrix W(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) W.at(r, c) = j["W"][size_t(r)][size_t(c)].get<float>();
  std::vector<float> x_mean = j["x_mean"].get<std::vector<float>>();
  std::vector<double> w_mean = compute_w_mean(std::vector<const Matrix*>{&W}, group);
  auto gw = j["w_mean"].get<std::vector<double>>();
  for (int64_t c = 0; c < cols; ++c) EXPECT_DOUBLE_EQ(w_mean[size_t(c)], gw[size_t(c)]) << c;
  int points = 0;
  for (auto& p : j["points"]) {
    GridPoint gp{p["ratio"].get<double>(), p["duo"].get<bool>()};
    auto gs = p["scales"].get<std::vector<double>>();
    auto s = awq_scales(x_mean, w_mean, gp);
    // pow() may differ by an ulp between glibc and PyTorch's vectorized CPU pow.
    for (int64_t c = 0; c < cols; ++c) EXPECT_NEAR(s[size_t(c)], gs[size_t(c)], 2e-6 * gs[size_t(c)]) << gp.ratio << " " << c;
    // Trial weights from the golden scales: exact.
    std::vector<float> t(size_t(rows * cols));
    awq_trial_weight(W, gs, group, nullptr, t.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(t[size_t(r * cols + c)], p["trial"][size_t(r)][size_t(c)].get<float>())
            << "ratio " << gp.ratio << " duo " << gp.use_duo << " at " << r << "," << c;
    ++points;
  }
  EXPECT_EQ(points, 22);
}
