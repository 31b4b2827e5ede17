// Conversions of one checkpoint matrix (model/linear_weight.h) into the bytes of a GGUF tensor
// (io/gguf_format.h). A matrix [out, in] becomes ne = [in, out]: row r of the checkpoint is row r
// of the GGUF tensor, so every conversion is row by row and needs no transpose.
//
// INT4 -> Q4_0 is lossless: compressed-tensors stores the nibble u = q + 8 (q in [-8, 7]) and Q4_0
// stores the same nibble with value (u - 8) * d, so only the block order changes (element j and
// j + 16 share byte j) and the scale becomes fp16. A group of G = 32k elements is k Q4_0 blocks with
// the same d. The scale is exact in fp16 iff it is a multiple of 2^-24 with |s| <= 65504; for BF16
// scales that is 2^-17 <= |s| <= 65280 (or 0). Anything else is counted, then refused or clamped.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_format.h"
#include "model/linear_weight.h"

namespace mixq::gguf {

enum class ScalePolicy { Refuse, Clamp };

struct ConvertStats {
  uint64_t values = 0;          // elements converted
  uint64_t changed = 0;         // elements (BF16/F16 rounding) or groups (Q4_0 scales) not kept exactly
  double max_rel_change = 0;    // largest |new - old| / |old| among them
};

// The GGUF type a dense checkpoint dtype is copied as (F32, F16 or BF16: all exact).
TensorType dense_type(DType t);

// Rows [r0, r1) of `w` appended to `out` as `type`. Supported:
//   PackedInt4 (group % 32 == 0) -> Q4_0   (exact; scales per `policy`)
//   Dense      -> its own type, or F32     (exact)
//   Fp8Block   -> BF16 (rounded, counted), F32 (exact), Q8_0 (requantized like ggml's quantize_q8_0)
// Anything else is an InputError naming the module. `stats` accumulates.
void convert_rows(const LinearWeight& w, int64_t r0, int64_t r1, TensorType type, ScalePolicy policy,
                  std::vector<uint8_t>& out, ConvertStats& stats);

// Whether `w` can become `type` at all (a reason when not, empty when it can).
std::string conversion_problem(const LinearWeight& w, TensorType type);

// A 1-D float tensor (norm weight, router bias) as F32 (exact for BF16/F16/F32 sources).
void convert_vector_f32(const TensorView& v, std::vector<uint8_t>& out);

// fp16 exactness of a Q4_0 scale (see the header comment).
bool scale_exact_in_f16(float s);

}  // namespace mixq::gguf
