// The AWQ pipeline as quant's WeightTransform, on the bundled tiny model with a small calibration
// set: layers are computed lazily in order, the smoothed tensors are handed out once, the
// norm x gate product is preserved (router compensation) and the report covers what was computed.
#include "calib/awq_pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "io/checkpoint.h"
#include "model/tensor_table.h"
#include "util/error.h"
#include "quant/recipe.h"
#include "util/dtype.h"

namespace mixq::calib {
namespace {

const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";
const std::string kSpec = std::string(MIXQ_SOURCE_DIR) + "/data/calib/default.yaml";

AwqPipelineOptions small(RouterCompensation rc) {
  AwqPipelineOptions o;
  o.calib_spec = kSpec;
  o.calib_samples = 2;
  o.calib_seq_len = 64;
  o.router = rc;
  o.w2_gram_loss = true;  // keeps the test fast
  return o;
}

TEST(AwqPipeline, HandsOutSmoothedLayerTensorsLazilyAndOnce) {
  AwqPipeline p(kTiny, small(RouterCompensation::On));
  EXPECT_GT(p.calibration_tokens(), 64);
  EXPECT_EQ(p.report()["layers"].size(), 0u);  // nothing computed before it is asked for
  Checkpoint ck(kTiny);
  const std::string norm = names::post_attention_norm(1) + ".weight", gate = names::router_gate(1) + ".weight";
  std::vector<float> n0 = ck.view(norm).to_f32(), g0 = ck.view(gate).to_f32();
  // The embedding (no layer) is not touched and computes nothing.
  std::vector<float> emb(4, 1.0f);
  EXPECT_FALSE(p.transform_dense(names::kEmbed + std::string(".weight"), emb));
  EXPECT_EQ(p.report()["layers"].size(), 0u);
  // Asking for layer 1's norm computes layers 0 and 1.
  std::vector<float> n1 = n0, g1 = g0;
  ASSERT_TRUE(p.transform_dense(norm, n1));
  EXPECT_EQ(p.report()["layers"].size(), 2u);
  ASSERT_TRUE(p.transform_dense(gate, g1));
  EXPECT_NE(n1, n0);
  // Compensation: gate[:, c] * norm[c] is unchanged up to the bf16 rounding of the norm.
  const int64_t H = int64_t(n0.size()), E = int64_t(g0.size()) / H;
  for (int64_t e = 0; e < E; ++e)
    for (int64_t c = 0; c < H; ++c) {
      const double a = double(g0[size_t(e * H + c)]) * n0[size_t(c)], b = double(g1[size_t(e * H + c)]) * n1[size_t(c)];
      ASSERT_NEAR(b, a, 1e-2 * std::abs(a) + 1e-7) << e << " " << c;
    }
  // Handed out once: a second request gets the source values back (not re-smoothed).
  std::vector<float> again = n0;
  EXPECT_FALSE(p.transform_dense(norm, again));
  // An expert matrix: the job's buffer (the source values) is smoothed in place: w3's columns
  // times the norm mapping's scales, its rows divided by the w3 -> w2 scales, so the element ratios
  // new / old form a rank-1 matrix s_norm[c] / s_w2[r] (up to bf16 rounding), and values stay bf16.
  const std::string w3n = names::expert(1, 0, 3);
  const int64_t I = ck.info(w3n + ".weight").shape[0];
  const std::vector<float> w3src = ck.view(w3n + ".weight").to_f32();
  std::vector<float> w3 = w3src;
  p.transform_linear(w3n, w3.data(), I, H);
  EXPECT_NE(w3, w3src);
  for (float v : w3) ASSERT_EQ(v, round_bf16(v));
  auto ratio = [&](int64_t r, int64_t c) { return double(w3[size_t(r * H + c)]) / w3src[size_t(r * H + c)]; };
  int checked = 0;
  for (int64_t c = 1; c < H && checked < 50; ++c) {
    if (w3src[size_t(c)] == 0 || w3src[size_t(H + c)] == 0 || w3src[0] == 0 || w3src[size_t(H)] == 0) continue;
    EXPECT_NEAR(ratio(0, c) * ratio(1, 0), ratio(1, c) * ratio(0, 0), 0.03 * std::abs(ratio(0, c) * ratio(1, 0))) << c;
    ++checked;
  }
  EXPECT_GT(checked, 10);
  // Handed out once: asking again leaves the buffer alone.
  std::vector<float> w3again = w3src;
  p.transform_linear(w3n, w3again.data(), I, H);
  EXPECT_EQ(w3again, w3src);
  // Attention Linears are left alone.
  std::vector<float> q(4, 3.0f);
  p.transform_linear(names::attn(1, "q_proj"), q.data(), 2, 2);
  EXPECT_EQ(q, std::vector<float>(4, 3.0f));
  auto r = p.report();
  EXPECT_EQ(r["layers"][1]["w3_w2_mappings"].size(), size_t(E));
  EXPECT_LT(double(r["layers"][1]["routing_change_compensated"]), double(r["layers"][1]["routing_change_uncompensated"]) + 1e-12);
}

TEST(AwqPipeline, RunsTheRecipesMappingsAndLeavesSkippedLayersAlone) {
  // STRIX-2H's carve-out moved to the tiny model's last layer: layer 5's experts are ignored, so
  // both its mappings resolve to sets with no quantized layer and are skipped (spec section 5.2).
  const Recipe r = parse_recipe(R"(default_stage:
  default_modifiers:
    AWQModifier:
      config_groups:
        g:
          targets: ['re:.*block_sparse_moe\.experts\.\d+\.(w1|w2|w3)$']
          weights: {num_bits: 4, type: int, symmetric: true, group_size: 32, strategy: group}
      mappings:
        - smooth_layer: re:.*post_attention_layernorm$
          balance_layers: ['re:.*w1$', 're:.*w3$']
        - smooth_layer: re:.*w3$
          balance_layers: ['re:.*w2$']
      ignore: ['re:.*\.layers\.5\.block_sparse_moe\.experts\.\d+\.(w1|w2|w3)$']
)", "<test>");
  AwqPipelineOptions o = small(RouterCompensation::On);
  o.recipe = &r;
  AwqPipeline p(kTiny, o);
  Checkpoint ck(kTiny);
  const std::string n4 = names::post_attention_norm(4) + ".weight", n5 = names::post_attention_norm(5) + ".weight";
  std::vector<float> v4 = ck.view(n4).to_f32(), v5 = ck.view(n5).to_f32();
  EXPECT_TRUE(p.transform_dense(n4, v4));
  EXPECT_FALSE(p.transform_dense(n5, v5));  // skipped: the source bytes
  EXPECT_FALSE(p.transform_dense(names::router_gate(5) + ".weight", v5));
  const int64_t H = int64_t(v5.size()), I = ck.info(names::expert(5, 0, 3) + ".weight").shape[0];
  const std::vector<float> src = ck.view(names::expert(5, 0, 3) + ".weight").to_f32();
  std::vector<float> w = src;
  p.transform_linear(names::expert(5, 0, 3), w.data(), I, H);
  EXPECT_EQ(w, src);
  auto rep = p.report();
  ASSERT_EQ(rep["layers"].size(), 6u);
  EXPECT_TRUE(rep["layers"][5]["norm_mapping"]["skipped"].get<bool>());
  EXPECT_FALSE(rep["layers"][4]["norm_mapping"]["skipped"].get<bool>());
  EXPECT_EQ(rep["layers"][4]["norm_mapping"]["smooth"], names::post_attention_norm(4));
  EXPECT_EQ(rep["layers"][4]["norm_mapping"]["parent"], names::layer(4) + ".block_sparse_moe");
  EXPECT_EQ(rep["layers"][4]["w3_w2_mappings"][3]["balance"][0], names::expert(4, 3, 2));
}

TEST(AwqPipeline, QuantizedPropagationChangesOnlyLaterLayers) {
  // --awq-propagate quantized: layer 0 sees the same inputs (its search and scales are identical);
  // layer 1 calibrates on the output of layer 0's QDQ'd experts, so its losses differ.
  AwqPipelineOptions q = small(RouterCompensation::On);
  q.propagate_quantized = true;
  AwqPipeline a(kTiny, small(RouterCompensation::On)), b(kTiny, q);
  EXPECT_NE(b.name().find("propagate=quantized"), std::string::npos);
  EXPECT_EQ(a.name().find("propagate"), std::string::npos);
  Checkpoint ck(kTiny);
  const std::string norm = names::post_attention_norm(1) + ".weight";
  std::vector<float> na = ck.view(norm).to_f32(), nb = na;
  ASSERT_TRUE(a.transform_dense(norm, na));
  ASSERT_TRUE(b.transform_dense(norm, nb));
  const auto ra = a.report()["layers"], rb = b.report()["layers"];
  ASSERT_EQ(ra.size(), 2u);
  ASSERT_EQ(rb.size(), 2u);
  EXPECT_EQ(ra[0]["norm_mapping"].dump(), rb[0]["norm_mapping"].dump());
  EXPECT_EQ(ra[0]["w3_w2_mappings"].dump(), rb[0]["w3_w2_mappings"].dump());
  EXPECT_NE(ra[1]["norm_mapping"]["loss_identity"].get<double>(), rb[1]["norm_mapping"]["loss_identity"].get<double>());
}

TEST(AwqPipeline, AMappingThePipelineCannotRunFailsBeforeAnyWork) {
  const Recipe r = parse_recipe(R"(default_stage:
  default_modifiers:
    AWQModifier:
      config_groups:
        g:
          targets: ['re:.*block_sparse_moe\.experts\.\d+\.(w1|w2|w3)$']
          weights: {num_bits: 4, type: int, symmetric: true, group_size: 32, strategy: group}
      mappings:
        - smooth_layer: re:.*post_attention_layernorm$
          balance_layers: ['re:.*w1$']
)", "<test>");
  AwqPipelineOptions o = small(RouterCompensation::On);
  o.recipe = &r;
  try {
    AwqPipeline p(kTiny, o);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mappings[0]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not balance"), std::string::npos) << e.what();
  }
}

TEST(AwqPipeline, WithoutCompensationTheGateIsNotReplaced) {
  AwqPipeline p(kTiny, small(RouterCompensation::Off));
  std::vector<float> g(size_t(8 * 256), 0.5f);
  EXPECT_FALSE(p.transform_dense(names::router_gate(0) + ".weight", g));
  EXPECT_NE(p.name().find("router_compensation=off"), std::string::npos);
}

}  // namespace
}  // namespace mixq::calib
