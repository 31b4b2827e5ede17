// AWQ mapping resolution (calib/awq_mappings.h) on MiniMax-M2's real module names (the M2.7
// config: 62 layers x 256 experts), with both published recipes and with hostile recipes.
#include "calib/awq_mappings.h"

#include <gtest/gtest.h>

#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "util/error.h"

namespace mixq::calib {
namespace {

const std::string kShared = MIXQ_SHARED_DIR;

MiniMaxM2Config real_config() { return load_minimax_m2_config(kShared + "/configs/minimax-m2.7/config.json"); }

AwqPlan plan_for(const Recipe& r, bool bf16_source = false) {
  const MiniMaxM2Config cfg = real_config();
  PlanOptions o;
  if (bf16_source) o.source_dtype = DType::BF16;
  return plan_awq_layers(cfg, plan_quantization(cfg, r, o), r);
}

// The FP8-INT4 recipe's body with the given mappings / extra ignore / config group targets.
Recipe recipe(const std::string& mappings, const std::string& ignore = "",
              const std::string& targets = R"("re:.*block_sparse_moe\\.experts\\.\\d+\\.(w1|w2|w3)$")") {
  std::string y = "default_stage:\n  default_modifiers:\n    AWQModifier:\n      config_groups:\n        g:\n"
                  "          targets: [" + targets + "]\n"
                  "          weights: {num_bits: 4, type: int, symmetric: true, group_size: 32, strategy: group}\n"
                  "      mappings:\n" + mappings;
  if (!ignore.empty()) y += "      ignore: [" + ignore + "]\n";
  return parse_recipe(y, "<test recipe>");
}

const std::string kNorm = "        - smooth_layer: re:.*post_attention_layernorm$\n"
                          "          balance_layers: [\"re:.*w1$\", \"re:.*w3$\"]\n";
const std::string kW3W2 = "        - smooth_layer: re:.*w3$\n          balance_layers: [\"re:.*w2$\"]\n";

std::string error_of(const Recipe& r, bool bf16_source = false) {
  try {
    plan_for(r, bf16_source);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void expect_full_layer(const AwqPlan& p, int l) {
  const AwqLayerPlan& lp = p.layers[size_t(l)];
  ASSERT_GE(lp.norm, 0) << l;
  const ResolvedAwqMapping& n = p.resolved[size_t(lp.norm)];
  EXPECT_EQ(n.smooth, names::post_attention_norm(l));
  EXPECT_EQ(n.parent, names::layer(l) + ".block_sparse_moe");  // experts (a ModuleList) is passed over
  ASSERT_EQ(n.balance.size(), 512u);
  EXPECT_EQ(n.balance[0], names::expert(l, 0, 1));
  EXPECT_EQ(n.balance[255], names::expert(l, 255, 1));
  EXPECT_EQ(n.balance[256], names::expert(l, 0, 3));
  EXPECT_EQ(lp.group, 32);
  for (int e = 0; e < 256; ++e) {
    ASSERT_GE(lp.w3_w2[size_t(e)], 0) << l << " " << e;
    const ResolvedAwqMapping& w = p.resolved[size_t(lp.w3_w2[size_t(e)])];
    EXPECT_EQ(w.smooth, names::expert(l, e, 3));
    EXPECT_EQ(w.balance, std::vector<std::string>{names::expert(l, e, 2)});
    EXPECT_EQ(w.parent, names::expert(l, e, 2));  // a single balance layer is its own parent
    EXPECT_TRUE(lp.w1_q[size_t(e)] && lp.w3_q[size_t(e)] && lp.w2_q[size_t(e)]);
  }
}

TEST(AwqMappings, PublishedFp8Int4RecipeResolvesEveryLayerAndExpert) {
  Recipe r = load_recipe(kShared + "/recipes/minimax-m2.1-fp8-int4-awq.yaml");
  AwqPlan p = plan_for(r);
  ASSERT_EQ(p.layers.size(), 62u);
  EXPECT_EQ(p.resolved.size(), 62u + 62u * 256u);
  for (const auto& m : p.resolved) EXPECT_FALSE(m.skipped) << m.smooth;
  for (int l = 0; l < 62; ++l) expect_full_layer(p, l);
  EXPECT_FALSE(p.layers[0].gate_in_recipe);  // the public recipes leave the router gate out
  // Mapping order: every norm mapping (recipe mapping 0) before every w3 -> w2 (mapping 1).
  EXPECT_EQ(p.resolved[0].mapping, 0);
  EXPECT_EQ(p.resolved[62].mapping, 1);
}

TEST(AwqMappings, StrixRecipeSkipsTheIgnoredLayers58To61) {
  Recipe r = load_recipe(kShared + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml");
  for (bool bf16 : {false, true}) {
    AwqPlan p = plan_for(r, bf16);
    for (int l = 0; l < 58; ++l) expect_full_layer(p, l);
    for (int l = 58; l < 62; ++l) {
      const AwqLayerPlan& lp = p.layers[size_t(l)];
      EXPECT_EQ(lp.norm, -1) << l;
      for (int i : lp.w3_w2) EXPECT_EQ(i, -1);
      EXPECT_FALSE(lp.any());
    }
    // The sets still resolve (ignore only takes the quantization scheme away) and are skipped.
    size_t skipped = 0;
    for (const auto& m : p.resolved)
      if (m.skipped) {
        ++skipped;
        EXPECT_EQ(m.skip_reason, "no layers are targeted for quantization");
        EXPECT_GE(*layer_index_of(m.smooth), 58);
      }
    EXPECT_EQ(skipped, 4u + 4u * 256u);
  }
}

TEST(AwqMappings, IgnoreTakesAwayTheSchemeNotTheMatch) {
  // (On MiniMax-M2 the quantization plan refuses to ignore some experts of a layer but not others
  // (vLLM needs one scheme per layer's experts), so this is shown on a hand-made tree.) An ignored
  // balance layer stays in its set: it is scaled, just not quantized; a set with no scheme at all is
  // skipped.
  std::vector<AwqModule> m = {{"a", "Layer"}, {"a.x", "Linear"}, {"a.y", "Linear"}, {"a.n", "Norm"},
                              {"b", "Layer"}, {"b.x", "Linear"}, {"b.y", "Linear"}, {"b.n", "Norm"}};
  m[1].has_scheme = true;  // a.x quantized, a.y ignored; b.* all ignored
  auto r = resolve_awq_mappings(m, std::vector<AwqMapping>{{"re:.*n$", {"re:.*x$", "re:.*y$"}, ""}}, "<t>");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0].skipped);
  EXPECT_EQ(r[0].balance, (std::vector<std::string>{"a.x", "a.y"}));
  EXPECT_TRUE(r[1].skipped);
  EXPECT_EQ(r[1].skip_reason, "no layers are targeted for quantization");
  // The MiniMax plan: ignoring one expert of a layer is refused before AWQ (vLLM constraint).
  Recipe bad = recipe(kNorm + kW3W2, R"("model.layers.3.block_sparse_moe.experts.5.w1")");
  EXPECT_NE(error_of(bad, true).find("one scheme for all experts of a layer"), std::string::npos) << error_of(bad, true);
}

TEST(AwqMappings, GateNamedByTheRecipeIsABalanceLayer) {
  Recipe r = recipe("        - smooth_layer: re:.*post_attention_layernorm$\n"
                    "          balance_layers: [\"re:.*block_sparse_moe\\\\.gate$\", \"re:.*w1$\", \"re:.*w3$\"]\n" + kW3W2);
  AwqPlan p = plan_for(r);
  EXPECT_TRUE(p.layers[7].gate_in_recipe);
  EXPECT_EQ(p.resolved[size_t(p.layers[7].norm)].balance.size(), 513u);
  EXPECT_EQ(p.resolved[size_t(p.layers[7].norm)].balance[0], names::router_gate(7));
}

TEST(AwqMappings, AttentionMappingsAreSkippedWhenAttentionIsNotQuantized) {
  // llm-compressor's default MoE mappings include attention; with only experts quantized those sets
  // have no targeted layer (input_layernorm -> q/k/v) or incompatible GQA shapes (v_proj -> o_proj).
  Recipe r = recipe("        - smooth_layer: re:.*input_layernorm$\n"
                    "          balance_layers: [\"re:.*q_proj$\", \"re:.*k_proj$\", \"re:.*v_proj$\"]\n"
                    "        - smooth_layer: re:.*v_proj$\n          balance_layers: [\"re:.*o_proj$\"]\n" +
                    kNorm + kW3W2);
  AwqPlan p = plan_for(r);
  int attn = 0;
  for (const auto& m : p.resolved)
    if (m.mapping < 2) {
      ++attn;
      EXPECT_TRUE(m.skipped);
      EXPECT_EQ(m.skip_reason, m.mapping == 0 ? "no layers are targeted for quantization"
                                              : "incompatible balance layers (v_proj -> o_proj shapes)");
    }
  EXPECT_EQ(attn, 2 * 62);
  expect_full_layer(p, 0);
}

TEST(AwqMappings, AttentionMappingWithQuantizedAttentionIsAClearError) {
  Recipe r = recipe("        - smooth_layer: re:.*input_layernorm$\n"
                    "          balance_layers: [\"re:.*q_proj$\", \"re:.*k_proj$\", \"re:.*v_proj$\"]\n" + kNorm + kW3W2,
                    "", R"("re:.*block_sparse_moe\\.experts\\.\\d+\\.(w1|w2|w3)$", "re:.*self_attn\\.(q|k|v|o)_proj$")");
  const std::string e = error_of(r, /*bf16_source=*/true);
  EXPECT_NE(e.find("mappings[0] (smooth_layer re:.*input_layernorm$"), std::string::npos) << e;
  EXPECT_NE(e.find("model.layers.0.input_layernorm"), std::string::npos) << e;
  EXPECT_NE(e.find("runs the MoE mappings only"), std::string::npos) << e;
}

TEST(AwqMappings, BalanceLayerThatIsNotALinearIsAnError) {
  Recipe r = recipe("        - smooth_layer: re:.*post_attention_layernorm$\n"
                    "          balance_layers: [\"re:.*block_sparse_moe$\", \"re:.*w1$\", \"re:.*w3$\"]\n");
  const std::string e = error_of(r);
  EXPECT_NE(e.find("balance layer 'model.layers.0.block_sparse_moe' is a MiniMaxM2SparseMoeBlock, not a Linear"),
            std::string::npos)
      << e;
}

TEST(AwqMappings, MappingsThatWouldChangeTheModelAreErrors) {
  // w1 -> w2: SiLU between them.
  std::string e = error_of(recipe("        - smooth_layer: re:.*w1$\n          balance_layers: [\"re:.*w2$\"]\n"));
  EXPECT_NE(e.find("not function-preserving"), std::string::npos) << e;
  // norm -> w1 only: the experts' w3 would read a smoothed input without compensation.
  e = error_of(recipe("        - smooth_layer: re:.*post_attention_layernorm$\n          balance_layers: [\"re:.*w1$\"]\n"));
  EXPECT_NE(e.find("does not balance"), std::string::npos) << e;
  EXPECT_NE(e.find("model.layers.0.block_sparse_moe.experts.0.w3"), std::string::npos) << e;
  // w3 -> w2 listed before the norm mapping: llm-compressor would smooth in that order.
  e = error_of(recipe(kW3W2 + kNorm));
  EXPECT_NE(e.find("comes before this norm mapping"), std::string::npos) << e;
  // w3 then w1 order changes w_mean's pooling order.
  e = error_of(recipe("        - smooth_layer: re:.*post_attention_layernorm$\n"
                      "          balance_layers: [\"re:.*w3$\", \"re:.*w1$\"]\n"));
  EXPECT_NE(e.find("list the w1 pattern before the w3 pattern"), std::string::npos) << e;
  // The same smooth layer in two mappings.
  e = error_of(recipe(kNorm + kNorm));
  EXPECT_NE(e.find("smooth layer of two mappings"), std::string::npos) << e;
}

TEST(AwqMappings, UnmatchedPatternsFollowCompressedTensors) {
  // Nothing matches at all: no set, no error (logged).
  AwqPlan p = plan_for(recipe(kNorm + kW3W2 + "        - smooth_layer: re:.*no_such_norm$\n"
                              "          balance_layers: [\"re:.*no_such_proj$\"]\n"));
  for (const auto& m : p.resolved) EXPECT_NE(m.mapping, 2);
  expect_full_layer(p, 61);
  // The smooth layer matches but a balance pattern never does: an incomplete set is an error.
  std::string e = error_of(recipe("        - smooth_layer: re:.*post_attention_layernorm$\n"
                                  "          balance_layers: [\"re:.*w1$\", \"re:.*w4$\"]\n"));
  EXPECT_NE(e.find("incomplete set: no match for re:.*w4$"), std::string::npos) << e;
  // A module matched by two patterns of one mapping.
  e = error_of(recipe("        - smooth_layer: re:.*post_attention_layernorm$\n"
                      "          balance_layers: [\"re:.*w1$\", \"re:.*w(1|3)$\"]\n"));
  EXPECT_NE(e.find("is matched by 2 patterns"), std::string::npos) << e;
}

TEST(AwqMappings, ResolutionGroupsByLowestCommonAncestor) {
  // A hand-made tree: two "layers" each with a norm and two Linears under a ModuleList.
  std::vector<AwqModule> m = {{"", "Root"},          {"l", "ModuleList"},  {"l.0", "Layer"},
                              {"l.0.xs", "ModuleList"}, {"l.0.xs.0", "Linear"}, {"l.0.xs.1", "Linear"},
                              {"l.0.n", "Norm"},     {"l.1", "Layer"},       {"l.1.xs", "ModuleList"},
                              {"l.1.xs.0", "Linear"}, {"l.1.xs.1", "Linear"}, {"l.1.n", "Norm"}};
  for (auto& x : m) x.has_scheme = x.class_name == "Linear";
  std::vector<AwqMapping> maps = {{"re:.*\\.n$", {"re:.*xs\\.\\d+$"}, ""}};
  auto r = resolve_awq_mappings(m, maps, "<t>");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].smooth, "l.0.n");
  EXPECT_EQ(r[0].balance, (std::vector<std::string>{"l.0.xs.0", "l.0.xs.1"}));
  EXPECT_EQ(r[0].parent, "l.0");  // l.0.xs is a ModuleList: passed over
  EXPECT_EQ(r[1].smooth, "l.1.n");
  // Class-name targets match too; "l.10" vs "l.1" share the prefix "l" only.
  std::vector<AwqModule> m2 = {{"l.1.a", "Linear"}, {"l.10.a", "Linear"}, {"l.1.n", "Norm"}};
  m2[0].has_scheme = m2[1].has_scheme = true;
  auto r2 = resolve_awq_mappings(m2, std::vector<AwqMapping>{{"Norm", {"Linear"}, ""}}, "<t>");
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].balance.size(), 2u);
  EXPECT_EQ(r2[0].parent, "l");
}

}  // namespace
}  // namespace mixq::calib
