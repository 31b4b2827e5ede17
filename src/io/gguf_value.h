// One GGUF metadata value (io/gguf_format.h has the byte layout), as the writer takes it and the
// reader returns it. Arrays hold either strings or fixed-size scalars kept as their little-endian
// bytes (a 200k-entry token-type array stays one vector, not 200k objects).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io/gguf_format.h"

namespace mixq::gguf {

struct Value {
  ValueType type = ValueType::U32;
  uint64_t u = 0;  // U8/U16/U32/U64/BOOL
  int64_t i = 0;   // I8/I16/I32/I64
  double f = 0;    // F32/F64
  std::string str;  // STRING
  ValueType elem = ValueType::U8;  // ARRAY: element type (never ARRAY)
  std::vector<std::string> strs;   // ARRAY of STRING
  std::vector<uint8_t> raw;        // ARRAY of scalars: count * value_type_size(elem) bytes

  uint64_t count() const { return elem == ValueType::STRING ? strs.size() : raw.size() / std::max<size_t>(1, value_type_size(elem)); }
  template <typename T>
  T at(uint64_t k) const { T v; std::memcpy(&v, raw.data() + k * sizeof(T), sizeof(T)); return v; }

  static Value u32(uint32_t v) { Value x; x.type = ValueType::U32; x.u = v; return x; }
  static Value u16(uint16_t v) { Value x; x.type = ValueType::U16; x.u = v; return x; }
  static Value i32(int32_t v) { Value x; x.type = ValueType::I32; x.i = v; return x; }
  static Value f32(float v) { Value x; x.type = ValueType::F32; x.f = v; return x; }
  static Value boolean(bool v) { Value x; x.type = ValueType::BOOL; x.u = v; return x; }
  static Value string(std::string v) { Value x; x.type = ValueType::STRING; x.str = std::move(v); return x; }
  static Value string_array(std::vector<std::string> v) {
    Value x; x.type = ValueType::ARRAY; x.elem = ValueType::STRING; x.strs = std::move(v); return x;
  }
  template <typename T>
  static Value array(ValueType elem, const std::vector<T>& v) {
    Value x; x.type = ValueType::ARRAY; x.elem = elem;
    x.raw.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(x.raw.data(), v.data(), x.raw.size());
    return x;
  }

  // A short human rendering for `mixq inspect` (arrays: type, count and the first few entries).
  std::string summary(size_t max_chars = 80) const;
};

}  // namespace mixq::gguf
