// The paged KV pool: block accounting, prefix-cache hits only for the same tokens after the same
// parent, LRU eviction of unowned cached blocks, and K/V rows read back through a block table.
#include <gtest/gtest.h>

#include <numeric>

#include "runtime/kv_pool.h"

namespace mixq {
namespace {

MiniMaxM2Config small_config() {
  MiniMaxM2Config c;
  c.num_hidden_layers = 2;
  c.num_key_value_heads = 2;
  c.num_attention_heads = 4;
  c.head_dim = 8;
  c.hidden_size = 32;
  c.max_position_embeddings = 4096;
  return c;
}

TEST(KvPool, AllocatesReleasesAndRefusesWhenFull) {
  KvPool pool(small_config(), 3, 32, kernels::KvType::F32);
  EXPECT_EQ(pool.blocks_available(), 3);
  auto a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(pool.allocate().has_value());
  EXPECT_EQ(pool.blocks_in_use(), 3);
  pool.release(*b);
  EXPECT_EQ(pool.blocks_available(), 1);
  EXPECT_EQ(pool.allocate(), b);
}

TEST(KvPool, PrefixCacheHitsOnlyTheSameTokensAfterTheSameParent) {
  KvPool pool(small_config(), 4, 32, kernels::KvType::F32);
  std::vector<int32_t> t(32);
  std::iota(t.begin(), t.end(), 100);
  const uint64_t h0 = KvPool::chain_hash(0, t.data(), 32);
  auto b = pool.allocate();
  pool.publish(*b, h0, 0, t.data());
  pool.release(*b);  // unowned but cached
  EXPECT_EQ(pool.cached_blocks(), 1);
  EXPECT_EQ(pool.blocks_available(), 4);
  auto hit = pool.lookup(h0, 0, t.data());
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, *b);
  EXPECT_EQ(pool.blocks_in_use(), 1);
  // A second owner of the same block, then both release it.
  auto again = pool.lookup(h0, 0, t.data());
  ASSERT_TRUE(again);
  pool.release(*hit);
  pool.release(*again);
  // Other tokens, or the same tokens after another parent, miss.
  std::vector<int32_t> u = t;
  u[31] = 7;
  EXPECT_FALSE(pool.lookup(KvPool::chain_hash(0, u.data(), 32), 0, u.data()));
  EXPECT_FALSE(pool.lookup(KvPool::chain_hash(h0, t.data(), 32), h0, t.data()));
  EXPECT_NE(KvPool::chain_hash(0, t.data(), 32), KvPool::chain_hash(h0, t.data(), 32));
}

TEST(KvPool, EvictsTheLeastRecentlyReleasedCachedBlockOnlyWhenNoFreeOneIsLeft) {
  KvPool pool(small_config(), 2, 32, kernels::KvType::F32);
  std::vector<int32_t> t1(32, 1), t2(32, 2);
  const uint64_t h1 = KvPool::chain_hash(0, t1.data(), 32), h2 = KvPool::chain_hash(0, t2.data(), 32);
  auto a = pool.allocate(), b = pool.allocate();
  pool.publish(*a, h1, 0, t1.data());
  pool.publish(*b, h2, 0, t2.data());
  pool.release(*a);  // released first: evicted first
  pool.release(*b);
  auto c = pool.allocate();
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, *a);
  EXPECT_FALSE(pool.lookup(h1, 0, t1.data()));
  EXPECT_TRUE(pool.lookup(h2, 0, t2.data()));
}

TEST(KvPool, StoredRowsReadBackThroughTheBlockTable) {
  const auto cfg = small_config();
  KvPool pool(cfg, 4, 32, kernels::KvType::F32);
  std::vector<int32_t> table = {3, 1};  // positions 0-31 in block 3, 32-63 in block 1
  const int64_t W = cfg.kv_width(), T = 40;
  std::vector<float> k(size_t(T * W)), v(k.size());
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = float(i);
    v[i] = -float(i);
  }
  pool.store(1, table.data(), 0, T, k.data(), W, v.data(), W);
  const kernels::KvRows r = pool.rows(1, table.data());
  for (int64_t j = 0; j < T; ++j)
    for (int64_t h = 0; h < cfg.num_key_value_heads; ++h)
      for (int64_t i = 0; i < cfg.head_dim; ++i) {
        const size_t src = size_t(j * W + h * cfg.head_dim + i);
        ASSERT_EQ(kernels::kv_load(r.type, r.k, r.element(j, h, cfg.head_dim, i)), k[src]);
        ASSERT_EQ(kernels::kv_load(r.type, r.v, r.element(j, h, cfg.head_dim, i)), v[src]);
      }
}

}  // namespace
}  // namespace mixq
