// The engine on quantized checkpoints equals "dequantize to fp32, then the reference path":
// the tiny model is re-written as (a) the official FP8-block release layout and (b) mixed
// compressed-tensors (FP8-block attention + W4A16 group-32 experts, one BF16 carve-out layer);
// each is run by the engine directly from its packed tensors, and compared with the engine on a
// dense F32 checkpoint holding LinearWeight::dequantize() of the same tensors (model/'s independent
// reference dequantizer). Both runs use identical fp32 weight values, so the only difference is
// fp32 summation order: tolerance 1e-4 absolute on logits of range ~20, identical argmax.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "kernels/cpu/matmul_int4_rows16.h"
#include "model/linear_weight.h"
#include "runtime/model.h"
#include "util/dtype.h"
#include "util/file_util.h"

namespace mixq {
namespace {

namespace fs = std::filesystem;
const std::string kModel = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";

bool is_attn(const std::string& n) { return n.find("self_attn.") != std::string::npos && n.find("_proj.weight") != std::string::npos; }
bool is_expert(const std::string& n) { return n.find(".experts.") != std::string::npos; }

struct Out {
  std::vector<TensorSpec> specs;
  std::vector<std::vector<uint8_t>> data;
  void add(const std::string& name, DType t, Shape s, std::vector<uint8_t> bytes) {
    specs.push_back({name, t, std::move(s)});
    data.push_back(std::move(bytes));
  }
  void write(const std::string& dir, nlohmann::json config) {
    fs::create_directories(dir);
    SafetensorsWriter w(dir, specs);
    for (size_t i = 0; i < specs.size(); ++i) w.write(specs[i].name, data[i].data(), data[i].size());
    w.finish();
    write_file_atomic(dir + "/config.json", config.dump(2));
  }
};

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// FP8 block quantization (128x128, scale = amax / 448) of a dense [out, in] weight.
void add_fp8(Out& o, const std::string& module, const std::vector<float>& w, int64_t out, int64_t in, const char* scale_suffix) {
  const int64_t bo = (out + 127) / 128, bi = (in + 127) / 128;
  std::vector<float> scale(size_t(bo * bi));
  std::vector<uint8_t> q(size_t(out * in));
  for (int64_t a = 0; a < bo; ++a)
    for (int64_t b = 0; b < bi; ++b) {
      float amax = 0;
      for (int64_t r = a * 128; r < std::min(out, a * 128 + 128); ++r)
        for (int64_t c = b * 128; c < std::min(in, b * 128 + 128); ++c) amax = std::max(amax, std::fabs(w[size_t(r * in + c)]));
      const float s = amax > 0 ? amax / 448.f : 1.f;
      scale[size_t(a * bi + b)] = s;
      for (int64_t r = a * 128; r < std::min(out, a * 128 + 128); ++r)
        for (int64_t c = b * 128; c < std::min(in, b * 128 + 128); ++c)
          q[size_t(r * in + c)] = f32_to_fp8e4m3(std::clamp(w[size_t(r * in + c)] / s, -448.f, 448.f));
    }
  o.add(module + ".weight", DType::F8_E4M3, {out, in}, std::move(q));
  o.add(module + scale_suffix, DType::F32, {bo, bi}, bytes_of(scale));
}

// compressed-tensors pack-quantized symmetric INT4, group 32, bf16 scales (spec §2.2, §3.2-3.3).
void add_w4(Out& o, const std::string& module, const std::vector<float>& w, int64_t out, int64_t in) {
  const int64_t G = 32, groups = in / G;
  std::vector<uint16_t> scale(size_t(out * groups));
  std::vector<uint32_t> packed(size_t(out * (in / 8)), 0);
  for (int64_t r = 0; r < out; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      float amax = 0;
      for (int64_t c = g * G; c < (g + 1) * G; ++c) amax = std::max(amax, std::fabs(w[size_t(r * in + c)]));
      const uint16_t sb = f32_to_bf16(amax > 0 ? amax / 7.5f : 1e-8f);
      scale[size_t(r * groups + g)] = sb;
      const float s = bf16_to_f32(sb);
      for (int64_t c = g * G; c < (g + 1) * G; ++c) {
        const float t = std::clamp(round_bf16(w[size_t(r * in + c)] / s), -8.f, 7.f);
        const uint32_t u = uint32_t(int(std::nearbyint(t)) + 8);
        packed[size_t(r * (in / 8) + c / 8)] |= u << (4 * (c % 8));
      }
    }
  o.add(module + ".weight_packed", DType::I32, {out, in / 8}, bytes_of(packed));
  o.add(module + ".weight_scale", DType::BF16, {out, groups}, bytes_of(scale));
  o.add(module + ".weight_shape", DType::I64, {2}, bytes_of(std::vector<int64_t>{out, in}));
}

std::string module_of(const std::string& tensor) { return tensor.substr(0, tensor.size() - std::string(".weight").size()); }

// Writes the quantized checkpoint into qdir and its dequantized-F32 twin into ddir.
void make_pair(const std::string& qdir, const std::string& ddir, bool mixed_ct) {
  Checkpoint src(kModel);
  auto cfg = src.config();
  Out q;
  for (const auto& name : src.names()) {
    auto v = src.view(name);
    const bool carve_out = mixed_ct && name.rfind("model.layers.1.", 0) == 0;  // BF16 carve-out layer
    if (!carve_out && (is_attn(name) || is_expert(name))) {
      auto w = v.to_f32();
      if (mixed_ct && is_expert(name)) add_w4(q, module_of(name), w, v.shape[0], v.shape[1]);
      else add_fp8(q, module_of(name), w, v.shape[0], v.shape[1], mixed_ct ? ".weight_scale" : ".weight_scale_inv");
    } else {
      q.add(name, v.dtype, v.shape, std::vector<uint8_t>(v.data, v.data + v.nbytes));
    }
  }
  auto qcfg = cfg;
  if (mixed_ct) {
    qcfg["quantization_config"] = nlohmann::json::parse(R"({
      "config_groups": {
        "group_0": {"format": "float-quantized", "targets": ["re:.*self_attn\\.(q|k|v|o)_proj$"],
          "weights": {"block_structure": [128, 128], "dynamic": false, "num_bits": 8, "strategy": "block", "symmetric": true, "type": "float"},
          "input_activations": {"dynamic": true, "group_size": 128, "num_bits": 8, "strategy": "group", "symmetric": true, "type": "float"}},
        "group_1": {"format": "pack-quantized", "targets": ["re:.*block_sparse_moe\\.experts\\.\\d+\\.w[123]$"],
          "weights": {"dynamic": false, "group_size": 32, "num_bits": 4, "strategy": "group", "symmetric": true, "type": "int"}}},
      "format": "mixed-precision", "ignore": ["lm_head", "re:.*block_sparse_moe\\.gate$", "re:model\\.layers\\.1\\..*"],
      "quant_method": "compressed-tensors", "quantization_status": "compressed"})");
  } else {
    qcfg["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "float8_e4m3fn"}, {"activation_scheme", "dynamic"},
                                   {"weight_block_size", {128, 128}},
                                   {"modules_to_not_convert", {"gate", "e_score_correction_bias", "lm_head"}}};
  }
  q.write(qdir, qcfg);

