// Dequantization of an FP8-block source weight (the official MiniMax-M2 release, §4.1):
// w = bf16( fp32(fp8) * weight_scale_inv[r/bn][c/bk] ), the value llm-compressor's
// FP8BlockDequantizer hands to quantization. Row ranges let callers stream a tensor block-row by
// block-row instead of materializing a BF16 copy. Multi-threaded over rows.
#pragma once
#include <cstdint>

namespace mixq {

// Rows [r0, r1) of an [out, in] FP8 weight into dst ([r1-r0, in], bf16-exact fp32 values).
void dequantize_fp8_block_rows(const uint8_t* w, const float* scale_inv, int64_t out, int64_t in, int64_t bn, int64_t bk,
                               int64_t r0, int64_t r1, float* dst);
// Same, as bf16 bits.
void dequantize_fp8_block_rows_bf16(const uint8_t* w, const float* scale_inv, int64_t out, int64_t in, int64_t bn, int64_t bk,
                                    int64_t r0, int64_t r1, uint16_t* dst);

}  // namespace mixq
