#include "model/linear_weight.h"

#include <fmt/format.h>

#include <cstring>

#include "util/error.h"

namespace mixq {

const char* format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::Dense: return "dense";
    case WeightFormat::Fp8Block: return "fp8-block";
    case WeightFormat::PackedInt4: return "w4a16";
  }
  return "?";
}

std::string LinearWeight::storage_label() const {
  switch (format) {
    case WeightFormat::Dense: return std::string(dtype_name(weight.dtype));
    case WeightFormat::Fp8Block: return "FP8-block";
    case WeightFormat::PackedInt4: return fmt::format("W4A16-g{}", group_size);
  }
  return "?";
}

uint64_t LinearWeight::bytes() const {
  switch (format) {
    case WeightFormat::Dense: return weight.nbytes;
    case WeightFormat::Fp8Block: return weight.nbytes + scale.nbytes;
    case WeightFormat::PackedInt4: return packed.nbytes + scale.nbytes + shape_tensor.nbytes;
  }
  return 0;
}

std::vector<std::string> LinearWeight::tensor_names() const {
  switch (format) {
    case WeightFormat::Dense: return {weight.name};
    case WeightFormat::Fp8Block: return {weight.name, scale.name};
    case WeightFormat::PackedInt4: return {packed.name, scale.name, shape_tensor.name};
  }
  return {};
}

void LinearWeight::dequantize_rows(int64_t r0, int64_t r1, float* dst) const {
  MIXQ_ASSERT(r0 >= 0 && r1 <= out && r0 <= r1);
  for (int64_t r = r0; r < r1; ++r) {
    float* d = dst + (r - r0) * in;
    switch (format) {
      case WeightFormat::Dense:
        for (int64_t c = 0; c < in; ++c) d[c] = weight.get_f32(r * in + c);
        break;
      case WeightFormat::Fp8Block: {
        const int64_t sc = scale.shape[1];
        for (int64_t c = 0; c < in; ++c)
          d[c] = kFp8E4M3ToF32[weight.data[r * in + c]] * scale.get_f32((r / block_n) * sc + c / block_k);
        break;
      }
      case WeightFormat::PackedInt4: {
        const int64_t words = packed.shape[1], groups = scale.shape[1];
        for (int64_t c = 0; c < in; ++c) {
          uint32_t w;
          std::memcpy(&w, packed.data + size_t(r * words + c / 8) * 4, 4);
          int q = int((w >> (4 * (c % 8))) & 0xF) - 8;
          d[c] = float(q) * scale.get_f32(r * groups + c / group_size);
        }
        break;
      }
    }
  }
}

LinearWeight load_linear(const Checkpoint& ck, const std::string& m, const Shape* expect, int64_t bn, int64_t bk) {
  LinearWeight w;
  w.module = m;
  auto need = [&](const std::string& suffix) {
    std::string n = m + suffix;
    if (!ck.has(n)) fail("{}: tensor '{}' is missing", ck.dir(), n);
    return ck.view(n);
  };
  if (ck.has(m + ".weight_packed")) {
    w.format = WeightFormat::PackedInt4;
    w.packed = need(".weight_packed");
    w.scale = need(".weight_scale");
    w.shape_tensor = need(".weight_shape");
    if (w.packed.dtype != DType::I32 || w.packed.shape.size() != 2)
      fail("{}: '{}' must be I32 [out, in/8], is {} {}", ck.dir(), w.packed.name, dtype_name(w.packed.dtype), shape_str(w.packed.shape));
    if (w.shape_tensor.dtype != DType::I64 || w.shape_tensor.shape != Shape{2})
      fail("{}: '{}' must be I64 [2], is {} {}", ck.dir(), w.shape_tensor.name, dtype_name(w.shape_tensor.dtype), shape_str(w.shape_tensor.shape));
    int64_t dims[2];
    std::memcpy(dims, w.shape_tensor.data, 16);
    w.out = dims[0];
    w.in = dims[1];
    if (w.out <= 0 || w.in <= 0) fail("{}: '{}' holds an invalid shape [{}, {}]", ck.dir(), w.shape_tensor.name, dims[0], dims[1]);
    if (w.packed.shape[0] != w.out || w.packed.shape[1] != (w.in * 4 + 31) / 32)
      fail("{}: '{}' is {} but weight_shape [{}, {}] needs [{}, {}]", ck.dir(), w.packed.name, shape_str(w.packed.shape), w.out, w.in,
           w.out, (w.in * 4 + 31) / 32);
    if (!dtype_is_float(w.scale.dtype) || w.scale.shape.size() != 2 || w.scale.shape[0] != w.out || w.scale.shape[1] <= 0 ||
        w.in % w.scale.shape[1] != 0)
      fail("{}: '{}' must be a float [out, in/group] scale, is {} {}", ck.dir(), w.scale.name, dtype_name(w.scale.dtype), shape_str(w.scale.shape));
    w.group_size = w.in / w.scale.shape[1];
    if (ck.has(m + ".weight_zero_point"))
      fail("{}: '{}.weight_zero_point' present: asymmetric W4A16 is not supported", ck.dir(), m);
  } else {
    w.weight = need(".weight");
    if (w.weight.shape.size() != 2) fail("{}: '{}' must be 2-D, is {}", ck.dir(), w.weight.name, shape_str(w.weight.shape));
    w.out = w.weight.shape[0];
    w.in = w.weight.shape[1];
    if (w.weight.dtype == DType::F8_E4M3) {
      w.format = WeightFormat::Fp8Block;
      if (ck.has(m + ".weight_scale_inv")) {
        w.scale = ck.view(m + ".weight_scale_inv");
        w.scale_named_inv = true;
      } else if (ck.has(m + ".weight_scale")) {
        w.scale = ck.view(m + ".weight_scale");
      } else {
        fail("{}: FP8 weight '{}' has no weight_scale_inv / weight_scale", ck.dir(), w.weight.name);
      }
      w.block_n = bn;
      w.block_k = bk;
      Shape want{(w.out + bn - 1) / bn, (w.in + bk - 1) / bk};
      if (!dtype_is_float(w.scale.dtype) || w.scale.shape != want)
        fail("{}: '{}' is {} {}, expected a float {} for {}x{} blocks", ck.dir(), w.scale.name, dtype_name(w.scale.dtype),
             shape_str(w.scale.shape), shape_str(want), bn, bk);
    } else if (w.weight.dtype == DType::BF16 || w.weight.dtype == DType::F16 || w.weight.dtype == DType::F32) {
      w.format = WeightFormat::Dense;
    } else {
      fail("{}: '{}' has dtype {}, expected BF16/F16/F32 or F8_E4M3", ck.dir(), w.weight.name, dtype_name(w.weight.dtype));
    }
  }
  if (expect && (w.out != (*expect)[0] || w.in != (*expect)[1]))
    fail("{}: '{}' is [{}, {}], the config implies {}", ck.dir(), m, w.out, w.in, shape_str(*expect));
  return w;
}

}  // namespace mixq
