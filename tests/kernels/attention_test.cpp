// Fast attention vs the scalar reference for every cache type, odd head sizes, GQA groups and
// query offsets (pos0 > 0 = decode / chunked prefill over an existing cache).
#include <gtest/gtest.h>

#include <cmath>
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
  const C cases[] = {{1, 1, 1, 1, 0}, {4, 2, 17, 3, 0}, {6, 2, 40, 5, 9}, {8, 2, 64, 1, 30}, {12, 3, 128, 4, 2}};
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
