// Test fixtures: an FP8-block release made from the bundled tiny BF16 model (the layout of the
// official MiniMax-M2 FP8 release: F8_E4M3 q/k/v/o and expert weights + F32 weight_scale_inv
// 128x128 multipliers; router gate, norms, embeddings, lm_head high precision), and helpers.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "model/tensor_table.h"
#include "util/dtype.h"
#include "util/file_util.h"

namespace mixq::testing {

inline const std::string kTinyDir = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";
inline const std::string kRecipes = std::string(MIXQ_SHARED_DIR) + "/recipes";

inline std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("mixq_quant_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

inline bool fp8_converted(const std::string& tensor) {
  return (tensor.find(".self_attn.") != std::string::npos && tensor.find("_proj.weight") != std::string::npos) ||
         tensor.find(".experts.") != std::string::npos;
}

inline void make_fp8_release(const std::string& src, const std::string& dst) {
  Checkpoint ck(src);
  std::filesystem::create_directories(dst);
  std::vector<TensorSpec> specs;
  for (const auto& n : ck.names()) {
    const auto& i = ck.info(n);
    if (fp8_converted(n)) {
      specs.push_back({n, DType::F8_E4M3, i.shape});
      specs.push_back({n.substr(0, n.size() - 7) + ".weight_scale_inv", DType::F32, {(i.shape[0] + 127) / 128, (i.shape[1] + 127) / 128}});
    } else {
      specs.push_back({n, i.dtype, i.shape});
    }
  }
  SafetensorsWriter w(dst, specs);
  for (const auto& n : ck.names()) {
    TensorView v = ck.view(n);
    if (!fp8_converted(n)) { w.write(n, v.data, v.nbytes); continue; }
    const int64_t out = v.shape[0], in = v.shape[1], sr = (out + 127) / 128, sc = (in + 127) / 128;
    std::vector<float> f = v.to_f32(), scale(size_t(sr * sc));
    std::vector<uint8_t> q(f.size());
    for (int64_t br = 0; br < sr; ++br)
      for (int64_t bc = 0; bc < sc; ++bc) {
        float amax = 0;
        for (int64_t r = br * 128; r < std::min(out, br * 128 + 128); ++r)
          for (int64_t c = bc * 128; c < std::min(in, bc * 128 + 128); ++c) amax = std::max(amax, std::fabs(f[size_t(r * in + c)]));
        float s = amax > 0 ? amax / 448.0f : 1.0f;
        scale[size_t(br * sc + bc)] = s;
        for (int64_t r = br * 128; r < std::min(out, br * 128 + 128); ++r)
          for (int64_t c = bc * 128; c < std::min(in, bc * 128 + 128); ++c) q[size_t(r * in + c)] = f32_to_fp8e4m3(f[size_t(r * in + c)] / s);
      }
    w.write(n, q.data(), q.size());
    w.write(n.substr(0, n.size() - 7) + ".weight_scale_inv", scale.data(), scale.size() * 4);
  }
  w.finish();
  nlohmann::json cfg = ck.config();
  cfg["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "float8_e4m3fn"}, {"quant_method", "fp8"},
                                {"modules_to_not_convert", {"gate", "e_score_correction_bias", "lm_head"}}, {"weight_block_size", {128, 128}}};
  write_file_atomic(dst + "/config.json", cfg.dump(2));
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"})
    std::filesystem::copy_file(src + "/" + f, dst + "/" + f, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace mixq::testing
