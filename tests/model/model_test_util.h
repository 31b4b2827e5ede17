// Helpers for model tests: build a checkpoint directory from named tensors.
#pragma once
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "util/dtype.h"

namespace mixq::testing {

struct RawTensor {
  TensorSpec spec;
  std::string bytes;
};

inline std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("mixq_model_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

template <typename T>
RawTensor raw(const std::string& name, DType t, Shape shape, const std::vector<T>& v) {
  return {{name, t, std::move(shape)}, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T))};
}

inline RawTensor bf16(const std::string& name, Shape shape, const std::vector<float>& v) {
  std::vector<uint16_t> h;
  for (float f : v) h.push_back(f32_to_bf16(f));
  return raw(name, DType::BF16, std::move(shape), h);
}

inline void write_tensors(const std::string& dir, const std::vector<RawTensor>& ts) {
  std::vector<TensorSpec> specs;
  for (const auto& t : ts) specs.push_back(t.spec);
  SafetensorsWriter w(dir, specs);
  for (const auto& t : ts) w.write(t.spec.name, t.bytes.data(), t.bytes.size());
  w.finish();
}

// Every tensor of a checkpoint, in its shards' data order.
inline std::vector<RawTensor> read_tensors(const Checkpoint& ck) {
  std::vector<RawTensor> out;
  for (const auto& sh : ck.shards())
    for (const auto& t : sh->tensors()) {
      auto v = sh->view(t);
      out.push_back({{t.name, t.dtype, t.shape}, std::string(reinterpret_cast<const char*>(v.data), v.nbytes)});
    }
  return out;
}

}  // namespace mixq::testing
