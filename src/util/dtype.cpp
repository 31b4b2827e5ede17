#include "util/dtype.h"

namespace mixq {

namespace {
struct DTypeInfo { DType t; const char* name; size_t size; bool is_float; };
constexpr DTypeInfo kInfo[] = {
    {DType::BF16, "BF16", 2, true},   {DType::F16, "F16", 2, true},
    {DType::F32, "F32", 4, true},     {DType::F64, "F64", 8, true},
    {DType::F8_E4M3, "F8_E4M3", 1, true}, {DType::F8_E5M2, "F8_E5M2", 1, true},
    {DType::I8, "I8", 1, false},      {DType::U8, "U8", 1, false},
    {DType::I16, "I16", 2, false},    {DType::I32, "I32", 4, false},
    {DType::I64, "I64", 8, false},    {DType::BOOL, "BOOL", 1, false},
};
}  // namespace

std::string_view dtype_name(DType t) { return kInfo[size_t(t)].name; }
size_t dtype_size(DType t) { return kInfo[size_t(t)].size; }
bool dtype_is_float(DType t) { return kInfo[size_t(t)].is_float; }

std::optional<DType> dtype_from_name(std::string_view s) {
  for (const auto& i : kInfo)
    if (s == i.name) return i.t;
  return std::nullopt;
}

// Half <-> float via exponent re-biasing (same construction as the fp16 library c10 uses).
float f16_to_f32(uint16_t h) {
  const uint32_t w = uint32_t(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const uint32_t exp_offset = 0xE0u << 23;
  const float exp_scale = f32_from_bits(0x7800000u);  // 2^-112
  const float normalized = f32_from_bits((two_w >> 4) + exp_offset) * exp_scale;
  const uint32_t magic_mask = 126u << 23;
  const float magic_bias = 0.5f;
  const float denormalized = f32_from_bits((two_w >> 17) | magic_mask) - magic_bias;
  const uint32_t denormalized_cutoff = 1u << 27;
  const uint32_t result =
      sign | (two_w < denormalized_cutoff ? f32_bits(denormalized) : f32_bits(normalized));
  return f32_from_bits(result);
}

uint16_t f32_to_f16(float f) {
  const float scale_to_inf = f32_from_bits(0x77800000u);   // 2^112
  const float scale_to_zero = f32_from_bits(0x08800000u);  // 2^-110
  float base = (f < 0 ? -f : f);
  // Keep the multiply exact in IEEE semantics (volatile defeats -ffast-math style folding).
  volatile float b = base * scale_to_inf;
  base = b * scale_to_zero;
  const uint32_t w = f32_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = f32_bits(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return uint16_t((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float fp8e4m3_to_f32(uint8_t v) {
  const uint32_t w = uint32_t(v) << 24;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t nonsign = w & 0x7FFFFFFFu;
  if (nonsign == 0) return f32_from_bits(sign);
  uint32_t renorm_shift = uint32_t(__builtin_clz(nonsign));
  renorm_shift = renorm_shift > 4 ? renorm_shift - 4 : 0;
  const uint32_t inf_nan_mask = uint32_t((int32_t(nonsign + 0x01000000u) >> 8)) & 0x7F800000u;
  const uint32_t result =
      sign | ((((nonsign << renorm_shift) >> 4) + ((0x78u - renorm_shift) << 23)) | inf_nan_mask);
  return f32_from_bits(result);
}

uint8_t f32_to_fp8e4m3(float f) {
  const uint32_t fp8_max = 1087u << 20;      // 480.0f: first value that rounds past 448
  const uint32_t denorm_mask = 141u << 23;   // 2^14, aligns subnormal mantissa bits
  uint32_t f_bits = f32_bits(f);
  const uint32_t sign = f_bits & 0x80000000u;
  f_bits ^= sign;
  uint8_t result;
  if (f_bits >= fp8_max) {
    result = 0x7f;  // NaN (also for Inf and overflow, as c10 does)
  } else if (f_bits < (121u << 23)) {  // below 2^-6: subnormal range, let the FPU round
    volatile float sum = f32_from_bits(f_bits) + f32_from_bits(denorm_mask);
    result = uint8_t(f32_bits(sum) - denorm_mask);
  } else {
    const uint32_t mant_odd = (f_bits >> 20) & 1u;
    f_bits += (uint32_t(7 - 127) << 23) + 0x7FFFFu;
    f_bits += mant_odd;
    result = uint8_t(f_bits >> 20);
  }
  return uint8_t(result | (sign >> 24));
}

float fp8e5m2_to_f32(uint8_t v) { return f16_to_f32(uint16_t(v) << 8); }

uint8_t f32_to_fp8e5m2(float f) {
  const uint32_t fp32_inf = 255u << 23;
  const uint32_t fp8_max = 143u << 23;
  const uint32_t denorm_mask = 134u << 23;
  uint32_t f_bits = f32_bits(f);
  const uint32_t sign = f_bits & 0x80000000u;
  f_bits ^= sign;
  uint8_t result;
  if (f_bits >= fp8_max) {
    result = f_bits > fp32_inf ? 0x7F : 0x7C;
  } else if (f_bits < (113u << 23)) {
    volatile float sum = f32_from_bits(f_bits) + f32_from_bits(denorm_mask);
    result = uint8_t(f32_bits(sum) - denorm_mask);
  } else {
    const uint32_t mant_odd = (f_bits >> 21) & 1u;
    f_bits += (uint32_t(15 - 127) << 23) + 0xFFFFFu;
    f_bits += mant_odd;
    result = uint8_t(f_bits >> 21);
  }
  return uint8_t(result | (sign >> 24));
}

// Filled during static initialization; every use is after main() starts.
const float kFp8E4M3ToF32[256] = {
#define R(i) fp8e4m3_to_f32(i)
#define R8(i) R(i), R(i + 1), R(i + 2), R(i + 3), R(i + 4), R(i + 5), R(i + 6), R(i + 7)
#define R64(i) R8(i), R8(i + 8), R8(i + 16), R8(i + 24), R8(i + 32), R8(i + 40), R8(i + 48), R8(i + 56)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R8
#undef R
};

}  // namespace mixq
