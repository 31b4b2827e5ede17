#include "plan/decode_ceiling.h"

#include <gtest/gtest.h>

#include "plan/kv_budget.h"
#include "plan_test_util.h"

using namespace mixq;
using plantest::m27;

TEST(DecodeCeiling, Bf16SingleDeviceByHand) {
  const auto inv = inventory_from_config(m27(), DType::BF16);
  ParallelLayout p;
  const ShardShape s = shard_shape(m27(), p);
  const DecodeRead r = decode_read_per_rank(m27(), inv, s, p, kv_bytes_per_token(m27(), 2));
  EXPECT_EQ(r.attention, 62ull * (44040192 + 6144 + 1024) * 2);       // q,k,v,o + q/k norms
  EXPECT_EQ(r.experts, 62ull * 8 * 14155776 * 2);                     // 8 of 256 experts per layer
  EXPECT_EQ(r.lm_head, 200064ull * 3072 * 2);
  EXPECT_EQ(r.router, 62ull * (256 * 3072 + 256) * 4);                // F32 in vLLM's memory
  EXPECT_EQ(r.norms, (62ull * 2 * 3072 + 3072) * 2);
  EXPECT_EQ(r.embedding, 3072ull * 2);                                // one row
  EXPECT_EQ(r.at_context(1000), r.weights() + 1000ull * 253952);
  EXPECT_DOUBLE_EQ(decode_tokens_per_s(r, 0, 256e9), 256e9 / double(r.weights()));
  EXPECT_EQ(decode_tokens_per_s(r, 0, 0), 0.0);
}

TEST(DecodeCeiling, TensorParallelHalvesShardedReads) {
  const auto inv = inventory_from_config(m27(), DType::BF16);
  ParallelLayout p1, p2;
  p2.tp = 2;
  const DecodeRead a = decode_read_per_rank(m27(), inv, shard_shape(m27(), p1), p1, 253952);
  const DecodeRead b = decode_read_per_rank(m27(), inv, shard_shape(m27(), p2), p2, 126976);
  EXPECT_EQ(b.attention * 2, a.attention);
  EXPECT_EQ(b.experts * 2, a.experts);
  EXPECT_EQ(b.lm_head * 2, a.lm_head);
  EXPECT_EQ(b.router, a.router);  // replicated: every rank reads all of it
  EXPECT_EQ(b.norms, a.norms);
}
