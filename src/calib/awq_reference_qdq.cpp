#include "calib/awq_reference_qdq.h"

#include <algorithm>
#include <cmath>

#include "util/dtype.h"
#include "util/error.h"

namespace mixq::calib {

float w4_sym_reciprocal_range() { return f32_from_bits(0x3E088889u); }

float w4_sym_group_scale(float amax) {
  float s = round_bf16(amax * w4_sym_reciprocal_range());
  return s == 0.0f ? 0.0078125f : s;  // torch.finfo(bf16).eps replaces zero scales
}

namespace {

float group_amax(const float* g, int64_t n) {
  float mn = 0.0f, mx = 0.0f;  // min(min,0), max(max,0)
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, g[i]);
    mx = std::max(mx, g[i]);
  }
  return std::max(-mn, mx);
}

// clamp first, then round half to even (torch.round); nearbyint uses the default FE_TONEAREST mode.
float quantize_one(float w, float scale) {
  float t = round_bf16(w / scale);
  t = std::min(7.0f, std::max(-8.0f, t));
  return std::nearbyint(t);
}

}  // namespace

void quantize_w4_group_sym_reference(const float* w, int64_t rows, int64_t cols, int64_t group,
                                     int8_t* codes, float* scales) {
  MIXQ_ASSERT(group > 0 && cols % group == 0);
  const int64_t ng = cols / group;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      const float* src = w + r * cols + g * group;
      float s = w4_sym_group_scale(group_amax(src, group));
      scales[r * ng + g] = s;
      for (int64_t i = 0; i < group; ++i) codes[r * cols + g * group + i] = int8_t(quantize_one(src[i], s));
    }
}

void qdq_w4_group_sym_reference(const float* w, int64_t rows, int64_t cols, int64_t group, float* out) {
  MIXQ_ASSERT(group > 0 && cols % group == 0);
  const int64_t ng = cols / group;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      const float* src = w + r * cols + g * group;
      float* dst = out + r * cols + g * group;
      float s = w4_sym_group_scale(group_amax(src, group));
      for (int64_t i = 0; i < group; ++i) dst[i] = round_bf16(quantize_one(src[i], s) * s);
    }
}

}  // namespace mixq::calib
