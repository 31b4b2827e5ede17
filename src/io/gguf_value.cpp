#include "io/gguf_value.h"

#include <fmt/format.h>

namespace mixq::gguf {

namespace {

std::string scalar_at(const Value& v, uint64_t k) {
  switch (v.elem) {
    case ValueType::U8: return fmt::format("{}", v.at<uint8_t>(k));
    case ValueType::I8: return fmt::format("{}", v.at<int8_t>(k));
    case ValueType::U16: return fmt::format("{}", v.at<uint16_t>(k));
    case ValueType::I16: return fmt::format("{}", v.at<int16_t>(k));
    case ValueType::U32: return fmt::format("{}", v.at<uint32_t>(k));
    case ValueType::I32: return fmt::format("{}", v.at<int32_t>(k));
    case ValueType::F32: return fmt::format("{}", v.at<float>(k));
    case ValueType::BOOL: return v.at<uint8_t>(k) ? "true" : "false";
    case ValueType::U64: return fmt::format("{}", v.at<uint64_t>(k));
    case ValueType::I64: return fmt::format("{}", v.at<int64_t>(k));
    case ValueType::F64: return fmt::format("{}", v.at<double>(k));
    default: return "?";
  }
}

std::string clip(std::string s, size_t n) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > n) s = s.substr(0, n) + "...";
  return s;
}

}  // namespace

std::string Value::summary(size_t max_chars) const {
  switch (type) {
    case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64: return fmt::format("{}", u);
    case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64: return fmt::format("{}", i);
    case ValueType::F32: return fmt::format("{}", float(f));
    case ValueType::F64: return fmt::format("{}", f);
    case ValueType::BOOL: return u ? "true" : "false";
    case ValueType::STRING: return clip(fmt::format("\"{}\" ({} bytes)", str, str.size()), max_chars);
    case ValueType::ARRAY: {
      std::string s = fmt::format("[{} x {}]", value_type_name(elem), count());
      for (uint64_t k = 0; k < count() && s.size() < max_chars; ++k)
        s += (k ? ", " : " ") + (elem == ValueType::STRING ? "\"" + strs[k] + "\"" : scalar_at(*this, k));
      return clip(s, max_chars);
    }
  }
  return "?";
}

}  // namespace mixq::gguf
