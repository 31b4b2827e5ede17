// End to end: `run_quantize` on the tiny BF16 model and on an FP8-block release made from it,
// with both seed recipes; outputs are re-read independently and checked value by value, and
// `validate_checkpoint` must be clean.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "model/linear_weight.h"
#include "model/minimax_m2_config.h"
#include "quant/ct_validate.h"
#include "quant/quantize_job.h"
#include "quant/recipe.h"
#include "test_models.h"
#include "util/dtype.h"
#include "util/file_util.h"

using namespace mixq;
using namespace mixq::testing;

namespace {

std::string report(const ValidationReport& r) {
  std::string s;
  for (const auto& f : r.findings) s += f.where + ": " + f.message + "\n";
  return s;
}

// Every quantized expert dequantizes to (u-8)*s within the §9 bound of its bf16 source value;
// every tensor that is not quantized is bit-identical (or, for FP8->BF16, equals bf16(fp8*s)).
void check_values(const std::string& src_dir, const std::string& out_dir, bool fp8_src, bool keep_fp8) {
  Checkpoint src(src_dir), out(out_dir);
  auto cfg = load_minimax_m2_config(src.config_path());
  size_t int4 = 0, exact = 0;
  for (const auto& e : minimax_m2_modules(cfg)) {
    if (!role_is_linear(e.role)) {
      TensorView a = src.view(e.tensor), b = out.view(e.tensor);
      ASSERT_EQ(a.nbytes, b.nbytes);
      EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << e.tensor;
      ++exact;
      continue;
    }
    LinearWeight s = load_linear(src, e.module, &e.shape);
    std::vector<float> ref = s.dequantize();
    if (s.format == WeightFormat::Fp8Block) for (auto& x : ref) x = round_bf16(x);  // FP8BlockDequantizer -> bf16
    LinearWeight o = load_linear(out, e.module, &e.shape);
    if (o.format == WeightFormat::PackedInt4) {
      ++int4;
      std::vector<float> d = o.dequantize();
      const int64_t G = o.group_size;
      for (size_t i = 0; i < d.size(); ++i) {
        float sc = o.scale.get_f32(int64_t(i) / G);
        ASSERT_LE(std::fabs(d[i] - ref[i]), 0.5f * sc + std::fabs(ref[i]) / 256.0f) << e.module << " element " << i;
      }
    } else if (o.format == WeightFormat::Fp8Block) {
      EXPECT_TRUE(fp8_src && keep_fp8);
      EXPECT_EQ(std::memcmp(o.weight.data, s.weight.data, s.weight.nbytes), 0) << e.module;
      EXPECT_EQ(std::memcmp(o.scale.data, s.scale.data, s.scale.nbytes), 0) << e.module;
      EXPECT_EQ(o.scale.name, e.module + ".weight_scale");
      ++exact;
    } else {
      std::vector<float> d = o.dequantize();
      EXPECT_EQ(d, ref) << e.module;
      if (s.format == WeightFormat::Dense) {
        EXPECT_EQ(std::memcmp(o.weight.data, s.weight.data, s.weight.nbytes), 0);
      }
      ++exact;
    }
  }
  EXPECT_GT(int4, 0u);
  EXPECT_GT(exact, 0u);
}

QuantizeResult quantize(const std::string& model, const std::string& recipe, const std::string& out, bool keep_fp8 = true) {
  QuantizeOptions o;
  o.model_dir = model;
  o.output_dir = out;
  o.progress = false;
  o.plan.keep_fp8 = keep_fp8;
  o.plan.max_shard_bytes = 4 << 20;
  return run_quantize(load_recipe(recipe), o);
}

}  // namespace

TEST(QuantizeE2E, TinyBf16BothRecipes) {
  for (const char* r : {"minimax-m2.7-awq-g32-strix-2h.yaml", "minimax-m2.1-fp8-int4-awq.yaml"}) {
    std::string out = temp_dir(std::string("bf16_") + r);
    QuantizeResult res = quantize(kTinyDir, kRecipes + "/" + r, out);
    EXPECT_GT(res.shards, 1u);
    ValidationReport v = validate_checkpoint(out);
    EXPECT_TRUE(v.ok()) << report(v);
    // Intermediate 256 / 8 = 32 < 64: Marlin MoE refuses the shard, vLLM falls back to a slower MoE kernel.
    EXPECT_EQ(v.servable_tp, (std::vector<int>{1, 2, 4, 8}));
    EXPECT_EQ(v.non_marlin_moe_tp, (std::vector<int>{8}));
    check_values(kTinyDir, out, false, true);
    EXPECT_TRUE(file_exists(out + "/tokenizer.json"));
    EXPECT_TRUE(file_exists(out + "/chat_template.jinja"));
    EXPECT_FALSE(file_exists(out + "/" + kJobName));
    auto man = nlohmann::json::parse(read_file(out + "/" + kManifestName));
    EXPECT_EQ(man["shards"].size(), res.shards);
    EXPECT_EQ(man["predicted_bytes"].get<uint64_t>(), res.output_bytes);  // the plan predicts the exact size
    std::filesystem::remove_all(out);
  }
}

