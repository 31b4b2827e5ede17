#include "calib/router_safe_smoothing.h"

namespace mixq::calib {

void apply_norm_mapping_scales(MoeLayerWeights& l, std::span<const double> s, RouterCompensation comp,
                               StoreAs norm_store, StoreAs experts) {
  smooth_norm_weight(l.norm, s, norm_store);
  if (comp == RouterCompensation::On) scale_balance_columns(l.gate, s, StoreAs::F32);
  for (auto& w : l.w1) scale_balance_columns(w, s, experts);
  for (auto& w : l.w3) scale_balance_columns(w, s, experts);
}

void apply_w3_w2_scales(MoeLayerWeights& l, int e, std::span<const double> s, StoreAs as) {
  smooth_linear_rows(l.w3[size_t(e)], s, as);
  scale_balance_columns(l.w2[size_t(e)], s, as);
}

}  // namespace mixq::calib
