#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention.h"
#include "util/dtype.h"

namespace mixq::kernels {

const char* kv_type_name(KvType t) {
  switch (t) {
    case KvType::F32: return "f32";
    case KvType::BF16: return "bf16";
    case KvType::FP8: return "fp8";
  }
  return "?";
}
int kv_type_size(KvType t) { return t == KvType::F32 ? 4 : t == KvType::BF16 ? 2 : 1; }

float kv_load(KvType t, const void* base, int64_t i) {
  switch (t) {
    case KvType::F32: return static_cast<const float*>(base)[i];
    case KvType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(base)[i]);
    case KvType::FP8: return kFp8E4M3ToF32[static_cast<const uint8_t*>(base)[i]];
  }
  return 0.f;
}

void kv_store(KvType t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case KvType::F32: std::copy(src, src + n, static_cast<float*>(dst)); break;
    case KvType::BF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
      break;
    case KvType::FP8:
      for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(dst)[i] = f32_to_fp8e4m3(std::clamp(src[i], -448.f, 448.f));
      break;
  }
}

void attention_ref(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
                   int64_t ldo, int64_t item0, int64_t item1) {
  const int64_t group = s.nh / s.nkv;
  std::vector<float> p;
  for (int64_t it = item0; it < item1; ++it) {
    const int64_t t = it / s.nh, h = it % s.nh, kvh = h / group, n = pos0 + t + 1;
    const float* qh = q + t * ldq + h * s.d;
    p.assign(size_t(n), 0.f);
    float mx = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
      float dot = 0.f;
      for (int64_t i = 0; i < s.d; ++i) dot += qh[i] * kv_load(kv.type, kv.k, kv.element(j, kvh, s.d, i));
      p[size_t(j)] = dot * s.scale;
      mx = std::max(mx, p[size_t(j)]);
    }
    float sum = 0.f;
    for (auto& x : p) sum += (x = std::exp(x - mx));
    float* o = out + t * ldo + h * s.d;
    for (int64_t i = 0; i < s.d; ++i) {
      float acc = 0.f;
      for (int64_t j = 0; j < n; ++j) acc += p[size_t(j)] * kv_load(kv.type, kv.v, kv.element(j, kvh, s.d, i));
      o[i] = acc / sum;
    }
  }
}

}  // namespace mixq::kernels