TEST(QuantizeE2E, Fp8ReleaseMixedPrecisionAndDequantized) {
  std::string fp8 = temp_dir("fp8src");
  make_fp8_release(kTinyDir, fp8);
  for (bool keep : {true, false}) {
    std::string out = temp_dir(keep ? "fp8_keep" : "fp8_deq");
    quantize(fp8, kRecipes + "/minimax-m2.1-fp8-int4-awq.yaml", out, keep);
    ValidationReport v = validate_checkpoint(out);
    EXPECT_TRUE(v.ok()) << report(v);
    auto q = Checkpoint(out).config()["quantization_config"];
    EXPECT_EQ(q["format"], keep ? "mixed-precision" : "pack-quantized");
    if (keep) {
      EXPECT_EQ(q["config_groups"]["group_1"]["format"], "float-quantized");
      EXPECT_EQ(q["config_groups"]["group_0"]["format"], "pack-quantized");
    }
    check_values(fp8, out, true, keep);
    std::filesystem::remove_all(out);
  }
  std::string out = temp_dir("fp8_strix");
  quantize(fp8, kRecipes + "/minimax-m2.7-awq-g32-strix-2h.yaml", out);
  ValidationReport v = validate_checkpoint(out);
  EXPECT_TRUE(v.ok()) << report(v);
  check_values(fp8, out, true, true);
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(fp8);
}

TEST(QuantizeE2E, RefusesForeignOutputDirAndResumesSameJob) {
  std::string out = temp_dir("resume");
  std::string recipe = kRecipes + "/minimax-m2.7-awq-g32-strix-2h.yaml";
  quantize(kTinyDir, recipe, out);
  auto shard_hash = nlohmann::json::parse(read_file(out + "/" + kManifestName))["shards"];
  // Same job again: every shard is complete, nothing is rewritten, same manifest.
  QuantizeResult again = quantize(kTinyDir, recipe, out);
  EXPECT_EQ(again.shards_resumed, again.shards);
  EXPECT_EQ(nlohmann::json::parse(read_file(out + "/" + kManifestName))["shards"], shard_hash);
  // Simulated kill: the last shards and the manifest gone, a half-written .tmp left behind.
  auto names = Checkpoint(out).shards().size();
  ASSERT_GT(names, 2u);
  std::string last = fmt::format("{}/model-{:05}-of-{:05}.safetensors", out, names, names);
  std::string prev = fmt::format("{}/model-{:05}-of-{:05}.safetensors", out, names - 1, names);
  std::filesystem::remove(last);
  std::filesystem::rename(prev, prev + ".tmp");
  std::filesystem::resize_file(prev + ".tmp", 1000);
  auto man = nlohmann::json::parse(read_file(out + "/" + kManifestName));
  std::filesystem::remove(out + "/" + kManifestName);
  write_file_atomic(out + "/" + kJobName, man["job"].dump(2) + "\n");
  QuantizeResult resumed = quantize(kTinyDir, recipe, out);
  EXPECT_EQ(resumed.shards_resumed, resumed.shards - 2);
  EXPECT_EQ(nlohmann::json::parse(read_file(out + "/" + kManifestName))["shards"], shard_hash);
  // A different recipe into the same directory: refused.
  EXPECT_THROW(quantize(kTinyDir, kRecipes + "/minimax-m2.1-fp8-int4-awq.yaml", out), InputError);
  std::filesystem::remove_all(out);
}

// `mixq synth` FP8-block release (the official layout, with outlier channels): both recipes,
// values within the bound, validate clean; and a BF16 synth through the STRIX recipe.
#include "model/synth.h"

TEST(QuantizeE2E, SynthFp8AndBf16Releases) {
  for (bool fp8 : {true, false}) {
    SynthOptions so;
    so.config = default_synth_config();
    so.fp8 = fp8;
    so.seed = 7;
    so.max_shard_bytes = 2 << 20;
    std::string src = temp_dir(fp8 ? "synth_fp8" : "synth_bf16");
    write_synthetic_model(so, src);
    for (const char* r : {"minimax-m2.1-fp8-int4-awq.yaml", "minimax-m2.7-awq-g32-strix-2h.yaml"}) {
      std::string out = temp_dir(std::string("synth_out_") + r);
      quantize(src, kRecipes + "/" + r, out);
      ValidationReport v = validate_checkpoint(out);
      EXPECT_TRUE(v.ok()) << r << "\n" << report(v);
      EXPECT_FALSE(v.servable_tp.empty());
      check_values(src, out, fp8, true);
      std::filesystem::remove_all(out);
    }
    std::filesystem::remove_all(src);
  }
}
