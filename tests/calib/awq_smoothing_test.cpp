// Smoothing leaves the full-precision function unchanged, and AWQ's search beats plain RTN on a
// random MoE layer with outlier channels.
#include <gtest/gtest.h>

#include "calib/awq_gram.h"
#include "calib/awq_moe_layer.h"
#include "calib/awq_parents.h"
#include "calib/awq_reference_qdq.h"
#include "calib/awq_grid.h"
#include "calib/awq_stats.h"
#include "tiny_moe.h"

using namespace mixq;
using namespace mixq::calib;
using namespace mixq::calib::testing;

namespace {

std::vector<double> some_scales(const TinyMoe& m, const Matrix& x, double ratio) {
  XMeanAccumulator acc(x.cols);
  acc.add(x);
  std::vector<const Matrix*> q;
  for (auto& w : m.w.w1) q.push_back(&w);
  for (auto& w : m.w.w3) q.push_back(&w);
  return awq_scales(acc.mean(), compute_w_mean(q, 32), {ratio, true});
}

}  // namespace

TEST(AwqSmoothingInvariance, NormMappingFp32IsExactUpToFloatRounding) {
  TinyMoe m = make_tiny_moe(1);
  MoeOutput ref = run_moe(m, m.w);
  auto s = some_scales(m, ref.x, 1.0);
  double smin = 1e9, smax = 0;
  for (double v : s) { smin = std::min(smin, v); smax = std::max(smax, v); }
  ASSERT_GT(smax / smin, 5.0) << "the outlier channels should give a wide range of scales";
  MoeLayerWeights w = m.w;
  apply_norm_mapping_scales(w, s, RouterCompensation::On, StoreAs::F32, StoreAs::F32);
  MoeOutput out = run_moe(m, w);
  EXPECT_EQ(routing_change_rate(ref.routing, out.routing), 0.0);
  EXPECT_LT(rel_l2(ref.y, out.y), 1e-5);
}

TEST(AwqSmoothingInvariance, NormMappingBf16IsWithinBf16Rounding) {
  TinyMoe m = make_tiny_moe(2);
  MoeOutput ref = run_moe(m, m.w);
  auto s = some_scales(m, ref.x, 0.75);
  MoeLayerWeights w = m.w;
  apply_norm_mapping_scales(w, s, RouterCompensation::On, StoreAs::BF16, StoreAs::BF16);
  MoeOutput out = run_moe(m, w);
  // Three bf16 roundings (norm weight, w1 or w3) of relative size <= 2^-9 each feed the output.
  EXPECT_LT(rel_l2(ref.y, out.y), 3 * std::ldexp(1.0, -8));
  EXPECT_GT(rel_l2(ref.y, out.y), 0.0);
}

TEST(AwqSmoothingInvariance, W3W2MappingKeepsEachExpert) {
  TinyMoe m = make_tiny_moe(3);
  MoeOutput ref = run_moe(m, m.w);
  for (StoreAs as : {StoreAs::F32, StoreAs::BF16}) {
    MoeLayerWeights w = m.w;
    for (int e = 0; e < int(m.shape.experts); ++e) {
      Matrix h = swiglu_intermediate(ref.x, m.w.w1[size_t(e)], m.w.w3[size_t(e)]);
      XMeanAccumulator acc(h.cols);
      acc.add(h);
      std::vector<const Matrix*> q{&m.w.w2[size_t(e)]};
      apply_w3_w2_scales(w, e, awq_scales(acc.mean(), compute_w_mean(q, 32), {0.6, true}), as);
    }
    MoeOutput out = run_moe(m, w);
    EXPECT_LT(rel_l2(ref.y, out.y), as == StoreAs::F32 ? 1e-5 : 3 * std::ldexp(1.0, -8));
  }
}

namespace {

// Quantize every expert weight (QDQ) and return the block output.
Matrix quantized_output(const TinyMoe& m, const MoeLayerWeights& w) {
  MoeLayerWeights q = w;
  for (auto* v : {&q.w1, &q.w3, &q.w2})
    for (auto& mat : *v) qdq_w4_group_sym_reference(mat.data.data(), mat.rows, mat.cols, 32, mat.data.data());
  return run_moe(m, q).y;
}

}  // namespace

