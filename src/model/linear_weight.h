// A typed view of one Linear weight that hides how it is stored:
//   Dense       X.weight BF16/F16/F32 [out, in]
//   Fp8Block    X.weight F8_E4M3 [out, in] + X.weight_scale_inv (official release) or X.weight_scale
//               (compressed-tensors float-quantized) [ceil(out/bn), ceil(in/bk)]: w = fp8 * scale
//   PackedInt4  compressed-tensors pack-quantized W4A16: X.weight_packed I32 [out, ceil(in/8)] (nibble
//               j of a row at bits 4*(j%8) of word j/8, value u-8), X.weight_scale [out, in/G],
//               X.weight_shape I64 [2] = [out, in]; symmetric, no zero point: w = (u - 8) * scale
#pragma once
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"

namespace mixq {

enum class WeightFormat { Dense, Fp8Block, PackedInt4 };
const char* format_name(WeightFormat f);  // "dense", "fp8-block", "w4a16"

struct LinearWeight {
  std::string module;
  WeightFormat format = WeightFormat::Dense;
  int64_t out = 0, in = 0;
  TensorView weight;  // Dense / Fp8Block
  TensorView scale;   // Fp8Block / PackedInt4
  TensorView packed;  // PackedInt4
  TensorView shape_tensor;  // PackedInt4 weight_shape
  bool scale_named_inv = false;  // Fp8Block: weight_scale_inv (official) vs weight_scale (CT)
  int64_t block_n = 128, block_k = 128, group_size = 0;

  // Storage label for reports: "BF16", "F32", "FP8-block", "W4A16-g32".
  std::string storage_label() const;
  uint64_t bytes() const;  // all tensors of this module
  std::vector<std::string> tensor_names() const;
  // Reference dequantization of rows [r0, r1) to fp32 (row-major [r1-r0, in]). Cold paths/tests.
  void dequantize_rows(int64_t r0, int64_t r1, float* dst) const;
  std::vector<float> dequantize() const { std::vector<float> v(size_t(out * in)); dequantize_rows(0, out, v.data()); return v; }
};

// Finds `module`'s tensors in the checkpoint and checks their dtypes/shapes against each other
// (InputError naming the tensor otherwise). `expect` is the logical [out, in] when known.
LinearWeight load_linear(const Checkpoint& ck, const std::string& module, const Shape* expect = nullptr,
                         int64_t fp8_block_n = 128, int64_t fp8_block_k = 128);

}  // namespace mixq
