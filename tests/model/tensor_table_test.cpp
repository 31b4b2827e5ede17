// The MiniMax-M2 tensor table: names, shapes, roles, counts.
#include <gtest/gtest.h>

#include <set>

#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "util/file_util.h"

using namespace mixq;

namespace {
const std::string kM27 = std::string(MIXQ_SHARED_DIR) + "/configs/minimax-m2.7/config.json";
const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2/config.json";
}  // namespace

TEST(TensorTable, Names) {
  EXPECT_EQ(names::expert(3, 7, 1), "model.layers.3.block_sparse_moe.experts.7.w1");
  EXPECT_EQ(names::attn(0, "q_proj"), "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(names::router_gate(61), "model.layers.61.block_sparse_moe.gate");
  EXPECT_EQ(names::correction_bias(2), "model.layers.2.block_sparse_moe.e_score_correction_bias");
  EXPECT_EQ(names::input_norm(1), "model.layers.1.input_layernorm");
  EXPECT_EQ(names::post_attention_norm(1), "model.layers.1.post_attention_layernorm");
  EXPECT_EQ(layer_index_of("model.layers.12.mlp.x"), 12);
  EXPECT_EQ(layer_index_of("model.layers.5"), 5);
  EXPECT_EQ(layer_index_of("model.layers.x.y"), std::nullopt);
  EXPECT_EQ(layer_index_of("model.layers.05a.y"), std::nullopt);
  EXPECT_EQ(layer_index_of("model.layers."), std::nullopt);
  EXPECT_EQ(layer_index_of("model.layers.99999999999.w"), std::nullopt);
  EXPECT_EQ(layer_index_of("lm_head.weight"), std::nullopt);
}

TEST(TensorTable, M27ShapesAndCount) {
  if (!file_exists(kM27)) GTEST_SKIP();
  auto c = load_minimax_m2_config(kM27);
  auto mods = minimax_m2_modules(c);
  EXPECT_EQ(mods.size(), 3u + 62u * (10u + 3u * 256u));
  // minimax-m2.md §2.2: 96,103 tensors in the FP8 release (each FP8 Linear adds weight_scale_inv).
  size_t fp8_linears = 0;
  for (const auto& m : mods)
    fp8_linears += role_is_linear(m.role) && m.role != Role::RouterGate && m.role != Role::LmHead;
  EXPECT_EQ(mods.size() + fp8_linears, 96'103u);
  std::map<std::string, Shape> by;
  std::set<std::string> uniq;
  int64_t total = 0;
  for (const auto& m : mods) {
    by[m.tensor] = m.shape;
    uniq.insert(m.tensor);
    total += shape_numel(m.shape);
  }
  EXPECT_EQ(uniq.size(), mods.size());
  EXPECT_EQ(total, count_parameters(c).total);
  EXPECT_EQ(by["model.embed_tokens.weight"], (Shape{200064, 3072}));
  EXPECT_EQ(by["lm_head.weight"], (Shape{200064, 3072}));
  EXPECT_EQ(by["model.norm.weight"], (Shape{3072}));
  EXPECT_EQ(by["model.layers.7.self_attn.q_proj.weight"], (Shape{6144, 3072}));
  EXPECT_EQ(by["model.layers.7.self_attn.k_proj.weight"], (Shape{1024, 3072}));
  EXPECT_EQ(by["model.layers.7.self_attn.o_proj.weight"], (Shape{3072, 6144}));
  EXPECT_EQ(by["model.layers.7.self_attn.q_norm.weight"], (Shape{6144}));
  EXPECT_EQ(by["model.layers.7.self_attn.k_norm.weight"], (Shape{1024}));
  EXPECT_EQ(by["model.layers.7.block_sparse_moe.gate.weight"], (Shape{256, 3072}));
  EXPECT_EQ(by["model.layers.7.block_sparse_moe.e_score_correction_bias"], (Shape{256}));
  EXPECT_EQ(by["model.layers.61.block_sparse_moe.experts.255.w1.weight"], (Shape{1536, 3072}));
  EXPECT_EQ(by["model.layers.61.block_sparse_moe.experts.255.w2.weight"], (Shape{3072, 1536}));
  EXPECT_EQ(by["model.layers.61.block_sparse_moe.experts.255.w3.weight"], (Shape{1536, 3072}));
  EXPECT_EQ(by.count("model.layers.62.input_layernorm.weight"), 0u);  // no MTP tensors
}

TEST(TensorTable, RolesAndKinds) {
  auto c = load_minimax_m2_config(kTiny);
  for (const auto& m : minimax_m2_modules(c)) {
    bool linear = role_is_linear(m.role);
    EXPECT_EQ(linear, m.shape.size() == 2 && m.role != Role::Embedding) << m.tensor;
    if (m.role == Role::CorrectionBias) EXPECT_EQ(m.tensor, m.module);
    else EXPECT_EQ(m.tensor, m.module + ".weight");
    if (m.role == Role::ExpertW2) EXPECT_GE(m.expert, 0);
  }
  EXPECT_EQ(kind_of(Role::ExpertW1), ModuleKind::Expert);
  EXPECT_EQ(kind_of(Role::QNorm), ModuleKind::QkNorm);
  EXPECT_STREQ(kind_name(ModuleKind::Router), "router_gate");
}

TEST(TensorTable, OptionalTensorsFollowTheConfig) {
  auto c = load_minimax_m2_config(kTiny);
  auto n0 = minimax_m2_modules(c).size();
  c.tie_word_embeddings = true;
  c.use_qk_norm = false;
  c.use_routing_bias = false;
  auto mods = minimax_m2_modules(c);
  EXPECT_EQ(mods.size(), n0 - 1 - 3 * size_t(c.num_hidden_layers));
  int64_t total = 0;
  for (const auto& m : mods) {
    EXPECT_NE(m.role, Role::LmHead);
    EXPECT_NE(m.role, Role::QNorm);
    EXPECT_NE(m.role, Role::CorrectionBias);
    total += shape_numel(m.shape);
  }
  EXPECT_EQ(total, count_parameters(c).total);
}
