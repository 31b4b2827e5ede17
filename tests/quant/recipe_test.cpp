#include "quant/recipe.h"

#include <gtest/gtest.h>

#include "quant/target_match.h"
#include "util/error.h"

using namespace mixq;

namespace {
const std::string kShared = MIXQ_SHARED_DIR;

std::string wrap(const std::string& modifier_body) {
  return "default_stage:\n  default_modifiers:\n    QuantizationModifier:\n" + modifier_body;
}
const char* kGroup =
    "      config_groups:\n"
    "        g:\n"
    "          targets: [\"re:.*experts\\\\.\\\\d+\\\\.w[123]$\"]\n"
    "          weights: {num_bits: 4, type: int, symmetric: true, group_size: 32, strategy: group}\n";

void expect_error(const std::string& yaml, const std::string& needle) {
  try {
    parse_recipe(yaml, "r.yaml");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(Recipe, LoadsBothSeedRecipes) {
  Recipe a = load_recipe(kShared + "/recipes/minimax-m2.1-fp8-int4-awq.yaml");
  ASSERT_EQ(a.groups.size(), 1u);
  EXPECT_EQ(a.groups[0].name, "mlp_experts_projections");
  EXPECT_EQ(a.groups[0].scheme.weights.group_size.value(), 32);
  EXPECT_EQ(a.groups[0].scheme.format, "pack-quantized");
  EXPECT_TRUE(a.awq.enabled);
  ASSERT_EQ(a.awq.mappings.size(), 2u);
  EXPECT_EQ(a.awq.mappings[1].smooth_layer, "re:.*w3$");
  EXPECT_EQ(a.awq.duo_scaling, "true");
  EXPECT_EQ(a.awq.n_grid, 20);
  Recipe b = load_recipe(kShared + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml");
  EXPECT_EQ(b.ignore.size(), 5u);
  EXPECT_EQ(b.groups[0].scheme.weights.observer.value(), "minmax");
}

TEST(Recipe, RejectsBadInput) {
  expect_error("a: [", "invalid YAML");
  expect_error(wrap(std::string(kGroup) + "      bogus: 1\n"), "unknown key 'bogus'");
  expect_error(wrap("      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: false, group_size: 32}\n"),
               "asymmetric");
  expect_error(wrap("      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, group_size: 32, actorder: group}\n"),
               "actorder");
  expect_error(wrap("      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, group_size: 32, foo: 1}\n"),
               "unknown key 'foo'");
  expect_error(wrap("      config_groups:\n        g:\n          targets: [\"re:(?<=x)y\"]\n          weights: {num_bits: 4, type: int, group_size: 32}\n"),
               "does not compile with RE2");
  expect_error(wrap(std::string(kGroup) + "        h:\n          targets: [\"re:.*experts\\\\.\\\\d+\\\\.w[123]$\"]\n"
                    "          weights: {num_bits: 4, type: int, group_size: 32}\n"),
               "appears in two config groups");
  expect_error("default_stage:\n  default_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n", "GPTQModifier is not supported");
  expect_error(wrap("      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, group_size: 48}\n"),
               "group_size 48");
  expect_error("default_stage:\n  default_modifiers:\n    AWQModifier:\n" + std::string(kGroup) + "      duo_scaling: maybe\n", "duo_scaling");
}

TEST(TargetMatch, PythonReMatchSemantics) {
  TargetPattern p("re:.*gate", "t");
  EXPECT_TRUE(p.matches_name("model.layers.0.block_sparse_moe.gate"));
  EXPECT_TRUE(p.matches_name("model.layers.0.mlp.experts.0.gate_proj"));  // not anchored at the end
  TargetPattern q("re:.*block_sparse_moe\\.gate$", "t");
  EXPECT_FALSE(q.matches_name("model.layers.0.mlp.experts.0.gate_proj"));
  TargetPattern start("re:layers", "t");
  EXPECT_FALSE(start.matches_name("model.layers.0"));  // anchored at the start
  TargetPattern exact("lm_head", "t");
  EXPECT_TRUE(exact.matches_name("lm_head"));
  EXPECT_FALSE(exact.matches_name("model.lm_head"));
  TargetPattern cls("Linear", "t");
  EXPECT_TRUE(cls.matches("model.layers.0.self_attn.q_proj", "Linear"));
  EXPECT_FALSE(cls.matches("model.norm", "MiniMaxM2RMSNorm"));
}
