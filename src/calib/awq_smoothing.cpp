#include "calib/awq_smoothing.h"

#include "util/dtype.h"

namespace mixq::calib {

float store_value(double v, StoreAs as) {
  const float f = float(v);
  return as == StoreAs::BF16 ? round_bf16(f) : f;
}

void smooth_norm_weight(std::span<float> w, std::span<const double> s, StoreAs as) {
  MIXQ_ASSERT(w.size() == s.size());
  for (size_t c = 0; c < w.size(); ++c) w[c] = store_value(double(w[c]) / s[c], as);
}

void smooth_linear_rows(Matrix& w, std::span<const double> s, StoreAs as) {
  const int64_t n = int64_t(s.size());
  MIXQ_ASSERT(n <= w.rows);
  for (int64_t i = 0; i < n; ++i) {
    float* row = w.row(w.rows - n + i);
    for (int64_t c = 0; c < w.cols; ++c) row[c] = store_value(double(row[c]) / s[size_t(i)], as);
  }
}

void scale_balance_columns(Matrix& w, std::span<const double> s, StoreAs as) {
  MIXQ_ASSERT(int64_t(s.size()) == w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    float* row = w.row(r);
    for (int64_t c = 0; c < w.cols; ++c) row[c] = store_value(double(row[c]) * s[size_t(c)], as);
  }
}

}  // namespace mixq::calib
