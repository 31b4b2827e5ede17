// mixq synth: conformance of BF16 and FP8 output, determinism, resume, realistic statistics.
#include "model/synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/checkpoint.h"
#include "model/conformance.h"
#include "model/linear_weight.h"
#include "model/tensor_table.h"
#include "util/error.h"
#include "util/file_util.h"

namespace fs = std::filesystem;
using namespace mixq;

namespace {

std::string temp_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("mixq_synth_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  return p.string();
}

std::map<std::string, std::string> dir_bytes(const std::string& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::directory_iterator(dir)) m[e.path().filename().string()] = read_file(e.path().string());
  return m;
}

SynthOptions small(bool fp8) {
  SynthOptions o;
  o.config = default_synth_config();
  o.config.num_hidden_layers = 2;
  o.config.num_local_experts = 4;
  o.config.vocab_size = 512;
  o.config.intermediate_size = 160;  // not a multiple of 128: partial FP8 blocks
  o.fp8 = fp8;
  o.seed = 7;
  return o;
}

}  // namespace

TEST(Synth, Bf16IsConformantAndDense) {
  auto dir = temp_dir("bf16");
  write_synthetic_model(small(false), dir);
  Checkpoint ck(dir);
  auto cfg = load_minimax_m2_config(ck.config_path());
  EXPECT_EQ(cfg.quant, CheckpointQuant::None);
  auto rep = check_checkpoint(ck, cfg);
  EXPECT_TRUE(rep.ok()) << (rep.findings.empty() ? "" : rep.findings[0].tensor + ": " + rep.findings[0].message);
  EXPECT_EQ(ck.info(names::router_gate(0) + ".weight").dtype, DType::F32);
  EXPECT_EQ(ck.info(names::correction_bias(1)).dtype, DType::F32);
  EXPECT_EQ(ck.info(names::expert(1, 3, 2) + ".weight").dtype, DType::BF16);
  EXPECT_TRUE(file_exists(dir + "/generation_config.json"));
  fs::remove_all(dir);
}

TEST(Synth, Fp8IsLikeTheOfficialRelease) {
  auto dir = temp_dir("fp8");
  auto opt = small(true);
  write_synthetic_model(opt, dir);
  Checkpoint ck(dir);
  auto cfg = load_minimax_m2_config(ck.config_path());
  ASSERT_EQ(cfg.quant, CheckpointQuant::Fp8Block);
  EXPECT_EQ(cfg.fp8.block_n, 128);
  EXPECT_EQ(cfg.fp8.block_k, 128);
  EXPECT_EQ(cfg.quantization_config["fmt"], "float8_e4m3fn");
  EXPECT_EQ(cfg.quantization_config["activation_scheme"], "dynamic");
  EXPECT_EQ(cfg.fp8.modules_to_not_convert, (std::vector<std::string>{"gate", "e_score_correction_bias", "lm_head"}));
  auto rep = check_checkpoint(ck, cfg);
  EXPECT_TRUE(rep.ok());
  for (const auto& e : minimax_m2_modules(cfg)) {
    if (!role_is_linear(e.role)) {
      EXPECT_NE(ck.info(e.tensor).dtype, DType::F8_E4M3) << e.tensor;
      continue;
    }
    auto w = load_linear(ck, e.module, &e.shape);
    bool kept = e.role == Role::RouterGate || e.role == Role::LmHead;
    EXPECT_EQ(w.format, kept ? WeightFormat::Dense : WeightFormat::Fp8Block) << e.module;
    if (!kept) {
      EXPECT_TRUE(w.scale_named_inv);
      EXPECT_EQ(w.scale.dtype, DType::F32);
      EXPECT_EQ(w.scale.shape, (Shape{(e.shape[0] + 127) / 128, (e.shape[1] + 127) / 128}));
    }
  }
  EXPECT_EQ(ck.info(names::kLmHead + std::string(".weight")).dtype, DType::BF16);
  EXPECT_EQ(ck.info(names::router_gate(0) + ".weight").dtype, DType::F32);

  // Each 128x128 block uses the full e4m3 range: its largest |code| is 448 (scale = amax / 448).
  auto w = load_linear(ck, names::expert(0, 1, 2), nullptr);  // [256, 160]: blocks 2 x 2, one partial
  for (int64_t bi = 0; bi < 2; ++bi)
    for (int64_t bj = 0; bj < 2; ++bj) {
      float amax = 0;
      for (int64_t r = bi * 128; r < std::min<int64_t>(w.out, bi * 128 + 128); ++r)
        for (int64_t c = bj * 128; c < std::min<int64_t>(w.in, bj * 128 + 128); ++c)
          amax = std::max(amax, std::fabs(kFp8E4M3ToF32[w.weight.data[r * w.in + c]]));
      EXPECT_EQ(amax, 448.0f) << bi << "," << bj;
    }

  // The FP8 weights dequantize to the BF16 model's weights within e4m3 precision.
  auto dir2 = temp_dir("fp8_ref");
  write_synthetic_model(small(false), dir2);
  Checkpoint ref(dir2);
  for (const char* proj : {"q_proj", "o_proj"}) {
    auto a = load_linear(ck, names::attn(1, proj)).dequantize();
    auto b = load_linear(ref, names::attn(1, proj)).dequantize();
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    EXPECT_LT(std::sqrt(num / den), 0.05) << proj;  // e4m3: 3 mantissa bits, ~2-3% rms
    EXPECT_GT(std::sqrt(num / den), 0.001) << proj;
  }
  fs::remove_all(dir);
  fs::remove_all(dir2);
}

