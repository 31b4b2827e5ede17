// Scalar REFERENCE of llm-compressor's W4 group-symmetric fake quantization (quantize-dequantize),
// bit-exact to compressed-tensors' eager math (spec compressed-tensors-awq.md §3.2-§3.4):
//   amax  = max(|min(g,0)|, |max(g,0)|)                 per group of `group` input channels (bf16)
//   scale = bf16(fp32(amax) * fp32(1/7.5))              CUDA's a*reciprocal(b); zero -> 2^-7 (bf16 eps)
//   q     = rint_half_even(clamp(bf16(w / scale), -8, 7))
//   w''   = bf16(q * scale)
// This exists so calib/ can be tested before quant/'s fast QDQ lands; the AWQ search takes the QDQ as
// a function pointer, so swapping in the fast kernel changes no algorithm code.
#pragma once
#include <cstdint>

namespace mixq::calib {

// fp32(1/7.5) as PyTorch's CUDA division computes it (0x3E088889).
float w4_sym_reciprocal_range();

// The bf16 scale of one group from its absmax (amax is a bf16 value held in a float).
float w4_sym_group_scale(float amax);

// Quantize-dequantize one group-quantized row-major [rows, cols] matrix whose values are bf16 values
// held in floats; cols % group == 0 (checked by the caller). `out` may alias `w`.
void qdq_w4_group_sym_reference(const float* w, int64_t rows, int64_t cols, int64_t group, float* out);

// Quantize only: the int4 codes in [-8, 7] and one scale per group (row-major [rows, cols/group]).
void quantize_w4_group_sym_reference(const float* w, int64_t rows, int64_t cols, int64_t group,
                                     int8_t* codes, float* scales);

}  // namespace mixq::calib
