// Recipe overrides (quant/recipe_overlay.h): merge rules, strict errors naming the override file
// and key path, and the shipped STRIX-2H tiny-depth override.
#include "quant/recipe_overlay.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "quant/target_match.h"
#include "util/error.h"
#include "util/file_util.h"

#include <unistd.h>

using namespace mixq;

namespace {
const std::string kShared = MIXQ_SHARED_DIR;
const std::string kSource = MIXQ_SOURCE_DIR;
const std::string kFp8Int4 = kShared + "/recipes/minimax-m2.1-fp8-int4-awq.yaml";
const std::string kStrix = kShared + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml";

Recipe merged(const std::string& base_path, const std::string& overlay) {
  return parse_recipe(apply_recipe_overlay(read_file(base_path), base_path, overlay, "o.yaml"), base_path + " + o.yaml");
}

void expect_error(const std::string& base_path, const std::string& overlay, const std::string& needle) {
  try {
    merged(base_path, overlay);
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const char* kAwq = "default_stage:\n  default_modifiers:\n    AWQModifier:\n";
}  // namespace

TEST(RecipeOverlay, MergedRecipeOfAnUnchangedValueEqualsTheRecipe) {
  // Re-stating one value: the emitted-and-reparsed recipe is the same recipe (regexes with
  // backslashes survive yaml-cpp's emitter).
  for (const auto& path : {kFp8Int4, kStrix}) {
    Recipe a = load_recipe(path);
    Recipe b = merged(path, std::string(kAwq) + "      duo_scaling: true\n");
    ASSERT_EQ(a.groups.size(), b.groups.size());
    EXPECT_EQ(a.groups[0].scheme.targets, b.groups[0].scheme.targets);
    EXPECT_EQ(a.groups[0].scheme.weights.group_size, b.groups[0].scheme.weights.group_size);
    EXPECT_EQ(a.ignore, b.ignore);
    ASSERT_EQ(a.awq.mappings.size(), b.awq.mappings.size());
    for (size_t i = 0; i < a.awq.mappings.size(); ++i) {
      EXPECT_EQ(a.awq.mappings[i].smooth_layer, b.awq.mappings[i].smooth_layer);
      EXPECT_EQ(a.awq.mappings[i].balance_layers, b.awq.mappings[i].balance_layers);
    }
    EXPECT_EQ(a.awq.duo_scaling, b.awq.duo_scaling);
    EXPECT_EQ(a.awq.n_grid, b.awq.n_grid);
  }
}

TEST(RecipeOverlay, MapsMergeListsAndScalarsReplace) {
  Recipe r = merged(kStrix, std::string(kAwq) +
                                "      n_grid: 10\n"
                                "      ignore: [lm_head, \"re:.*\\\\.layers\\\\.5\\\\.block_sparse_moe\\\\.experts\\\\.[0-9]+\\\\.(w1|w2|w3)$\"]\n"
                                "      config_groups:\n        mlp_experts_projections:\n          weights:\n            group_size: 64\n");
  EXPECT_EQ(r.awq.n_grid, 10);
  ASSERT_EQ(r.ignore.size(), 2u);  // the list was replaced, not appended to
  EXPECT_EQ(r.ignore[0], "lm_head");
  // Deep merge: only group_size changed; the rest of the scheme is the recipe's.
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].scheme.weights.group_size.value(), 64);
  EXPECT_EQ(r.groups[0].scheme.weights.num_bits, 4);
  EXPECT_EQ(r.groups[0].scheme.weights.observer.value(), "minmax");
  EXPECT_EQ(r.groups[0].scheme.targets.size(), 1u);
  EXPECT_EQ(r.awq.mappings.size(), 2u);
  // A key the recipe lacks may be added inside a modifier (the FP8-INT4 recipe has no ignore).
  Recipe f = merged(kFp8Int4, std::string(kAwq) + "      ignore: [\"re:.*\\\\.layers\\\\.5\\\\..*\"]\n");
  ASSERT_EQ(f.ignore.size(), 1u);
}

