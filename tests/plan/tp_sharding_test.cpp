#include "plan/tp_sharding.h"

#include <gtest/gtest.h>

#include "plan_test_util.h"

using namespace mixq;
using plantest::m27;

namespace {
ParallelLayout tp(int n, bool ep = false) {
  ParallelLayout p;
  p.tp = n;
  p.expert_parallel = ep;
  return p;
}
// The FP8 release with its experts replaced by W4A16 group-G modules (what a recipe produces).
WeightInventory with_int4_experts(int64_t group) {
  WeightInventory inv = inventory_from_config(m27(), DType::BF16);
  for (auto& m : inv.modules)
    if (kind_of(m.role) == ModuleKind::Expert) {
      m.stored = StoredAs::Int4Group;
      m.group_size = group;
      m.precision = "W4A16-g" + std::to_string(group);
    }
  return inv;
}
bool mentions(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(TpSharding, ShardShapeAtTp2) {
  ShardShape s = shard_shape(m27(), tp(2));
  EXPECT_EQ(s.q_heads, 24);
  EXPECT_EQ(s.kv_heads, 4);
  EXPECT_EQ(s.kv_replicas, 1);
  EXPECT_EQ(s.intermediate, 768);
  EXPECT_EQ(s.experts, 256);
  EXPECT_EQ(s.vocab_padded, 200064);  // already a multiple of 64
  EXPECT_EQ(s.vocab_rows, 100032);
}

TEST(TpSharding, KvHeadsReplicatedPastEightAndExpertParallel) {
  ShardShape s = shard_shape(m27(), tp(16));
  EXPECT_EQ(s.q_heads, 3);
  EXPECT_EQ(s.kv_heads, 1);
  EXPECT_EQ(s.kv_replicas, 2);
  ShardShape e = shard_shape(m27(), tp(8, true));
  EXPECT_EQ(e.intermediate, 1536);
  EXPECT_EQ(e.experts, 32);
}

TEST(TpSharding, HeadDivisibility) {
  const auto inv = inventory_from_config(m27(), DType::BF16);
  EXPECT_TRUE(tp_problems(m27(), inv, tp(1)).empty());
  EXPECT_TRUE(tp_problems(m27(), inv, tp(2)).empty());
  EXPECT_TRUE(tp_problems(m27(), inv, tp(8)).empty());
  EXPECT_TRUE(mentions(tp_problems(m27(), inv, tp(5)), "num_attention_heads=48"));
  EXPECT_TRUE(mentions(tp_problems(m27(), inv, tp(3)), "num_key_value_heads=8"));  // 48 % 3 == 0, 8 % 3 != 0
  EXPECT_TRUE(mentions(tp_problems(m27(), inv, tp(12)), "num_key_value_heads=8"));
}

TEST(TpSharding, MarlinMoeTileRule) {
  // G=32: tile max(64, 32) = 64; 1536/TP = 768, 384, 192 pass (spec §7.5); 1536/16 = 96 fails.
  const auto g32 = with_int4_experts(32);
  for (int n : {1, 2, 4, 8}) EXPECT_TRUE(tp_problems(m27(), g32, tp(n)).empty()) << n;
  EXPECT_TRUE(mentions(tp_problems(m27(), g32, tp(16)), "intermediate per rank % 64 == 0, but 1536/16 = 96"));
  // G=128: tile 128; 1536/8 = 192 is not a multiple of 128.
  const auto g128 = with_int4_experts(128);
  EXPECT_TRUE(tp_problems(m27(), g128, tp(4)).empty());
  EXPECT_TRUE(mentions(tp_problems(m27(), g128, tp(8)), "% 128 == 0, but 1536/8 = 192"));
  // Expert parallel keeps the whole intermediate: TP=8 with G=128 is servable.
  EXPECT_TRUE(tp_problems(m27(), g128, tp(8, true)).empty());
  EXPECT_TRUE(mentions(tp_problems(m27(), with_int4_experts(16), tp(2)), "group sizes -1, 32, 64, 128, not 16"));
}

TEST(TpSharding, Fp8BlockRuleExplainsNoPureTp8) {
  // The official FP8 release: experts' 1536/8 = 192 is not a multiple of the 128 block, which is
  // why vLLM's MiniMax recipe says pure TP8 is unsupported; TP4 (384) and TP8+EP work.
  const auto fp8 = inventory_from_config(m27());
  EXPECT_TRUE(tp_problems(m27(), fp8, tp(4)).empty());
  EXPECT_TRUE(mentions(tp_problems(m27(), fp8, tp(8)), "FP8 block 128x128"));
  EXPECT_TRUE(tp_problems(m27(), fp8, tp(8, true)).empty());
}

TEST(TpSharding, RankBytesFollowVllmSharding) {
  const auto inv = inventory_from_config(m27(), DType::BF16);
  const ParallelLayout p = tp(2);
  const ShardShape s = shard_shape(m27(), p);
  for (const auto& m : inv.modules) {
    const uint64_t r = rank_bytes(m, m27(), s, p);
    switch (m.role) {
      case Role::Embedding:
      case Role::LmHead: EXPECT_EQ(r, 100032ull * 3072 * 2); break;
      case Role::QProj: EXPECT_EQ(r, 3072ull * 3072 * 2); break;       // 24 of 48 heads
      case Role::KProj: EXPECT_EQ(r, 512ull * 3072 * 2); break;        // 4 of 8 heads
      case Role::OProj: EXPECT_EQ(r, 3072ull * 3072 * 2); break;       // input split
      case Role::RouterGate: EXPECT_EQ(r, 256ull * 3072 * 4); break;   // replicated, F32 in memory
      case Role::CorrectionBias: EXPECT_EQ(r, 256ull * 4); break;
      case Role::InputNorm: EXPECT_EQ(r, 3072ull * 2); break;          // replicated
      case Role::ExpertW2: EXPECT_EQ(r, 3072ull * 768 * 2); break;     // intermediate split
      default: break;
    }
  }
  // TP16: one kv head per rank (replicated), so k_proj holds 1/8 of its rows, not 1/16.
  const ParallelLayout p16 = tp(16);
  const ShardShape s16 = shard_shape(m27(), p16);
  for (const auto& m : inv.modules)
    if (m.role == Role::KProj) {
      EXPECT_EQ(rank_bytes(m, m27(), s16, p16), 128ull * 3072 * 2);
    }
}
