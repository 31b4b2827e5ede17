// Fast attention over the KV cache (Highway). Per (query row, head) item: one pass of q.k dot
// products over the visible positions (K rows decoded to fp32 in registers), an fp32 softmax, and
// one pass accumulating p_j * v_j into an fp32 output row. Bandwidth: each item reads its KV head
// once; the 6 (48/8) query heads sharing a KV head hit it in cache when run back to back, which the
// t * nh + h item order gives.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention.h"
#include "util/dtype.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/attention.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

template <KvType T>
HWY_INLINE VF LoadKv(DF df, const void* base, int64_t i) {
  if constexpr (T == KvType::F32) {
    return hn::LoadU(df, static_cast<const float*>(base) + i);
  } else if constexpr (T == KvType::BF16) {
    const hn::Rebind<uint16_t, DF> d16;
    const hn::RebindToUnsigned<DF> du;
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, static_cast<const uint16_t*>(base) + i))));
  } else {
    const hn::Rebind<uint8_t, DF> d8;
    const hn::RebindToUnsigned<DF> du;
    const auto u = hn::PromoteTo(du, hn::LoadU(d8, static_cast<const uint8_t*>(base) + i));
    const auto bits = hn::Or(hn::ShiftLeft<20>(hn::And(u, hn::Set(du, 0x7Fu))), hn::ShiftLeft<24>(hn::And(u, hn::Set(du, 0x80u))));
    return hn::Mul(hn::BitCast(df, bits), hn::Set(df, 0x1p120f));
  }
}

template <KvType T>
void AttnT(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out, int64_t ldo,
           int64_t item0, int64_t item1) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  const int64_t d = s.d, dv = d - d % L, group = s.nh / s.nkv;
  thread_local std::vector<float> p;
  for (int64_t it = item0; it < item1; ++it) {
    const int64_t t = it / s.nh, h = it % s.nh, kvh = h / group, n = pos0 + t + 1;
    const float* qh = q + t * ldq + h * d;
    if (int64_t(p.size()) < n) p.resize(size_t(n));
    float mx = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t off = j * kv.stride + kvh * d;
      VF acc = hn::Zero(df);
      int64_t i = 0;
      for (; i < dv; i += L) acc = hn::MulAdd(hn::LoadU(df, qh + i), LoadKv<T>(df, kv.k, off + i), acc);
      float dot = hn::GetLane(hn::SumOfLanes(df, acc));
      for (; i < d; ++i) dot += qh[i] * kv_load(T, kv.k, off + i);
      p[size_t(j)] = dot * s.scale;
      mx = std::max(mx, p[size_t(j)]);
    }
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
    float* o = out + t * ldo + h * d;
    std::fill(o, o + d, 0.f);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t off = j * kv.stride + kvh * d;
      const VF pj = hn::Set(df, p[size_t(j)]);
      int64_t i = 0;
      for (; i < dv; i += L) hn::StoreU(hn::MulAdd(pj, LoadKv<T>(df, kv.v, off + i), hn::LoadU(df, o + i)), df, o + i);
      for (; i < d; ++i) o[i] += p[size_t(j)] * kv_load(T, kv.v, off + i);
    }
    const float inv = 1.f / sum;
    for (int64_t i = 0; i < d; ++i) o[i] *= inv;
  }
}

void Attention(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
               int64_t ldo, int64_t item0, int64_t item1) {
  switch (kv.type) {
    case KvType::F32: return AttnT<KvType::F32>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
    case KvType::BF16: return AttnT<KvType::BF16>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
    case KvType::FP8: return AttnT<KvType::FP8>(q, ldq, s, pos0, kv, out, ldo, item0, item1);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
HWY_EXPORT(Attention);
void attention(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
               int64_t ldo, int64_t item0, int64_t item1) {
  HWY_DYNAMIC_DISPATCH(Attention)(q, ldq, s, pos0, kv, out, ldo, item0, item1);
}
}  // namespace mixq::kernels
#endif
