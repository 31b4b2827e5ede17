#include "quant/gguf_convert.h"

#include <cmath>
#include <cstring>

#include "util/dtype.h"
#include "util/error.h"

namespace mixq::gguf {

namespace {

template <typename T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}

void note_change(ConvertStats& st, double oldv, double newv) {
  ++st.changed;
  double rel = oldv != 0 ? std::fabs(newv - oldv) / std::fabs(oldv) : std::fabs(newv);
  if (rel > st.max_rel_change) st.max_rel_change = rel;
}

// One row of a PackedInt4 weight as Q4_0 blocks.
void int4_row_q4_0(const LinearWeight& w, int64_t r, ScalePolicy policy, std::vector<uint8_t>& out, ConvertStats& st,
                   uint64_t& refused, float& refused_example) {
  const int64_t words = w.packed.shape[1], groups = w.scale.shape[1], G = w.group_size;
  const uint8_t* prow = w.packed.data + size_t(r * words) * 4;
  size_t at = out.size();
  out.resize(at + size_t(w.in / 32) * kQ4_0Bytes);
  uint8_t* dst = out.data() + at;
  for (int64_t g = 0; g < groups; ++g) {
    const float s = w.scale.get_f32(r * groups + g);
    uint16_t h = f32_to_f16(s);
    if (!scale_exact_in_f16(s)) {
      if (policy == ScalePolicy::Refuse) {
        if (refused++ == 0) refused_example = s;
      } else {
        if (std::fabs(s) > 65504.0f || std::isinf(s)) h = std::signbit(s) ? 0xFBFF : 0x7BFF;  // +-65504: saturate
        else if (std::isnan(s)) h = 0;
        note_change(st, s, f16_to_f32(h));
      }
    }
    for (int64_t b = g * G / 32; b < (g + 1) * G / 32; ++b) {
      uint32_t W[4];
      std::memcpy(W, prow + size_t(b) * 16, 16);  // elements 32b .. 32b+31 = words 4b .. 4b+3
      uint8_t* blk = dst + size_t(b) * kQ4_0Bytes;
      std::memcpy(blk, &h, 2);
      for (int j = 0; j < 16; ++j) {
        uint32_t lo = (W[j / 8] >> (4 * (j % 8))) & 0xF, hi = (W[2 + j / 8] >> (4 * (j % 8))) & 0xF;
        blk[2 + j] = uint8_t(lo | (hi << 4));
      }
    }
  }
  st.values += uint64_t(w.in);
}

// ggml's quantize_row_q8_0_ref: d = amax / 127 (stored fp16), q = round(x / d).
void row_q8_0(const float* x, int64_t n, std::vector<uint8_t>& out) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + b * 32;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    append(out, f32_to_f16(d));
    for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(std::lround(v[j] * id))));
  }
}

}  // namespace

bool scale_exact_in_f16(float s) {
  if (std::isnan(s) || std::isinf(s)) return false;
  return f16_to_f32(f32_to_f16(s)) == s;
}

TensorType dense_type(DType t) {
  switch (t) {
    case DType::BF16: return TensorType::BF16;
    case DType::F16: return TensorType::F16;
    default: return TensorType::F32;
  }
}

std::string conversion_problem(const LinearWeight& w, TensorType type) {
  switch (w.format) {
    case WeightFormat::PackedInt4:
      if (w.group_size % 32 != 0)
        return fmt::format("INT4 group size {} is not a multiple of 32: no Q4_0 block (32 weights, one fp16 scale) holds it exactly", w.group_size);
      if (type != TensorType::Q4_0) return "an INT4 tensor only becomes Q4_0";
      return "";
    case WeightFormat::Dense:
      if (type != dense_type(w.weight.dtype) && type != TensorType::F32) return "a dense tensor stays in its own float type (or F32)";
      return "";
    case WeightFormat::Fp8Block:
      if (type == TensorType::Q8_0 && w.in % 32 != 0) return fmt::format("Q8_0 needs rows that are a multiple of 32, not {}", w.in);
      if (type != TensorType::BF16 && type != TensorType::F32 && type != TensorType::Q8_0) return "FP8-block becomes BF16, F32 or Q8_0";
      return "";
  }
  return "unknown format";
}

void convert_rows(const LinearWeight& w, int64_t r0, int64_t r1, TensorType type, ScalePolicy policy, std::vector<uint8_t>& out,
                  ConvertStats& st) {
  if (auto why = conversion_problem(w, type); !why.empty()) fail("{}: cannot export as {}: {}", w.module, type_traits(int32_t(type))->name, why);
  MIXQ_ASSERT(r0 >= 0 && r1 <= w.out && r0 <= r1);
  if (w.format == WeightFormat::PackedInt4) {
    uint64_t refused = 0;
    float example = 0;
    for (int64_t r = r0; r < r1; ++r) int4_row_q4_0(w, r, policy, out, st, refused, example);
    if (refused)
      fail("{}: {} group scale(s) are not exact in fp16 (e.g. {:g}; fp16 holds multiples of 2^-24 up to 65504): "
           "rerun with --scales clamp to round them (the changed groups are counted)",
           w.module, refused, example);
    return;
  }
  if (w.format == WeightFormat::Dense && type == dense_type(w.weight.dtype)) {
    const size_t rb = size_t(w.in) * dtype_size(w.weight.dtype);
    out.insert(out.end(), w.weight.data + size_t(r0) * rb, w.weight.data + size_t(r1) * rb);
    st.values += uint64_t((r1 - r0) * w.in);
    return;
  }
  // Dense -> F32 and FP8-block -> BF16/F32/Q8_0 go through the reference fp32 dequantization
  // (the engine's own values: fp8 * block scale in fp32).
  std::vector<float> row(size_t(w.in));
  for (int64_t r = r0; r < r1; ++r) {
    w.dequantize_rows(r, r + 1, row.data());
    st.values += uint64_t(w.in);
    switch (type) {
      case TensorType::F32:
        for (float x : row) append(out, x);
        break;
      case TensorType::BF16:
        for (float x : row) {
          uint16_t b = f32_to_bf16(x);
          if (bf16_to_f32(b) != x && !std::isnan(x)) note_change(st, x, bf16_to_f32(b));
          append(out, b);
        }
        break;
      case TensorType::Q8_0: row_q8_0(row.data(), w.in, out); break;
      default: MIXQ_ASSERT(!"unreachable conversion");
    }
  }
}

void convert_vector_f32(const TensorView& v, std::vector<uint8_t>& out) {
  if (!dtype_is_float(v.dtype)) fail("{}: expected a float tensor, got {}", v.name, dtype_name(v.dtype));
  for (int64_t i = 0; i < v.numel(); ++i) append(out, v.get_f32(i));
}

}  // namespace mixq::gguf
