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
  const std::vector<Matrix> q = fp32_of(m.w.w1, m.w.w3);
  return awq_scales(acc.mean(), compute_w_mean(ptrs(q), 32), {ratio, true});
}

// Layer options for the quick checks: the model's top-k, a 6-point grid, and optionally the Gram
// w2 loss.
MoeAwqOptions quick_options(const TinyMoe& m, bool gram_loss) {
  MoeAwqOptions opt;
  opt.top_k = m.top_k;
  opt.search.n_grid = 6;
  opt.w2_gram_loss = gram_loss;
  return opt;
}

}  // namespace

TEST(AwqSmoothingInvariance, NormMappingFp32IsExactUpToFloatRounding) {
  TinyMoe m = make_tiny_moe(1);
  MoeOutput ref = run_moe(m, m.w);
  auto s = some_scales(m, ref.x, 1.0);
  double smin = 1e9, smax = 0;
  for (double v : s) { smin = std::min(smin, v); smax = std::max(smax, v); }
  ASSERT_GT(smax / smin, 5.0) << "the outlier channels should give a wide range of scales";
  // Everything fp32 (the experts as fp32 copies): exact up to float rounding.
  std::vector<float> norm = m.w.norm;
  Matrix gate = m.w.gate;
  Fp32Experts x(m.w);
  smooth_norm_weight(norm, s, StoreAs::F32);
  scale_balance_columns(gate, s, StoreAs::F32);
  for (auto* v : {&x.w1, &x.w3})
    for (auto& w : *v) scale_balance_columns(w, s, StoreAs::F32);
  MoeOutput out = run_moe_fp32(m, norm, gate, x);
  EXPECT_EQ(routing_change_rate(ref.routing, out.routing), 0.0);
  EXPECT_LT(rel_l2(ref.y, out.y), 1e-5);
}

TEST(AwqSmoothingInvariance, NormMappingBf16IsWithinBf16Rounding) {
  TinyMoe m = make_tiny_moe(2);
  MoeOutput ref = run_moe(m, m.w);
  auto s = some_scales(m, ref.x, 0.75);
  MoeLayerWeights w = m.w;
  apply_norm_mapping_scales(w, s, RouterCompensation::On, StoreAs::BF16);
  MoeOutput out = run_moe(m, w);
  // Three bf16 roundings (norm weight, w1 or w3) of relative size <= 2^-9 each feed the output.
  EXPECT_LT(rel_l2(ref.y, out.y), 3 * std::ldexp(1.0, -8));
  EXPECT_GT(rel_l2(ref.y, out.y), 0.0);
}

TEST(AwqSmoothingInvariance, W3W2MappingKeepsEachExpert) {
  TinyMoe m = make_tiny_moe(3);
  MoeOutput ref = run_moe(m, m.w);
  MoeLayerWeights w = m.w;  // bf16 storage
  Fp32Experts x(m.w);       // fp32 storage
  for (int e = 0; e < int(m.shape.experts); ++e) {
    Matrix h = swiglu_intermediate(ref.x, m.w.w1[size_t(e)], m.w.w3[size_t(e)]);
    XMeanAccumulator acc(h.cols);
    acc.add(h);
    const Matrix w2 = m.w.w2[size_t(e)].to_matrix();
    const std::vector<double> s = awq_scales(acc.mean(), compute_w_mean(std::vector<const Matrix*>{&w2}, 32), {0.6, true});
    apply_w3_w2_scales(w, e, s);
    smooth_linear_rows(x.w3[size_t(e)], s, StoreAs::F32);
    scale_balance_columns(x.w2[size_t(e)], s, StoreAs::F32);
  }
  EXPECT_LT(rel_l2(ref.y, run_moe_fp32(m, m.w.norm, m.w.gate, x).y), 1e-5);
  EXPECT_LT(rel_l2(ref.y, run_moe(m, w).y), 3 * std::ldexp(1.0, -8));
}

TEST(AwqSmoothingInvariance, SmoothingTheJobsBufferLaterGivesTheSameBits) {
  // What the pipeline relies on: smooth_expert_matrix on a fresh copy of an expert's source values,
  // given the layer's scales, equals the in-place smoothing of the held bf16 copy.
  TinyMoe m = make_tiny_moe(8, 256);
  MoeAwqOptions opt = quick_options(m, true);
  opt.w3_w2.assign(size_t(m.shape.experts), 1);
  opt.w3_w2[2] = 0;  // one expert without its w3 -> w2 mapping
  MoeLayerWeights w = m.w;
  MoeAwqReport rep = awq_smooth_moe_layer(w, m.hidden, m.shape, opt);
  EXPECT_TRUE(rep.w2[2].skipped);
  EXPECT_TRUE(rep.w2_scales(2).empty());
  for (int64_t e = 0; e < m.shape.experts; ++e)
    for (int part : {1, 3, 2}) {
      const Bf16Matrix& src = part == 1 ? m.w.w1[size_t(e)] : part == 3 ? m.w.w3[size_t(e)] : m.w.w2[size_t(e)];
      const Bf16Matrix& held = part == 1 ? w.w1[size_t(e)] : part == 3 ? w.w3[size_t(e)] : w.w2[size_t(e)];
      std::vector<float> buf;
      src.decode(buf);
      smooth_expert_matrix(buf.data(), src.rows, src.cols, part, rep.norm_scales(), rep.w2_scales(e));
      EXPECT_EQ(Bf16Matrix::from(buf.data(), src.rows, src.cols).data, held.data) << e << " " << part;
    }
  EXPECT_EQ(w.w2[2].data, m.w.w2[2].data);  // no mapping: w2 untouched
  EXPECT_NE(w.w3[2].data, m.w.w3[2].data);  // but w3 has the norm mapping's columns
}

TEST(AwqSmoothingInvariance, IgnoredBalanceLayersAreScaledButNotSearched) {
  // An unquantized balance layer is not QDQ'd and not in w_mean, yet it absorbs the scales.
  TinyMoe m = make_tiny_moe(9, 256);
  MoeAwqOptions opt = quick_options(m, true);
  MoeAwqReport all = [&] { MoeLayerWeights w = m.w; return awq_smooth_moe_layer(w, m.hidden, m.shape, opt); }();
  opt.w1_quantized.assign(size_t(m.shape.experts), 1);
  opt.w1_quantized[0] = 0;
  MoeLayerWeights w = m.w;
  MoeAwqReport rep = awq_smooth_moe_layer(w, m.hidden, m.shape, opt);
  EXPECT_NE(rep.norm.losses, all.norm.losses);  // a different search (w_mean and QDQ without w1_0)
  EXPECT_NE(w.w1[0].data, m.w.w1[0].data);      // still scaled
  MoeOutput ref = run_moe(m, m.w), out = run_moe(m, w);
  EXPECT_LT(rel_l2(ref.y, out.y), 3 * std::ldexp(1.0, -8));  // the function is preserved
}

namespace {

// Quantize every expert weight (QDQ) and return the block output.
Matrix quantized_output(const TinyMoe& m, const MoeLayerWeights& w) {
  MoeLayerWeights q = w;
  for (auto* v : {&q.w1, &q.w3, &q.w2})
    for (auto& mat : *v) {
      Matrix f = mat.to_matrix();
      qdq_w4_group_sym_reference(f.data.data(), f.rows, f.cols, 32, f.data.data());
      mat = Bf16Matrix::from(f);  // QDQ values are bf16
    }
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
  MoeAwqOptions opt = quick_options(m, false);
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
