// The published STRIX-2H checkpoint, sized from its recipe through the quantization planner, against
// the numbers its card and a measured two-node vLLM run state.
#include <gtest/gtest.h>

#include <cmath>

#include "plan/deployment_plan.h"
#include "plan/recipe_inventory.h"
#include "plan_test_util.h"
#include "util/error.h"

using namespace mixq;
using plantest::m27;

namespace {
const WeightInventory& strix(std::optional<DType> source = std::nullopt) {
  static const WeightInventory fp8 = inventory_from_recipe(m27(), nullptr, plantest::strix_recipe_path(), std::nullopt);
  static const WeightInventory bf16 = inventory_from_recipe(m27(), nullptr, plantest::strix_recipe_path(), DType::BF16);
  return source ? bf16 : fp8;
}
DeployOptions two_strix(double util, int64_t seqs, int64_t batched, int64_t len) {
  DeployOptions o;
  o.devices = 2;
  o.device = find_device_preset("strix-halo");
  o.device_memory = 128ull << 30;
  o.utilization = util;
  o.max_num_seqs = seqs;
  o.max_num_batched_tokens = batched;
  o.max_model_len = len;
  return o;
}
}  // namespace

TEST(StrixRecipe, WeightsMatchThePublishedShards) {
  const double card = 155271743469.0;  // 32 shards on the hub
  for (auto src : {std::optional<DType>{}, std::optional<DType>{DType::BF16}}) {
    const auto& inv = strix(src);
    EXPECT_LT(std::fabs(double(inv.total_bytes()) - card) / card, 0.001);
    EXPECT_LT(std::fabs(double(inv.file_bytes) - card) / card, 0.001);
  }
  // Layers 58-61 keep BF16 experts: 4 x 256 x 3 modules; the other 58 layers are W4A16 g32.
  int64_t bf16_experts = 0, int4_experts = 0;
  for (const auto& m : strix().modules)
    if (kind_of(m.role) == ModuleKind::Expert) (m.stored == StoredAs::Int4Group ? int4_experts : bf16_experts) += 1;
  EXPECT_EQ(bf16_experts, 4 * 256 * 3);
  EXPECT_EQ(int4_experts, 58 * 256 * 3);
}

TEST(StrixRecipe, CardContextCeilingOnTwoBoxes) {
  // One active sequence (the card's premise), vLLM's default 8192-token prefill chunks.
  const DeployPlan p = make_deploy_plan(m27(), strix(), two_strix(0.92, 1, 8192, 196608));
  EXPECT_GE(p.max_context_one_sequence, 230000);
  EXPECT_LE(p.max_context_one_sequence, 280000);
  EXPECT_EQ(p.nodes, 2);
  // Per rank: half of everything split, plus the replicated F32 router (62 x 256 x 3072 x 4).
  EXPECT_EQ(p.weights_bytes_per_rank,
            (p.weights_bytes - 62ull * 256 * 3072 * 4 - 62 * 256 * 4 - (2 * 3072 * 62 + 3072) * 2) / 2 + 62ull * 256 * 3072 * 4 +
                62 * 256 * 4 + (2 * 3072 * 62 + 3072) * 2);
}

TEST(StrixRecipe, ReproducesTheMeasuredTwoNodeRun) {
  // kyuz0/amd-strix-halo-vllm-toolboxes PR #56: at utilization 0.90, 64 seqs, 16384 batched tokens
  // vLLM had 24.09 GiB of KV per rank and refused max-model-len 204800 (24.22 GiB needed).
  const DeployPlan p = make_deploy_plan(m27(), strix(), two_strix(0.90, 64, 16384, 196608));
  EXPECT_NEAR(double(p.budget.kv_memory) / double(1ull << 30), 24.09, 0.1);
  const DeployPlan q = make_deploy_plan(m27(), strix(), two_strix(0.90, 64, 16384, 204800));
  EXPECT_FALSE(q.fits) << "204800 should not fit";
  EXPECT_NE(q.fit_problem.find("needs 24.22 GiB of KV per rank"), std::string::npos) << q.fit_problem;
}

TEST(StrixRecipe, LaunchPlanUsesRayAcrossTwoMachines) {
  DeployOptions o = two_strix(0.92, 1, 8192, 196608);
  o.model_for_command = "ayysasha/MiniMax-M2.7-AWQ-G32-STRIX-2H";
  o.served_model_name = "minimax-m2-7-awq-g32-strix-2h";
  const DeployPlan p = make_deploy_plan(m27(), strix(), o);
  EXPECT_FALSE(p.launch.ray_head.empty());
  const std::string c = p.launch.vllm_command();
  for (const char* f : {"--tensor-parallel-size 2", "--distributed-executor-backend ray", "--max-model-len 196608",
                        "--max-num-seqs 1", "--max-num-batched-tokens 8192", "--enforce-eager", "--gpu-memory-utilization 0.92",
                        "--tool-call-parser minimax_m2", "--reasoning-parser minimax_m2 ", "--override-generation-config"})
    EXPECT_NE(c.find(f), std::string::npos) << f;
}
