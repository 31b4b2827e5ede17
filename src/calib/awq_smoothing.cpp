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

void smooth_linear_rows(float* w, int64_t rows, int64_t cols, std::span<const double> s, StoreAs as) {
  const int64_t n = int64_t(s.size());
  MIXQ_ASSERT(n <= rows);
  for (int64_t i = 0; i < n; ++i) {
    float* row = w + (rows - n + i) * cols;
    for (int64_t c = 0; c < cols; ++c) row[c] = store_value(double(row[c]) / s[size_t(i)], as);
  }
}

void scale_balance_columns(float* w, int64_t rows, int64_t cols, std::span<const double> s, StoreAs as) {
  MIXQ_ASSERT(int64_t(s.size()) == cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w + r * cols;
    for (int64_t c = 0; c < cols; ++c) row[c] = store_value(double(row[c]) * s[size_t(c)], as);
  }
}

void smooth_linear_rows(Matrix& w, std::span<const double> s, StoreAs as) {
  smooth_linear_rows(w.data.data(), w.rows, w.cols, s, as);
}

void scale_balance_columns(Matrix& w, std::span<const double> s, StoreAs as) {
  scale_balance_columns(w.data.data(), w.rows, w.cols, s, as);
}

void smooth_linear_rows(Bf16Matrix& w, std::span<const double> s) {
  const int64_t n = int64_t(s.size());
  MIXQ_ASSERT(n <= w.rows);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t* row = w.row(w.rows - n + i);
    for (int64_t c = 0; c < w.cols; ++c)
      row[c] = f32_to_bf16(store_value(double(bf16_to_f32(row[c])) / s[size_t(i)], StoreAs::BF16));
  }
}

void scale_balance_columns(Bf16Matrix& w, std::span<const double> s) {
  MIXQ_ASSERT(int64_t(s.size()) == w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    uint16_t* row = w.row(r);
    for (int64_t c = 0; c < w.cols; ++c)
      row[c] = f32_to_bf16(store_value(double(bf16_to_f32(row[c])) * s[size_t(c)], StoreAs::BF16));
  }
}

}  // namespace mixq::calib
