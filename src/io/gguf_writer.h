// Streaming GGUF writer (io/gguf_format.h has the byte layout).
//
// The caller adds every metadata key and declares every tensor (name, type, ne) first; begin()
// then knows every offset and writes header, metadata and tensor infos. Tensor data follows in
// declaration order through write() calls of any size (a stacked expert tensor can arrive one
// expert at a time), so the writer holds no tensor data at all. Everything goes to a temporary
// name (util/file_util.h) that finish() fsyncs and renames; a writer destroyed unfinished removes it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_value.h"

namespace mixq::gguf {

struct TensorDecl {
  std::string name;
  TensorType type;
  std::vector<int64_t> ne;  // ne0 first (contiguous)
  uint64_t nbytes = 0;      // filled by declare
  uint64_t offset = 0;      // filled by begin
};

class Writer {
 public:
  explicit Writer(uint32_t alignment = kDefaultAlignment) : alignment_(alignment) {}
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void set(const std::string& key, Value v);  // replaces an earlier value of the same key
  void declare(const std::string& name, TensorType type, std::vector<int64_t> ne);
  const std::vector<TensorDecl>& tensors() const { return tensors_; }
  uint64_t data_bytes() const;  // padded sum of the declared tensors

  void begin(const std::string& path);
  void write(const void* data, size_t n);  // the next bytes of the current tensor
  void finish();                            // every tensor complete -> fsync, rename to path

 private:
  void raw(const void* p, size_t n);
  void pad_to(uint64_t pos);
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<TensorDecl> tensors_;
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  std::vector<char> buf_;
  uint64_t pos_ = 0, data_start_ = 0;
  size_t cur_ = 0;          // tensor being written
  uint64_t cur_done_ = 0;   // its bytes so far
};

// Serialized header + metadata + tensor infos (no padding, no data) — also used by tests.
std::string serialize_header(const std::vector<std::pair<std::string, Value>>& kv, const std::vector<TensorDecl>& tensors);

}  // namespace mixq::gguf
