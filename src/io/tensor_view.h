// A typed, non-owning view of one tensor's bytes (usually inside an mmap'd safetensors file).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/dtype.h"
#include "util/error.h"

namespace mixq {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[6144, 3072]"

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const { return shape_numel(shape); }
  int64_t dim(size_t i) const { return shape.at(i); }

  // Typed access; the dtype must have T's size and the pointer T's alignment (bugs otherwise).
  template <typename T>
  std::span<const T> as() const {
    MIXQ_ASSERT(sizeof(T) == dtype_size(dtype));
    MIXQ_ASSERT(reinterpret_cast<uintptr_t>(data) % alignof(T) == 0);
    return {reinterpret_cast<const T*>(data), nbytes / sizeof(T)};
  }
  // Element i converted to fp32 (any float or integer dtype); for tests and cold paths.
  float get_f32(int64_t i) const;
  // The whole tensor converted to fp32 (float dtypes) — cold paths and tests only.
  std::vector<float> to_f32() const;
};

}  // namespace mixq
