#include "plan/kv_budget.h"

#include <gtest/gtest.h>

#include "plan_test_util.h"

using namespace mixq;
using plantest::m27;

TEST(KvBudget, BytesPerTokenIsTwoLayersHeadsDimDtype) {
  // 2 (K,V) x 62 layers x 8 kv heads x 128 dims x 2 bytes (minimax-m2.md §4).
  EXPECT_EQ(kv_bytes_per_token(m27(), 2), 253952u);
  EXPECT_EQ(kv_bytes_per_token(m27(), 1), 126976u);
}

TEST(KvBudget, CardTableOneAndTwoSequences) {
  const uint64_t one = kv_bytes_per_token(m27(), 2) * 196608;
  EXPECT_EQ(one, 49928994816ull);
  EXPECT_EQ(one, 465ull * (1ull << 30) / 10);  // exactly 46.50 GiB
  EXPECT_EQ(2 * one, 93ull * (1ull << 30));    // exactly 93.0 GiB
}

TEST(KvBudget, PerRankSplitsAndReplicatesKvHeads) {
  ParallelLayout p;
  for (int tp : {1, 2, 4, 8}) {
    p.tp = tp;
    EXPECT_EQ(kv_bytes_per_token_rank(m27(), shard_shape(m27(), p), 2), 253952u / tp) << tp;
  }
  p.tp = 16;  // 8 kv heads over 16 ranks: one head each, every head on two ranks
  EXPECT_EQ(kv_bytes_per_token_rank(m27(), shard_shape(m27(), p), 2), 2u * 62 * 1 * 128 * 2);
}

TEST(KvBudget, BlocksAndCeilings) {
  const uint64_t GiB = 1ull << 30;
  // 100 GiB x 0.5 = 50 GiB; - 10 - 1 - 1 = 38 GiB; 1 KiB per token, 16-token blocks = 16 KiB per block.
  KvBudget b = kv_budget(100 * GiB, 0.5, 10 * GiB, GiB, GiB, 1024, 16);
  EXPECT_EQ(b.usable, 50 * GiB);
  EXPECT_EQ(b.kv_memory, int64_t(38 * GiB));
  EXPECT_EQ(b.blocks, 38 * 65536);
  EXPECT_EQ(b.tokens(), 38 * 65536 * 16);
  EXPECT_EQ(b.tokens_per_sequence(3), (38 * 65536 / 3) * 16);  // 830122 blocks each
  KvBudget none = kv_budget(10 * GiB, 0.9, 10 * GiB, 0, 0, 1024);
  EXPECT_LT(none.kv_memory, 0);
  EXPECT_EQ(none.blocks, 0);
}

TEST(KvBudget, ActivationPeakMatchesHandSum) {
  ParallelLayout p;
  p.tp = 2;
  const ShardShape s = shard_shape(m27(), p);
  // T = 8192 tokens, TP 2: 24 q heads, 4 kv heads, intermediate 768 per rank, one sequence.
  const uint64_t expect = 3ull * 8192 * 3072 * 2     // hidden, residual, normed
                          + 8192ull * 32 * 128 * 2   // qkv (24 + 2 x 4 heads)
                          + 8192ull * 24 * 128 * 2   // attention out
                          + 8192ull * 256 * 4 + 8192ull * 8 * 8  // router logits, top-k
                          + 8192ull * 8 * 3072 * 2   // fused-MoE cache, max(2 x 768, 3072) wide
                          + 8192ull * 8 * 768 * 2    // silu(gate) * up
                          + 8192ull * 3072 * 2       // MoE out
                          + 5ull * 1 * 200064 * 4;   // sampler buffers
  EXPECT_EQ(expect, 834997760ull);
  EXPECT_EQ(activation_peak_bytes(m27(), s, 8192, 1), expect);
}
