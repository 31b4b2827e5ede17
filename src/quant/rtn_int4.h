// Round-to-nearest symmetric INT4 group quantization with llm-compressor / compressed-tensors'
// exact math (compressed-tensors-awq.md §3.2-§3.4) and the `pack-quantized` layout (§2.2).
//
// Per group of G consecutive input elements of a row (all values bf16-exact floats):
//   amax = max |w|                                (bf16, exact)
//   s    = bf16( fp32(amax) * fp32(1/7.5) )       (CUDA's a*reciprocal(b); fp32(1/7.5) = 0x3E088889)
//   s    = 2^-7 when s == 0                       (torch.finfo(bf16).eps)
//   q    = round_half_even( clamp( bf16(w / s), -8, 7 ) )   (clamp BEFORE rounding)
//   u    = q + 8, element j of a row at bits 4*(j%8) of int32 word j/8 (low nibble first)
// Dequantize: w' = (u - 8) * s.  Fake quant (AWQ's grid search): bf16( q * s ).
//
// The fast kernels are vectorized (compiled for AVX2 and baseline, chosen at run time) and
// multi-threaded over rows; rtn_int4_reference.h-style scalar code lives in the tests.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mixq {

inline constexpr float kInvSevenHalf = 0x1.111112p-3f;  // fp32(1/7.5) = 0x3E088889
inline constexpr uint16_t kBf16Eps = 0x3C00;             // 2^-7

// Scalar building blocks (exact; used by the reference and cold paths).
uint16_t int4_group_scale_bf16(float amax);
int int4_quantize_value(float w, float scale);  // q in [-8, 7]

// Quantizes rows x in (in % G == 0, in % 8 == 0) of bf16-exact fp32 weights `w` (row-major) into
// packed int32 words [rows, in/8] and bf16 scales [rows, in/G]. Multi-threaded over rows.
void quantize_pack_int4(const float* w, int64_t rows, int64_t in, int64_t group, uint32_t* packed, uint16_t* scales);
// Same input as bf16 bits (a BF16 checkpoint tensor straight from the mmap).
void quantize_pack_int4_bf16(const uint16_t* w, int64_t rows, int64_t in, int64_t group, uint32_t* packed, uint16_t* scales);

// Same from an FP8-block source (§4.1), fused: each group is dequantized to bf16(fp8 * scale_inv)
// on the fly, with no fp32 copy of the matrix.
void quantize_pack_int4_fp8block(const uint8_t* w, const float* scale_inv, int64_t rows, int64_t in, int64_t bn, int64_t bk,
                                 int64_t group, uint32_t* packed, uint16_t* scales);

// Fused quantize-dequantize of an fp32 [rows, in] matrix (values need not be bf16-exact: they are
// rounded to bf16 first, as writing W*s into a bf16 parameter does in AWQ): out = bf16(q * s).
// `out` may alias `w`. Multi-threaded over rows. This is what AWQ's grid search calls per point.
void qdq_int4(const float* w, int64_t rows, int64_t in, int64_t group, float* out);

// Dequantizes packed rows back to fp32: (u - 8) * s.
void dequantize_int4(const uint32_t* packed, const uint16_t* scales, int64_t rows, int64_t in, int64_t group, float* out);

}  // namespace mixq
