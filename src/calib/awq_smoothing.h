// Applying the chosen AWQ scales s (one per input channel of the balance layers), spec §5.7:
//   smooth layer : RMSNorm weight  w /= s   (fp64 math, stored bf16)
//                  Linear (w3)     last len(s) output rows W[r, :] /= s[r]  (stored bf16)
//   balance layers: W[:, c] *= s[c] (stored in the layer's dtype: bf16 experts, fp32 router gate)
// The product smooth(x)/s feeding W*s is the original function up to the storage rounding.
// Each stored value depends only on the value before and its scale, so applying the same scales
// in the same order to the same bf16 values gives the same bits whether done in place on a held
// copy or later on the quantize job's buffer (calib/awq_pipeline.h relies on this).
#pragma once
#include <span>

#include "calib/matrix.h"

namespace mixq::calib {

enum class StoreAs { BF16, F32 };

// One stored value of `v` computed in fp64. PyTorch casts fp64 -> bf16 through fp32 (c10::BFloat16
// is built from float), i.e. two roundings; we reproduce that.
float store_value(double v, StoreAs as);

void smooth_norm_weight(std::span<float> norm_weight, std::span<const double> s, StoreAs as = StoreAs::BF16);
// On a raw row-major [rows, cols] buffer.
void smooth_linear_rows(float* w, int64_t rows, int64_t cols, std::span<const double> s, StoreAs as);
void scale_balance_columns(float* w, int64_t rows, int64_t cols, std::span<const double> s, StoreAs as);
// fp32 matrices (the router gate; tests).
void smooth_linear_rows(Matrix& w, std::span<const double> s, StoreAs as = StoreAs::BF16);
void scale_balance_columns(Matrix& w, std::span<const double> s, StoreAs as);
// bf16 matrices, in place (stored bf16, as llm-compressor's bf16 parameters).
void smooth_linear_rows(Bf16Matrix& w, std::span<const double> s);
void scale_balance_columns(Bf16Matrix& w, std::span<const double> s);

}  // namespace mixq::calib
