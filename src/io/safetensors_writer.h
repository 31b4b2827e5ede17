// Streaming, sharded safetensors writer.
//
// The caller declares every tensor (name, dtype, shape) up front, in write order. Shard boundaries
// are then fixed (greedy, at most `max_shard_bytes` of tensor data per shard, HF's rule), so each
// shard's header is known before its first byte of data: data streams straight to disk and the
// whole model is never in memory. Each shard is written to "<name>.tmp" and renamed when complete;
// an existing final shard whose header and size match the plan is treated as done (resume after a
// kill) and its tensors are skipped. With more than one shard, model.safetensors.index.json
// ({"metadata": {"total_size"}, "weight_map"}) is written last, atomically.
#pragma once
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "io/tensor_view.h"

namespace mixq {

struct TensorSpec {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t nbytes() const { return uint64_t(shape_numel(shape)) * dtype_size(dtype); }
};

struct WriterOptions {
  uint64_t max_shard_bytes = 5'000'000'000ull;  // transformers' default "5GB"
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
  std::string prefix = "model";
};

class SafetensorsWriter {
 public:
  SafetensorsWriter(std::string dir, std::vector<TensorSpec> specs, WriterOptions opt = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  size_t num_shards() const { return shard_first_.size(); }
  std::string shard_file_name(size_t shard) const;
  size_t shard_of(size_t tensor_index) const;
  bool shard_done(size_t shard) const { return done_[shard]; }
  // False when the tensor's shard is already complete on disk: the caller may skip computing it.
  bool needed(const std::string& name) const;
  const std::vector<TensorSpec>& specs() const { return specs_; }

  // Tensors must arrive in declared order: either whole, or as begin/append.../end.
  void write(const std::string& name, const void* data, size_t nbytes);
  void begin_tensor(const std::string& name);
  void append(const void* data, size_t nbytes);
  void end_tensor();
  // Passes over a tensor whose shard is already complete on disk (needed(name) is false).
  void skip_tensor(const std::string& name);
  // Closes the last shard, writes the index; returns the shard file names.
  std::vector<std::string> finish();

  static std::string header_bytes(const std::vector<TensorSpec>& specs, size_t first, size_t last,
                                  const std::map<std::string, std::string>& metadata);

 private:
  void open_shard(size_t shard);
  void close_shard();
  std::string dir_;
  std::vector<TensorSpec> specs_;
  WriterOptions opt_;
  std::vector<size_t> shard_first_;  // first tensor index per shard
  std::vector<bool> done_;
  std::map<std::string, size_t> index_of_;
  size_t next_ = 0;          // next tensor index expected
  int64_t cur_shard_ = -1;
  FILE* out_ = nullptr;      // null while skipping a completed shard
  uint64_t tensor_left_ = 0;
  bool in_tensor_ = false, finished_ = false;
  std::string tmp_path_;
};

}  // namespace mixq
