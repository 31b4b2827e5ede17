// A dense row-major fp32 matrix: the working form of one Linear weight ([out, in]) or one batch of
// activations ([tokens, channels]) inside calibration. Values read from BF16/FP8 checkpoints are held
// exactly in fp32; bf16 rounding points of the algorithms are explicit (round_bf16) in the code.
#pragma once
#include <cstdint>
#include <vector>

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

}  // namespace mixq::calib
