#include "io/gguf_format.h"

namespace mixq::gguf {

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
  }
}

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "?";
}

std::optional<TypeTraits> type_traits(int32_t t) {
  switch (t) {
    case int32_t(TensorType::F32): return TypeTraits{"F32", 1, 4};
    case int32_t(TensorType::F16): return TypeTraits{"F16", 1, 2};
    case int32_t(TensorType::Q4_0): return TypeTraits{"Q4_0", 32, kQ4_0Bytes};
    case int32_t(TensorType::Q8_0): return TypeTraits{"Q8_0", 32, kQ8_0Bytes};
    case int32_t(TensorType::BF16): return TypeTraits{"BF16", 1, 2};
    default: return std::nullopt;
  }
}

}  // namespace mixq::gguf
