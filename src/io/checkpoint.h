// A Hugging Face model directory (or a single .safetensors file): config.json, one or more
// safetensors shards, optionally model.safetensors.index.json mapping every tensor to its shard.
// Index format: {"metadata": {"total_size": <sum of tensor bytes>}, "weight_map": {name: shard}}.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors_reader.h"

namespace mixq {

class Checkpoint {
 public:
  // `path` is a directory or one .safetensors file. Every shard header is validated on open.
  // Residency::Ram reads every shard into huge-page RAM instead of mapping it (io/mapped_file.h).
  explicit Checkpoint(const std::string& path, Residency residency = Residency::Mapped);

  const std::string& dir() const { return dir_; }
  bool has_config() const;
  nlohmann::json config() const;  // parsed config.json (InputError if absent/invalid)
  std::string config_path() const { return dir_ + "/config.json"; }

  std::vector<std::string> names() const;  // sorted
  bool has(const std::string& name) const { return where_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;
  TensorView view(const std::string& name) const;
  const SafetensorsFile& shard_of(const std::string& name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }
  size_t tensor_count() const { return where_.size(); }
  uint64_t tensor_bytes() const;  // sum of all tensors' bytes
  uint64_t huge_page_bytes() const;  // shard bytes held in huge pages (Residency::Ram), else 0
  // Residency::Ram until seal(): tensor bytes [p, p + n) of a shard as writable memory, or nullptr
  // (mapped, sealed, or not inside one shard). See MappedFile::writable.
  uint8_t* writable(const void* p, size_t n);
  void seal();  // every shard read-only from now on

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, size_t> where_;  // name -> shard index
};

std::string path_join(const std::string& a, const std::string& b);

}  // namespace mixq