TEST(AwqEndToEndLayer, SearchBeatsRtnOnOutlierLayer) {
  TinyMoe m = make_tiny_moe(4, 512);
  MoeOutput ref = run_moe(m, m.w);
  MoeAwqOptions opt;  // n_grid 20, duo, group 32, router compensated
  opt.top_k = m.top_k;
  opt.search.batch_numel.assign(4, 128 * m.shape.hidden);  // four calibration samples of 128 tokens
  MoeLayerWeights w = m.w;
  MoeAwqReport rep = awq_smooth_moe_layer(w, m.hidden, m.shape, opt, "model.layers.0");
  ASSERT_GE(rep.norm.best_index, 0);
  EXPECT_LT(rep.norm.losses[size_t(rep.norm.best_index)], rep.norm.losses[0]) << "AWQ should improve on identity";
  ASSERT_EQ(rep.w2.size(), size_t(m.shape.experts));
  for (auto& r : rep.w2) EXPECT_LE(r.losses[size_t(r.best_index)], r.losses[0]);
  int64_t routed = 0;
  for (int64_t n : rep.routed_tokens) routed += n;
  EXPECT_EQ(routed, 512 * m.top_k);
  EXPECT_EQ(rep.tokens, 512);
  const double rtn = rel_l2(ref.y, quantized_output(m, m.w));
  const double awq = rel_l2(ref.y, quantized_output(m, w));
  std::printf("block output rel-L2 error: RTN %.5f, AWQ %.5f (ratio %.3f); routing change %.4f (compensated) vs "
              "%.4f (uncompensated)\n", rtn, awq, awq / rtn, rep.routing_change_compensated,
              rep.routing_change_uncompensated);
  EXPECT_LT(awq, 0.9 * rtn);
  EXPECT_LT(rep.routing_change_compensated, rep.routing_change_uncompensated);
}

TEST(AwqEndToEndLayer, UncompensatedFlagLeavesTheGateAlone) {
  TinyMoe m = make_tiny_moe(6, 256);
  MoeAwqOptions opt;
  opt.top_k = m.top_k;
  opt.search.n_grid = 6;
  opt.router = RouterCompensation::Off;
  MoeLayerWeights w = m.w;
  MoeAwqReport rep = awq_smooth_moe_layer(w, m.hidden, m.shape, opt);
  EXPECT_EQ(w.gate.data, m.w.gate.data);
  EXPECT_NE(w.norm, m.w.norm);
  // The uncompensated rate is the routing change this model really has now.
  MoeOutput before = run_moe(m, m.w), after = run_moe(m, w);
  EXPECT_EQ(routing_change_rate(before.routing, after.routing), rep.routing_change_uncompensated);
}

TEST(AwqGram, GramLossEqualsTheOutputMse) {
  std::mt19937 rng(21);
  Matrix w = random_matrix(48, 64, 0.1f, rng), trial = w;
  for (auto& v : trial.data) v = round_bf16(v * 1.01f + 0.001f);
  Matrix h1 = random_matrix(100, 64, 1.0f, rng), h2 = random_matrix(37, 64, 1.0f, rng);
  GramAccumulator g(64);
  g.add(h1);
  g.add(h2);
  EXPECT_EQ(g.tokens(), 137);
  double direct = 0.0;
  for (const Matrix* h : {&h1, &h2})
    for (int64_t t = 0; t < h->rows; ++t)
      for (int64_t o = 0; o < w.rows; ++o) {
        double d = 0.0;
        for (int64_t c = 0; c < w.cols; ++c) d += (double(trial.at(o, c)) - w.at(o, c)) * h->at(t, c);
        direct += d * d;
      }
  direct /= 137.0 * 48.0;
  EXPECT_NEAR(linear_mse_from_gram(w, trial.data.data(), g), direct, 1e-4 * direct);
}

TEST(AwqGram, LayerWithGramLossAlsoBeatsRtn) {
  TinyMoe m = make_tiny_moe(4, 512);
  MoeOutput ref = run_moe(m, m.w);
  MoeAwqOptions opt;
  opt.top_k = m.top_k;
  opt.w2_gram_loss = true;
  MoeLayerWeights w = m.w;
  MoeAwqReport rep = awq_smooth_moe_layer(w, m.hidden, m.shape, opt);
  for (auto& r : rep.w2) EXPECT_LE(r.losses[size_t(r.best_index)], r.losses[0]);
  const double rtn = rel_l2(ref.y, quantized_output(m, m.w));
  const double awq = rel_l2(ref.y, quantized_output(m, w));
  std::printf("with the Gram w2 loss: RTN %.5f, AWQ %.5f (ratio %.3f)\n", rtn, awq, awq / rtn);
  EXPECT_LT(awq, 0.9 * rtn);
}
