// GGUF reader (io/gguf_format.h has the byte layout). The file is mapped; every count, length,
// dimension and offset is checked against the bytes that remain before anything is allocated, so a
// truncated or hostile file is an InputError naming the file and the field, never a crash or a
// huge allocation. Offsets must follow ggml's rule (running padded sum in info order).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_value.h"
#include "io/mapped_file.h"

namespace mixq::gguf {

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;
  int32_t type = 0;
  std::string type_name;
  uint64_t offset = 0;  // from the data section start
  uint64_t nbytes = 0;
  uint64_t numel() const { uint64_t n = 1; for (auto x : ne) n *= uint64_t(x); return n; }
};

class File {
 public:
  explicit File(const std::string& path);
  // The same parse over bytes already in memory (`size` bytes at `data`, which must outlive the
  // File); `name` stands for the path in error messages. For fuzzing and tests.
  File(const uint8_t* data, size_t size, const std::string& name);
  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_start() const { return data_start_; }
  uint64_t file_bytes() const { return size_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(const std::string& key) const;
  // Typed getters: InputError naming the key when absent or of another type.
  const Value& get(const std::string& key, ValueType type) const;
  std::string get_string(const std::string& key) const { return get(key, ValueType::STRING).str; }
  uint64_t get_u32(const std::string& key) const { return get(key, ValueType::U32).u; }

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(const std::string& name) const;
  const uint8_t* data(const TensorInfo& t) const { return base_ + data_start_ + t.offset; }

 private:
  void parse();
  std::string path_;
  std::unique_ptr<MappedFile> map_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0, alignment_ = kDefaultAlignment;
  uint64_t data_start_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace mixq::gguf
