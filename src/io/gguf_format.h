// GGUF v3 (ggml's single-file model format), the parts mixq writes and reads. Little-endian:
//
//   "GGUF"  u32 version (3)  i64 n_tensors  i64 n_kv
//   n_kv x  { string key, i32 value_type, value }
//             string = u64 length + bytes (no NUL); array = i32 element type, u64 count, elements
//   n_tensors x { string name, u32 n_dims (1..4), i64 ne[n_dims], i32 ggml_type, u64 offset }
//   padding to `general.alignment` (u32, power of 2, default 32)
//   data: tensor i at data_start + offset_i; offset_i = sum of the earlier tensors' sizes, each padded
//         to the alignment, in info order (ggml/src/gguf.cpp rejects anything else).
// ne0 is the contiguous dimension: a safetensors [out, in] matrix is ne = [in, out]; a stacked expert
// tensor [E, out, in] is ne = [in, out, E]. Block types need ne0 % block == 0; a row of ne0 elements
// is ne0 / block blocks of block_bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mixq::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kVersion = 3;
inline constexpr uint32_t kDefaultAlignment = 32;

enum class ValueType : int32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  U64 = 10, I64 = 11, F64 = 12
};
// Size of a fixed-size scalar value type; 0 for STRING / ARRAY / unknown.
size_t value_type_size(ValueType t);
std::string_view value_type_name(ValueType t);

// ggml tensor types mixq uses (ggml.h): the numbering is ggml's, not ours.
enum class TensorType : int32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30 };

struct TypeTraits {
  std::string_view name;
  int64_t block;        // elements per block (1 for plain floats)
  size_t block_bytes;   // bytes per block
};
// nullopt for a ggml type mixq does not know (the reader reports it by number).
std::optional<TypeTraits> type_traits(int32_t ggml_type);

// Bytes of a tensor with `numel` elements whose ne0 is `ne0` (ne0 % block == 0 is the caller's check).
inline uint64_t tensor_bytes(const TypeTraits& t, uint64_t numel) { return numel / uint64_t(t.block) * t.block_bytes; }
inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Q4_0 block (ggml-common.h block_q4_0): fp16 d, then 16 bytes; element j (0..15) is the low nibble
// of qs[j], element j+16 the high nibble; value = (nibble - 8) * d.
inline constexpr size_t kQ4_0Bytes = 18;
// Q8_0 block (block_q8_0): fp16 d, then 32 int8; value = q * d.
inline constexpr size_t kQ8_0Bytes = 34;

// llama.h's llama_ftype values written as general.file_type.
inline constexpr uint32_t kFileTypeAllF32 = 0, kFileTypeMostlyQ4_0 = 2, kFileTypeMostlyQ8_0 = 7, kFileTypeMostlyBF16 = 32;

}  // namespace mixq::gguf