TEST(Synth, DeterministicAndShardingDoesNotChangeTensors) {
  auto a = temp_dir("det_a"), b = temp_dir("det_b"), c = temp_dir("det_c");
  auto opt = small(true);
  write_synthetic_model(opt, a);
  write_synthetic_model(opt, b);
  EXPECT_EQ(dir_bytes(a), dir_bytes(b));
  opt.max_shard_bytes = 200'000;
  write_synthetic_model(opt, c);
  Checkpoint ca(a), cc(c);
  EXPECT_GT(cc.shards().size(), 2u);
  ASSERT_EQ(ca.names(), cc.names());
  for (const auto& n : ca.names()) {
    auto x = ca.view(n), y = cc.view(n);
    ASSERT_EQ(x.nbytes, y.nbytes);
    EXPECT_EQ(0, std::memcmp(x.data, y.data, x.nbytes)) << n;
  }
  auto opt2 = small(true);
  opt2.seed = 8;
  write_synthetic_model(opt2, b);
  EXPECT_NE(dir_bytes(a), dir_bytes(b));
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(c);
}

TEST(Synth, ResumeReusesCompleteShardsAndRewritesStrayTmp) {
  auto dir = temp_dir("resume");
  auto opt = small(false);
  opt.max_shard_bytes = 300'000;
  write_synthetic_model(opt, dir);
  auto before = dir_bytes(dir);
  Checkpoint ck(dir);
  ASSERT_GT(ck.shards().size(), 3u);
  // Simulate a kill: shard 2 never renamed (a stray, truncated .tmp), shard 3 gone, no config.json.
  std::string s2 = ck.shards()[1]->path(), s3 = ck.shards()[2]->path();
  auto t = fs::last_write_time(ck.shards()[0]->path());
  fs::rename(s2, s2 + ".tmp");
  fs::resize_file(s2 + ".tmp", 1000);
  fs::remove(s3);
  fs::remove(dir + "/config.json");
  write_synthetic_model(opt, dir);
  EXPECT_EQ(fs::last_write_time(ck.shards()[0]->path()), t);  // complete shard reused, not rewritten
  EXPECT_FALSE(fs::exists(s2 + ".tmp"));
  EXPECT_EQ(dir_bytes(dir), before);
  // A different seed must not reuse the old shards.
  opt.seed = 99;
  write_synthetic_model(opt, dir);
  EXPECT_NE(dir_bytes(dir), before);
  fs::remove_all(dir);
}

TEST(Synth, OutlierChannelsAreLargeInTheNormAndSmallInTheExpertInputs) {
  auto dir = temp_dir("outliers");
  auto opt = small(false);
  opt.outlier_channels = 3;
  opt.outlier_scale = 16;
  write_synthetic_model(opt, dir);
  Checkpoint ck(dir);
  auto ch = synth_outlier_channels(opt, 1);
  ASSERT_EQ(ch.size(), 3u);
  auto norm = ck.view(names::post_attention_norm(1) + ".weight").to_f32();
  double others = 0;
  for (float v : norm) others += v;
  others /= double(norm.size());
  for (auto c : ch) EXPECT_GT(norm[size_t(c)], 5.0 * others) << c;
  // Column RMS of w1 at an outlier channel is ~1/16 of the others.
  auto w1 = load_linear(ck, names::expert(1, 0, 1)).dequantize();
  const int64_t H = opt.config.hidden_size;
  auto col_rms = [&](int64_t c) {
    double s = 0;
    for (int64_t r = 0; r < opt.config.intermediate_size; ++r) s += w1[size_t(r * H + c)] * w1[size_t(r * H + c)];
    return std::sqrt(s / double(opt.config.intermediate_size));
  };
  int64_t normal_col = 0;
  while (std::find(ch.begin(), ch.end(), normal_col) != ch.end()) ++normal_col;
  EXPECT_LT(col_rms(ch[0]), col_rms(normal_col) / 6);
  // Weights ~ N(0, 1/sqrt(in)) overall.
  double s = 0;
  auto q = load_linear(ck, names::attn(0, "q_proj")).dequantize();
  for (float v : q) s += v * v;
  EXPECT_NEAR(std::sqrt(s / double(q.size())) * std::sqrt(double(H)), 1.0, 0.1);
  fs::remove_all(dir);
}

TEST(Synth, BadOptionsAreInputErrors) {
  auto dir = temp_dir("bad");
  auto opt = small(false);
  opt.config.num_key_value_heads = 3;  // 4 heads not a multiple of 3
  EXPECT_THROW(write_synthetic_model(opt, dir), InputError);
  opt = small(false);
  opt.outlier_channels = 100000;
  EXPECT_THROW(write_synthetic_model(opt, dir), InputError);
  opt = small(false);
  opt.config.num_experts_per_tok = 9;
  try {
    write_synthetic_model(opt, dir);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("num_experts_per_tok"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/config.json"));
  fs::remove_all(dir);
}

TEST(Synth, RefusesToOverwriteAModelItDidNotWrite) {
  auto dir = temp_dir("foreign");
  fs::create_directories(dir);
  const std::string tiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2/model.safetensors";
  fs::copy_file(tiny, dir + "/model.safetensors");
  fs::copy_file(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2/config.json", dir + "/config.json");
  try {
    write_synthetic_model(small(false), dir);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(tiny));
  EXPECT_TRUE(fs::exists(dir + "/config.json"));
  fs::remove_all(dir);
}