  // The twin: every Linear dequantized by LinearWeight (the reference dequantizer) to dense F32.
  Checkpoint qc(qdir);
  Out d;
  for (const auto& name : src.names()) {
    if (is_attn(name) || is_expert(name)) {
      auto lw = load_linear(qc, module_of(name));
      d.add(name, DType::F32, {lw.out, lw.in}, bytes_of(lw.dequantize()));
    } else {
      auto v = src.view(name);
      d.add(name, v.dtype, v.shape, std::vector<uint8_t>(v.data, v.data + v.nbytes));
    }
  }
  d.write(ddir, cfg);
}

void expect_same_logits(const std::string& qdir, const std::string& ddir, WeightFormat attn, WeightFormat expert,
                        Residency res = Residency::Mapped) {
  Model qm(qdir, res), dm(ddir);
  if (res == Residency::Ram && expert == WeightFormat::PackedInt4 &&
      kernels::int4_rows16_ok({nullptr, nullptr, kernels::ScaleType::BF16, qm.config().intermediate_size,
                               qm.config().hidden_size, 32})) {
    // --no-mmap interleaves every INT4 expert (3 per expert in the INT4 layers) in place
    EXPECT_GT(qm.int4_rows16_matrices(), 0);
    EXPECT_TRUE(qm.layer(0).w1[0].int4_rows16());
    EXPECT_TRUE(qm.layer(0).w2[0].int4_rows16());
  } else {
    EXPECT_EQ(qm.int4_rows16_matrices(), 0);
  }
  EXPECT_EQ(qm.layer(0).q.format(), attn);
  EXPECT_EQ(qm.layer(0).w1[0].format(), expert);
  EXPECT_EQ(dm.layer(0).q.format(), WeightFormat::Dense);
  std::ifstream f(std::string(MIXQ_SHARED_DIR) + "/assets/tiny-minimax-m2/golden/inputs.json");
  auto inputs = nlohmann::json::parse(f);
  for (const char* in : {"input0", "input2"}) {
    auto ids = inputs[in]["ids"].get<std::vector<int32_t>>();
    const int64_t T = int64_t(ids.size()), V = qm.vocab();
    std::vector<float> a(size_t(T * V)), b(size_t(T * V));
    KvCache ca(qm.config(), T, kernels::KvType::F32), cb(dm.config(), T, kernels::KvType::F32);
    qm.forward(ids.data(), T, ca, a.data(), nullptr);
    dm.forward(ids.data(), T, cb, b.data(), nullptr);
    float mx = 0;
    int64_t mism = 0;
    for (int64_t t = 0; t < T; ++t) {
      int64_t ia = 0, ib = 0;
      for (int64_t i = 0; i < V; ++i) {
        mx = std::max(mx, std::fabs(a[size_t(t * V + i)] - b[size_t(t * V + i)]));
        if (a[size_t(t * V + i)] > a[size_t(t * V + ia)]) ia = i;
        if (b[size_t(t * V + i)] > b[size_t(t * V + ib)]) ib = i;
      }
      mism += ia != ib;
    }
    EXPECT_LT(mx, 1e-4f) << in;
    EXPECT_EQ(mism, 0) << in;
    std::printf("%s: %s vs dequantized fp32: max |logit diff| %.3g\n", qdir.c_str(), in, mx);
  }
}

class QuantizedFormats : public ::testing::Test {
 protected:
  std::string tmp = (fs::temp_directory_path() / ("mixq_qf_" + std::to_string(::getpid()))).string();
  void TearDown() override { fs::remove_all(tmp); }
};

TEST_F(QuantizedFormats, Fp8BlockReleaseEqualsDequantizedReference) {
  make_pair(tmp + "/fp8", tmp + "/fp8_deq", false);
  expect_same_logits(tmp + "/fp8", tmp + "/fp8_deq", WeightFormat::Fp8Block, WeightFormat::Fp8Block);
}

TEST_F(QuantizedFormats, MixedFp8AttentionW4A16ExpertsWithCarveOutEqualsDequantizedReference) {
  make_pair(tmp + "/ct", tmp + "/ct_deq", true);
  Model m(tmp + "/ct");
  EXPECT_EQ(m.layer(1).w1[0].format(), WeightFormat::Dense);  // the BF16 carve-out layer
  EXPECT_EQ(m.layer(1).q.format(), WeightFormat::Dense);
  expect_same_logits(tmp + "/ct", tmp + "/ct_deq", WeightFormat::Fp8Block, WeightFormat::PackedInt4);
}

// --no-mmap: the INT4 experts are interleaved in place (kernels/cpu/matmul_int4_rows16.h) and the
// logits keep the same tolerance against the dequantized fp32 reference.
TEST_F(QuantizedFormats, W4A16ReadIntoRamInterleavedEqualsDequantizedReference) {
  make_pair(tmp + "/ct", tmp + "/ct_deq", true);
  expect_same_logits(tmp + "/ct", tmp + "/ct_deq", WeightFormat::Fp8Block, WeightFormat::PackedInt4, Residency::Ram);
}

}  // namespace
}  // namespace mixq
