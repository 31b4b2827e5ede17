#include "io/tensor_view.h"

#include <fmt/format.h>

#include <cstring>

namespace mixq {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

float TensorView::get_f32(int64_t i) const {
  const uint8_t* p = data + size_t(i) * dtype_size(dtype);
  auto rd = [p](auto v) { std::memcpy(&v, p, sizeof(v)); return v; };
  switch (dtype) {
    case DType::BF16: return bf16_to_f32(rd(uint16_t{}));
    case DType::F16: return f16_to_f32(rd(uint16_t{}));
    case DType::F32: return rd(float{});
    case DType::F64: return float(rd(double{}));
    case DType::F8_E4M3: return fp8e4m3_to_f32(*p);
    case DType::F8_E5M2: return fp8e5m2_to_f32(*p);
    case DType::I8: return float(int8_t(*p));
    case DType::U8: return float(*p);
    case DType::BOOL: return *p ? 1.f : 0.f;
    case DType::I16: return float(rd(int16_t{}));
    case DType::I32: return float(rd(int32_t{}));
    case DType::I64: return float(rd(int64_t{}));
  }
  return 0.f;
}

std::vector<float> TensorView::to_f32() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) out[size_t(i)] = get_f32(i);
  return out;
}

}  // namespace mixq
