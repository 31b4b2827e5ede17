// The AWQ pipeline as quant's WeightTransform, on the bundled tiny model with a small calibration
// set: layers are computed lazily in order, the smoothed tensors are handed out once, the
// norm x gate product is preserved (router compensation) and the report covers what was computed.
#include "calib/awq_pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "io/checkpoint.h"
#include "model/tensor_table.h"

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
  // An expert matrix: replaced; the w3 -> w2 smoothing divided w3's rows, multiplied w2's columns.
  const int64_t I = ck.info(names::expert(1, 0, 3) + ".weight").shape[0];
  std::vector<float> w3(size_t(I * H), 0.0f);
  p.transform_linear(names::expert(1, 0, 3), w3.data(), I, H);
  EXPECT_NE(w3, std::vector<float>(size_t(I * H), 0.0f));
  // Attention Linears are left alone.
  std::vector<float> q(4, 3.0f);
  p.transform_linear(names::attn(1, "q_proj"), q.data(), 2, 2);
  EXPECT_EQ(q, std::vector<float>(4, 3.0f));
  auto r = p.report();
  EXPECT_EQ(r["layers"][1]["w3_w2_mappings"].size(), size_t(E));
  EXPECT_LT(double(r["layers"][1]["routing_change_compensated"]), double(r["layers"][1]["routing_change_uncompensated"]) + 1e-12);
}

TEST(AwqPipeline, WithoutCompensationTheGateIsNotReplaced) {
  AwqPipeline p(kTiny, small(RouterCompensation::Off));
  std::vector<float> g(size_t(8 * 256), 0.5f);
  EXPECT_FALSE(p.transform_dense(names::router_gate(0) + ".weight", g));
  EXPECT_NE(p.name().find("router_compensation=off"), std::string::npos);
}

}  // namespace
}  // namespace mixq::calib
