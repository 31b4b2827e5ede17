// Dense row-major matrices for calibration.
//   Matrix      fp32: one batch of activations ([tokens, channels]), the fp32 router gate, and the
//               working copy of ONE weight while it is used (a trial matrix, a decoded expert).
//   Bf16Matrix  bf16 storage of a bf16-valued weight ([out, in]): what AWQ works on (BF16 source as
//               stored, FP8 as bf16(fp8 * scale_inv)). Half the bytes of Matrix; decode() gives the
//               exact fp32 values, so holding a layer's experts this way changes no result.
// bf16 rounding points of the algorithms are explicit (round_bf16) in the code.
#pragma once
#include <cstdint>
#include <vector>

#include "util/dtype.h"
#include "util/error.h"

namespace mixq::calib {

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;

  Matrix() = default;
  Matrix(int64_t r, int64_t c, float fill = 0.0f) : rows(r), cols(c), data(size_t(r * c), fill) {}
  float* row(int64_t r) { return data.data() + r * cols; }
  const float* row(int64_t r) const { return data.data() + r * cols; }
  float& at(int64_t r, int64_t c) { return data[size_t(r * cols + c)]; }
  float at(int64_t r, int64_t c) const { return data[size_t(r * cols + c)]; }
  int64_t numel() const { return rows * cols; }
};

struct Bf16Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<uint16_t> data;

  Bf16Matrix() = default;
  Bf16Matrix(int64_t r, int64_t c) : rows(r), cols(c), data(size_t(r * c), 0) {}
  // Rounds each value to bf16 (exact for bf16-valued input).
  static Bf16Matrix from(const float* v, int64_t r, int64_t c) {
    Bf16Matrix m(r, c);
    for (size_t i = 0; i < m.data.size(); ++i) m.data[i] = f32_to_bf16(v[i]);
    return m;
  }
  static Bf16Matrix from(const Matrix& m) { return from(m.data.data(), m.rows, m.cols); }
  int64_t numel() const { return rows * cols; }
  uint16_t* row(int64_t r) { return data.data() + r * cols; }
  const uint16_t* row(int64_t r) const { return data.data() + r * cols; }
  float at(int64_t r, int64_t c) const { return bf16_to_f32(data[size_t(r * cols + c)]); }
  // The fp32 values into out[numel()]; decode(scratch) resizes scratch and returns its data.
  void decode(float* out) const {
    for (size_t i = 0; i < data.size(); ++i) out[i] = bf16_to_f32(data[i]);
  }
  const float* decode(std::vector<float>& scratch) const {
    scratch.resize(data.size());
    decode(scratch.data());
    return scratch.data();
  }
  Matrix to_matrix() const {
    Matrix m(rows, cols);
    decode(m.data.data());
    return m;
  }
};

}  // namespace mixq::calib
