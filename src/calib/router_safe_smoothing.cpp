#include "calib/router_safe_smoothing.h"

namespace mixq::calib {

void apply_norm_mapping_scales(MoeLayerWeights& l, std::span<const double> s, RouterCompensation comp,
                               StoreAs norm_store) {
  smooth_norm_weight(l.norm, s, norm_store);
  if (comp == RouterCompensation::On) scale_balance_columns(l.gate, s, StoreAs::F32);
  for (auto& w : l.w1) scale_balance_columns(w, s);
  for (auto& w : l.w3) scale_balance_columns(w, s);
}

void apply_w3_w2_scales(MoeLayerWeights& l, int e, std::span<const double> s) {
  smooth_linear_rows(l.w3[size_t(e)], s);
  scale_balance_columns(l.w2[size_t(e)], s);
}

void smooth_expert_matrix(float* w, int64_t rows, int64_t cols, int part, std::span<const double> s_norm,
                          std::span<const double> s_w2) {
  MIXQ_ASSERT(part == 1 || part == 2 || part == 3);
  if (part != 2 && !s_norm.empty()) scale_balance_columns(w, rows, cols, s_norm, StoreAs::BF16);
  if (part == 3 && !s_w2.empty()) smooth_linear_rows(w, rows, cols, s_w2, StoreAs::BF16);
  if (part == 2 && !s_w2.empty()) scale_balance_columns(w, rows, cols, s_w2, StoreAs::BF16);
}

}  // namespace mixq::calib
