// Applying the chosen AWQ scales s (one per input channel of the balance layers), spec §5.7:
//   smooth layer : RMSNorm weight  w /= s   (fp64 math, stored bf16)
//                  Linear (w3)     last len(s) output rows W[r, :] /= s[r]  (stored bf16)
//   balance layers: W[:, c] *= s[c] (stored in the layer's dtype: bf16 experts, fp32 router gate)
// The product smooth(x)/s feeding W*s is the original function up to the storage rounding.
#pragma once
#include <span>

#include "calib/matrix.h"

namespace mixq::calib {

enum class StoreAs { BF16, F32 };

// One stored value of `v` computed in fp64. PyTorch casts fp64 -> bf16 through fp32 (c10::BFloat16
// is built from float), i.e. two roundings; we reproduce that.
float store_value(double v, StoreAs as);

void smooth_norm_weight(std::span<float> norm_weight, std::span<const double> s, StoreAs as = StoreAs::BF16);
void smooth_linear_rows(Matrix& w, std::span<const double> s, StoreAs as = StoreAs::BF16);
void scale_balance_columns(Matrix& w, std::span<const double> s, StoreAs as);

}  // namespace mixq::calib
