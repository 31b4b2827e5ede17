// Fast attention vs the scalar reference for every cache type, odd head sizes, GQA groups and
// query offsets (pos0 > 0 = decode / chunked prefill over an existing cache).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "hwy/targets.h"
#include "kernels/cpu/attention.h"

namespace mixq::kernels {
namespace {

TEST(Attention, MatchesReferenceForEveryCacheType) {
  std::mt19937 g(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  struct C { int64_t nh, nkv, d, T, pos0; };
  // Groups of 1-8 query heads per KV head (7 and 8 run as two tiles), MiniMax-M2's 48/8 x 128
  // over a context that is not a multiple of the kernel's 4-position or 32-position blocks.
  const C cases[] = {{1, 1, 1, 1, 0}, {4, 2, 17, 3, 0}, {6, 2, 40, 5, 9},   {8, 2, 64, 1, 30},
                     {12, 3, 128, 4, 2}, {48, 8, 128, 2, 69}, {16, 2, 64, 3, 33}, {7, 1, 32, 1, 5}};
  for (int64_t tgt : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(tgt);
    for (auto c : cases)
      for (KvType kt : {KvType::F32, KvType::BF16, KvType::FP8}) {
        const int64_t S = c.pos0 + c.T, stride = c.nkv * c.d;
        std::vector<float> kf(size_t(S * stride)), vf(kf.size()), q(size_t(c.T * c.nh * c.d));
        for (auto& x : kf) x = nd(g);
        for (auto& x : vf) x = nd(g);
        for (auto& x : q) x = nd(g);
        std::vector<uint8_t> kb(kf.size() * 4), vb(kf.size() * 4);
        kv_store(kt, kf.data(), kb.data(), int64_t(kf.size()));
        kv_store(kt, vf.data(), vb.data(), int64_t(vf.size()));
        KvRows kv{kb.data(), vb.data(), kt, stride};
        AttentionShape s{c.nh, c.nkv, c.d, 1.f / std::sqrt(float(c.d))};
        const int64_t ld = c.nh * c.d;
        std::vector<float> o(q.size(), NAN), r(q.size(), NAN);
        attention(q.data(), ld, s, c.pos0, kv, o.data(), ld, 0, c.T * c.nh);
        attention_ref(q.data(), ld, s, c.pos0, kv, r.data(), ld, 0, c.T * c.nh);
        for (size_t i = 0; i < o.size(); ++i)
          ASSERT_NEAR(o[i], r[i], 2e-5f * (1.f + std::fabs(r[i]))) << hwy::TargetName(tgt) << " " << kv_type_name(kt) << " d=" << c.d << " i=" << i;
      }
  }
  hwy::SetSupportedTargetsForTest(0);
}

// The KvCache layout (head-major) and the packed one (position-major) give bit-identical results,
// and so does any split of the work items, including splits inside a KV head's group.
TEST(Attention, HeadMajorLayoutAndItemSplitsGiveIdenticalResults) {
  std::mt19937 g(11);
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t nh = 48, nkv = 8, d = 128, T = 3, pos0 = 41, S = pos0 + T, cap = S + 7;
  std::vector<float> kp(size_t(S * nkv * d)), vp(kp.size()), q(size_t(T * nh * d));
  for (auto& x : kp) x = nd(g);
  for (auto& x : vp) x = nd(g);
  for (auto& x : q) x = nd(g);
  std::vector<uint16_t> kpb(kp.size()), vpb(kp.size()), khb(size_t(cap * nkv * d)), vhb(khb.size());
  kv_store(KvType::BF16, kp.data(), kpb.data(), int64_t(kp.size()));
  kv_store(KvType::BF16, vp.data(), vpb.data(), int64_t(vp.size()));
  for (int64_t j = 0; j < S; ++j)
    for (int64_t h = 0; h < nkv; ++h)
      for (int64_t i = 0; i < d; ++i) {
        khb[size_t((h * cap + j) * d + i)] = kpb[size_t((j * nkv + h) * d + i)];
        vhb[size_t((h * cap + j) * d + i)] = vpb[size_t((j * nkv + h) * d + i)];
      }
  const AttentionShape s{nh, nkv, d, 1.f / std::sqrt(float(d))};
  const KvRows packed{kpb.data(), vpb.data(), KvType::BF16, nkv * d};
  const KvRows head_major{khb.data(), vhb.data(), KvType::BF16, d, cap * d};
  const int64_t ld = nh * d, items = T * nh;
  std::vector<float> a(q.size(), NAN), b(q.size(), NAN), c(q.size(), NAN), r(q.size(), NAN);
  attention(q.data(), ld, s, pos0, packed, a.data(), ld, 0, items);
  attention(q.data(), ld, s, pos0, head_major, b.data(), ld, 0, items);
  for (int64_t i0 = 0; i0 < items;) {  // uneven pieces: 5, 2, 5, 2, ... items
    const int64_t i1 = std::min(items, i0 + (i0 % 7 == 0 ? 5 : 2));
    attention(q.data(), ld, s, pos0, head_major, c.data(), ld, i0, i1);
    i0 = i1;
  }
  attention_ref(q.data(), ld, s, pos0, head_major, r.data(), ld, 0, items);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << i;
    ASSERT_EQ(a[i], c[i]) << i;
    ASSERT_NEAR(a[i], r[i], 2e-5f * (1.f + std::fabs(r[i]))) << i;
  }
}

// A paged cache (runtime/kv_pool.h: blocks of B positions, head-major inside a block, scattered
// over a pool in any order) gives results bit-identical to the same rows stored contiguously
// head-major, on every target and cache type, for contexts that end inside a block.
TEST(Attention, PagedBlocksGiveIdenticalResults) {
  std::mt19937 g(5);
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t nh = 12, nkv = 2, d = 128, B = 32;
  for (int64_t tgt : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(tgt);
    for (KvType kt : {KvType::F32, KvType::BF16, KvType::FP8})
      for (int64_t S : {int64_t(1), int64_t(31), int64_t(64), int64_t(150)}) {
        const int64_t T = std::min<int64_t>(S, 3), pos0 = S - T, nb = (S + B - 1) / B, pool = nb + 3;
        const int64_t es = kv_type_size(kt), block_stride = nkv * B * d;
        std::vector<float> kf(size_t(S * nkv * d)), vf(kf.size()), q(size_t(T * nh * d));
        for (auto& x : kf) x = nd(g);
        for (auto& x : vf) x = nd(g);
        for (auto& x : q) x = nd(g);
        // Contiguous head-major [h][j][d] and paged [block][h][row][d], blocks in reverse order.
        std::vector<uint8_t> kc(size_t(S * nkv * d * es)), vc(kc.size()), kpg(size_t(pool * block_stride * es)),
            vpg(kpg.size());
        std::vector<int32_t> table(static_cast<size_t>(nb));
        for (int64_t b = 0; b < nb; ++b) table[size_t(b)] = int32_t(pool - 1 - b);
        for (int64_t j = 0; j < S; ++j)
          for (int64_t h = 0; h < nkv; ++h) {
            const float* ks = &kf[size_t((j * nkv + h) * d)];
            const float* vs = &vf[size_t((j * nkv + h) * d)];
            const int64_t c = (h * S + j) * d;
            const int64_t p = table[size_t(j / B)] * block_stride + (h * B + j % B) * d;
            kv_store(kt, ks, kc.data() + c * es, d);
            kv_store(kt, vs, vc.data() + c * es, d);
            kv_store(kt, ks, kpg.data() + p * es, d);
            kv_store(kt, vs, vpg.data() + p * es, d);
          }
        const AttentionShape s{nh, nkv, d, 1.f / std::sqrt(float(d))};
        const KvRows contiguous{kc.data(), vc.data(), kt, d, S * d};
        KvRows paged{kpg.data(), vpg.data(), kt, d, B * d};
        paged.block_table = table.data();
        paged.block_size = B;
        paged.block_stride = block_stride;
        const int64_t ld = nh * d, items = T * nh;
        std::vector<float> a(q.size(), NAN), b(q.size(), NAN), r(q.size(), NAN);
        attention(q.data(), ld, s, pos0, contiguous, a.data(), ld, 0, items);
        attention(q.data(), ld, s, pos0, paged, b.data(), ld, 0, items);
        attention_ref(q.data(), ld, s, pos0, paged, r.data(), ld, 0, items);
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_EQ(a[i], b[i]) << hwy::TargetName(tgt) << " " << kv_type_name(kt) << " S=" << S << " i=" << i;
          ASSERT_NEAR(b[i], r[i], 2e-5f * (1.f + std::fabs(r[i]))) << i;
        }
      }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(Attention, FirstPositionReturnsItsValueRow) {
  // One visible position: softmax weight 1, output = V row exactly (f32 cache).
  const int64_t nh = 4, nkv = 2, d = 24;
  std::vector<float> k(nkv * d, 0.5f), v(nkv * d), q(nh * d, 1.f), o(nh * d);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.25f - 3.f;
  KvRows kv{k.data(), v.data(), KvType::F32, nkv * d};
  attention(q.data(), nh * d, AttentionShape{nh, nkv, d, 0.125f}, 0, kv, o.data(), nh * d, 0, nh);
  for (int64_t h = 0; h < nh; ++h)
    for (int64_t i = 0; i < d; ++i) EXPECT_EQ(o[h * d + i], v[(h / 2) * d + i]);
}

}  // namespace
}  // namespace mixq::kernels
