// Element types of checkpoint tensors (safetensors names) and exact scalar conversions.
// Conversions follow PyTorch's c10 semantics bit for bit: round-to-nearest-even, NaN/Inf kept where
// the target has them, FP8 e4m3fn overflow (|x| >= 480 after rounding) becomes NaN as in c10.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace mixq {

enum class DType : uint8_t { BF16, F16, F32, F64, F8_E4M3, F8_E5M2, I8, U8, I16, I32, I64, BOOL };

std::string_view dtype_name(DType t);                      // safetensors spelling, e.g. "BF16"
std::optional<DType> dtype_from_name(std::string_view s);  // nullopt when unknown
size_t dtype_size(DType t);
bool dtype_is_float(DType t);

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float f32_from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// bfloat16
inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN -> canonical quiet NaN (c10)
  uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
  return uint16_t((u + rounding_bias) >> 16);
}
inline float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// IEEE half
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// float8_e4m3fn (no Inf; 0x7f/0xff are NaN; max finite 448) and float8_e5m2 (IEEE-like)
float fp8e4m3_to_f32(uint8_t v);
uint8_t f32_to_fp8e4m3(float f);
float fp8e5m2_to_f32(uint8_t v);
uint8_t f32_to_fp8e5m2(float f);

// Lookup table for the hot dequantization paths (256 entries, exact).
extern const float kFp8E4M3ToF32[256];

}  // namespace mixq