TEST(RecipeOverlay, RejectsBadOverridesNamingFileAndKey) {
  expect_error(kStrix, "a: [", "o.yaml: invalid YAML");
  expect_error(kStrix, "[1, 2]", "o.yaml: a recipe override is a non-empty mapping");
  expect_error(kStrix, "{}", "o.yaml: a recipe override is a non-empty mapping");
  expect_error(kStrix, "defualt_stage:\n  default_modifiers:\n    AWQModifier:\n      n_grid: 4\n",
               "o.yaml: defualt_stage: no such stage in the recipe (it has: default_stage)");
  expect_error(kStrix, "default_stage:\n  default_modifiers:\n    QuantizationModifier:\n      ignore: []\n",
               "o.yaml: default_stage.default_modifiers.QuantizationModifier: no such modifier");
  expect_error(kStrix, std::string(kAwq) + "      config_groups: [a]\n",
               "o.yaml: default_stage.default_modifiers.AWQModifier.config_groups: the recipe has a mapping here, the override a list");
  expect_error(kStrix, std::string(kAwq) + "      ignore: {a: 1}\n",
               "o.yaml: default_stage.default_modifiers.AWQModifier.ignore: the recipe has a list here, the override a mapping");
  // Merged, then validated like any recipe: an unknown or unsupported key is named with its path.
  expect_error(kStrix, std::string(kAwq) + "      ignroe: [lm_head]\n", "AWQModifier: unknown key 'ignroe'");
  expect_error(kStrix, std::string(kAwq) + "      config_groups:\n        mlp_experts_projections:\n          weights:\n            symmetric: false\n",
               "asymmetric");
  expect_error(kStrix, std::string(kAwq) + "      ignore: [\"re:(?<=x)y\"]\n", "does not compile with RE2");
}

TEST(RecipeOverlay, LoadRecipeAppliesOverridesInOrderAndRecordsThem) {
  const std::string dir = (std::filesystem::temp_directory_path() / ("mixq_overlay_test_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string o1 = dir + "/o1.yaml", o2 = dir + "/o2.yaml";
  write_file_atomic(o1, std::string(kAwq) + "      n_grid: 10\n      duo_scaling: false\n");
  write_file_atomic(o2, std::string(kAwq) + "      n_grid: 7\n");
  Recipe r = load_recipe(kStrix, {o1, o2});
  EXPECT_EQ(r.awq.n_grid, 7);
  EXPECT_EQ(r.awq.duo_scaling, "false");
  EXPECT_EQ(r.source, kStrix + " + " + o1 + " + " + o2);
  EXPECT_EQ(r.overrides, (std::vector<std::string>{o1, o2}));
  EXPECT_NE(r.text, read_file(kStrix));  // the manifest's recipe text (and sha256) is the merged recipe
  EXPECT_EQ(parse_recipe(r.text, "again").awq.n_grid, 7);
  try {
    load_recipe(kStrix, {dir + "/missing.yaml"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("recipe override file not found"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(RecipeOverlay, StrixTinyDepthOverrideCarvesOutTheLastLayerOnly) {
  Recipe r = load_recipe(kSource + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml",
                         {kSource + "/recipes/overrides/strix-2h-tiny-depth.yaml"});
  Recipe base = load_recipe(kStrix);
  ASSERT_EQ(r.ignore.size(), base.ignore.size());
  for (size_t i = 0; i + 1 < r.ignore.size(); ++i) EXPECT_EQ(r.ignore[i], base.ignore[i]);  // only the carve-out differs
  TargetSet ig(r.ignore, "ignore");
  for (int w : {1, 2, 3}) {
    EXPECT_TRUE(ig.any(fmt::format("model.layers.5.block_sparse_moe.experts.7.w{}", w), "Linear"));
    EXPECT_FALSE(ig.any(fmt::format("model.layers.4.block_sparse_moe.experts.0.w{}", w), "Linear"));
    EXPECT_FALSE(ig.any(fmt::format("model.layers.58.block_sparse_moe.experts.0.w{}", w), "Linear"));
    EXPECT_FALSE(ig.any(fmt::format("model.layers.15.block_sparse_moe.experts.0.w{}", w), "Linear"));
  }
  EXPECT_TRUE(ig.any("model.layers.2.self_attn.q_proj", "Linear"));
  EXPECT_TRUE(ig.any("model.layers.2.block_sparse_moe.gate", "Linear"));
}
