#include "plan/deployment_plan.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "plan_test_util.h"
#include "util/error.h"

using namespace mixq;
using plantest::m27;

namespace {
// The refusal (InputError), or for a plan that does not fit the memory, its problem ("" when it fits).
std::string error_of(const WeightInventory& inv, const DeployOptions& o) {
  try {
    const DeployPlan p = make_deploy_plan(m27(), inv, o);
    return p.fits ? "" : p.fit_problem;
  } catch (const InputError& e) {
    return e.what();
  }
}
}  // namespace

TEST(DeploymentPlan, Fp8ReleaseOnFourH200) {
  const auto inv = inventory_from_config(m27());
  DeployOptions o;
  o.devices = 4;
  o.device = find_device_preset("h200");
  o.max_model_len = 196608;
  o.max_num_seqs = 2;
  const DeployPlan p = make_deploy_plan(m27(), inv, o);
  EXPECT_EQ(p.weights_bytes, inv.total_bytes());
  EXPECT_EQ(p.kv_bytes_at_max_model_len, 49928994816ull);
  EXPECT_EQ(p.kv_bytes_at_max_num_seqs, 2 * 49928994816ull);
  EXPECT_EQ(p.nodes, 1);
  ASSERT_TRUE(p.has_budget);
  // Budget by hand: floor(143771 MiB x 0.9) - weights/rank - activation - 1.5 GiB, in 16-token blocks of 63,488 B/token/rank.
  const auto& b = p.budget;
  EXPECT_EQ(b.usable, uint64_t(double(143771ull << 20) * 0.9));
  EXPECT_EQ(b.kv_memory, int64_t(b.usable) - int64_t(p.weights_bytes_per_rank) - int64_t(b.activation) - int64_t((1ull << 30) * 3 / 2));
  EXPECT_EQ(p.max_context_one_sequence, b.kv_memory / (16 * 63488) * 16);
  EXPECT_EQ(p.max_context_per_sequence, b.kv_memory / (16 * 63488) / 2 * 16);
  EXPECT_GT(p.decode_tokens_per_s, 0);
  const auto j = p.to_json();
  for (const char* k : {"weights_bytes", "weights_bytes_per_rank", "kv_bytes_per_token", "kv_bytes_at_max_model_len",
                        "max_context_one_sequence", "max_context_per_sequence", "decode_tokens_per_s_ceiling", "vllm_command"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["kv_bytes_per_token"], 253952);
  EXPECT_TRUE(j["ray_head_command"].is_null());
}

TEST(DeploymentPlan, WithoutMemoryOnlyKvAndWeights) {
  DeployOptions o;
  o.max_model_len = 196608;
  const DeployPlan p = make_deploy_plan(m27(), inventory_from_config(m27()), o);
  EXPECT_FALSE(p.has_budget);
  const auto j = p.to_json();
  EXPECT_TRUE(j["max_context_one_sequence"].is_null());
  EXPECT_TRUE(j["decode_tokens_per_s_ceiling"].is_null());
  EXPECT_EQ(j["kv_bytes_at_max_model_len"], 49928994816ull);
}

TEST(DeploymentPlan, Refusals) {
  const auto fp8 = inventory_from_config(m27());
  DeployOptions o;
  o.device = find_device_preset("strix-halo");
  o.devices = 2;
  o.utilization = 0.92;
  // 230 GB of FP8 weights do not fit two Strix Halo boxes.
  EXPECT_NE(error_of(fp8, o).find("does not fit"), std::string::npos);
  o.devices = 5;
  EXPECT_NE(error_of(fp8, o).find("TP=5 cannot serve this checkpoint"), std::string::npos);
  o.devices = 8;
  o.device = find_device_preset("h200");
  EXPECT_NE(error_of(fp8, o).find("FP8 block"), std::string::npos);  // pure TP8
  o.expert_parallel = true;
  EXPECT_EQ(error_of(fp8, o), "");
  o.expert_parallel = false;
  o.devices = 4;
  o.max_model_len = 204801;
  EXPECT_NE(error_of(fp8, o).find("max_position_embeddings"), std::string::npos);
  o.max_model_len = 0;
  o.utilization = 1.5;
  EXPECT_NE(error_of(fp8, o).find("--gpu-memory-utilization"), std::string::npos);
  o.utilization = 0.9;
  o.kv_cache_dtype = "int8";
  EXPECT_NE(error_of(fp8, o).find("--kv-cache-dtype"), std::string::npos);
}

TEST(DeploymentPlan, MaxModelLenBeyondKvCacheDoesNotFit) {
  // 4 x H100 80 GB at utilization 0.8 with the FP8 release: 63.7 GiB usable - 53.7 GiB weights
  // - reserves leaves ~7.8 GiB, ~132K tokens at 63,488 B per token per rank; 204,800 needs 12.1 GiB.
  DeployOptions o;
  o.devices = 4;
  o.device = find_device_preset("h100-80g");
  o.max_model_len = 204800;
  o.utilization = 0.8;
  const std::string e = error_of(inventory_from_config(m27()), o);
  EXPECT_NE(e.find("--max-model-len 204800 needs"), std::string::npos) << e;
  EXPECT_NE(e.find("the ceiling is"), std::string::npos) << e;
  // The whole plan is still there, with what would make it fit.
  const DeployPlan p = make_deploy_plan(m27(), inventory_from_config(m27()), o);
  EXPECT_FALSE(p.fits);
  EXPECT_GT(p.max_context_one_sequence, 100000);
  EXPECT_LT(p.max_context_one_sequence, 204800);
  EXPECT_FALSE(p.launch.vllm_args.empty());
  std::map<std::string, int64_t> opt;
  for (const auto& f : p.fit_options) opt[f.change] = f.max_context_one_sequence;
  EXPECT_EQ(opt[fmt::format("--max-model-len {}", p.max_context_one_sequence)], p.max_context_one_sequence);
  EXPECT_GE(opt["--kv-cache-dtype fp8"], 204800);  // half the bytes per token
  // More devices is no option here: TP 5-7 cannot split the heads, and TP 8 or more cannot split
  // the FP8 blocks of this checkpoint (pure TP), so none is offered.
  for (const auto& [change, ceiling] : opt) EXPECT_NE(change.rfind("--devices ", 0), 0u) << change;
  EXPECT_FALSE(p.to_json()["fits"].get<bool>());
}

TEST(DeploymentPlan, GpuPresetsPlanOneMachineWithoutRay) {
  DeployOptions o;
  o.devices = 2;
  o.device = find_device_preset("rtx-pro-6000");
  o.max_model_len = 4096;
  const DeployPlan p = make_deploy_plan(m27(), inventory_from_config(m27()), o);
  EXPECT_EQ(p.nodes, 1);
  EXPECT_EQ(p.devices_per_node, 2);
  EXPECT_TRUE(p.launch.ray_head.empty());
  for (const auto& a : p.launch.vllm_args) EXPECT_NE(a, "--distributed-executor-backend");
  for (const auto& [k, v] : p.launch.env) EXPECT_NE(k, "NCCL_IB_DISABLE");
}

TEST(DeploymentPlan, UnifiedPresetExposesLessThanPhysical) {
  DeployOptions o;
  o.device = find_device_preset("strix-halo");
  o.devices = 2;
  o.utilization = 0.92;
  o.max_model_len = 8192;
  o.device_memory = 128ull << 30;
  const auto inv = inventory_from_config(m27(), DType::BF16);
  // BF16 (457 GB) cannot fit 2 boxes; the error names the memory.
  EXPECT_NE(error_of(inv, o).find("does not fit"), std::string::npos);
  o.exposed_memory = 130ull << 30;
  EXPECT_NE(error_of(inv, o).find("exceeds --device-memory"), std::string::npos);
}
