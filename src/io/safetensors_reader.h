// safetensors reader.
//
// Byte layout of a .safetensors file:
//   [0, 8)        u64 little-endian N = header length
//   [8, 8+N)      UTF-8 JSON object: {"__metadata__": {str: str}?, "<name>": {"dtype": "BF16",
//                 "shape": [d0, ...], "data_offsets": [begin, end]}, ...}; may be padded with spaces
//   [8+N, EOF)    the data section; offsets are relative to its start, tensors are contiguous,
//                 non-overlapping and together cover the whole section (as the reference library
//                 requires), each holding numel * dtype_size bytes, row-major, little-endian.
// The header is validated completely before any tensor is touched.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"
#include "io/tensor_view.h"

namespace mixq {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the data section
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // in data order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + N
};

// Validates a complete file image (also the libFuzzer entry point). `what` names the file in errors.
SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& what);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path, Residency residency = Residency::Mapped);

  const std::string& path() const { return file_->path(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorInfo* find(const std::string& name) const;
  TensorView view(const std::string& name) const;  // InputError if absent
  TensorView view(const TensorInfo& info) const;
  // Copies bytes [offset, offset + n) of a tensor into dst (pread; no page mapping). For one-pass
  // streaming into a reused buffer; view() is the zero-copy path for repeated access.
  void read(const TensorInfo& info, void* dst, uint64_t offset = 0, uint64_t n = ~0ull) const;
  const MappedFile& mapped() const { return *file_; }
  MappedFile& mapped() { return *file_; }
  uint64_t data_start() const { return header_.data_start; }

 private:
  std::unique_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace mixq
