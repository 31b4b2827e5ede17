// Conformance against the tensor table: every problem is reported (not just the first), MTP layers
// are information, FP8 releases are checked against modules_to_not_convert.
#include "model/conformance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/synth.h"
#include "model/tensor_table.h"
#include "model_test_util.h"
#include "util/file_util.h"

using namespace mixq;
using namespace mixq::testing;

namespace {

SynthOptions tiny_synth(bool fp8) {
  SynthOptions o;
  o.config = default_synth_config();
  o.config.num_hidden_layers = 2;
  o.config.num_local_experts = 2;
  o.config.num_experts_per_tok = 1;
  o.config.vocab_size = 256;
  o.fp8 = fp8;
  return o;
}

// The problems as "tensor: message" strings (errors only unless `info`).
std::vector<std::string> problems(const ConformanceReport& r, bool info = false) {
  std::vector<std::string> v;
  for (const auto& f : r.findings)
    if ((f.severity == Finding::Info) == info) v.push_back(f.tensor + ": " + f.message);
  return v;
}

}  // namespace

TEST(Conformance, TinyModelIsConformant) {
  Checkpoint ck(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  auto cfg = load_minimax_m2_config(ck.config_path());
  auto r = check_checkpoint(ck, cfg);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.findings.empty());
}

TEST(Conformance, ReportsEveryMissingExtraMisShapedAndMisTypedTensor) {
  auto src = temp_dir("conf_src"), dst = temp_dir("conf_dst");
  auto opt = tiny_synth(false);
  write_synthetic_model(opt, src);
  Checkpoint ck(src);
  auto ts = read_tensors(ck);
  std::vector<RawTensor> out;
  for (auto& t : ts) {
    if (t.spec.name == names::input_norm(1) + ".weight") continue;                       // missing
    if (t.spec.name == names::expert(0, 1, 3) + ".weight") continue;                     // missing linear
    if (t.spec.name == names::attn(0, "k_norm") + ".weight") t.spec.shape = {t.spec.shape[0] / 2, 2};  // mis-shaped
    if (t.spec.name == names::kFinalNorm + std::string(".weight")) t.spec.dtype = DType::I16;            // mis-typed
    if (t.spec.name == names::attn(1, "v_proj") + ".weight") t.spec.shape = {t.spec.shape[1], t.spec.shape[0]};
    out.push_back(t);
  }
  out.push_back(bf16("model.layers.0.mlp.shared_expert.weight", {2}, {1, 2}));  // extra
  out.push_back(bf16("model.layers.2.eh_proj.weight", {2}, {1, 2}));            // MTP (layer index >= 2)
  out.push_back(bf16("model.layers.3.input_layernorm.weight", {2}, {1, 2}));
  write_tensors(dst, out);
  std::filesystem::copy_file(src + "/config.json", dst + "/config.json");
  Checkpoint bad(dst);
  auto r = check_checkpoint(bad, load_minimax_m2_config(bad.config_path()));
  auto e = problems(r);
  using ::testing::HasSubstr;
  using ::testing::UnorderedElementsAre;
  EXPECT_THAT(e, UnorderedElementsAre(
                     HasSubstr("model.layers.1.input_layernorm.weight: missing (expected [256])"),
                     HasSubstr("model.layers.0.block_sparse_moe.experts.1.w3.weight: ") /* missing */,
                     HasSubstr("model.layers.0.self_attn.k_norm.weight: shape [64, 2] but the config implies [128]"),
                     HasSubstr("model.norm.weight: dtype I16"),
                     HasSubstr("model.layers.1.self_attn.v_proj.weight: "),
                     HasSubstr("model.layers.0.mlp.shared_expert.weight: unexpected tensor")));
  EXPECT_EQ(r.errors(), 6u);
  EXPECT_EQ(r.mtp_layers, (std::vector<int>{2, 3}));
  EXPECT_THAT(problems(r, true), UnorderedElementsAre(HasSubstr("model.layers.2: MTP"), HasSubstr("model.layers.3: MTP")));
  std::filesystem::remove_all(src);
  std::filesystem::remove_all(dst);
}

TEST(Conformance, MtpLayersAloneAreNotErrors) {
  auto src = temp_dir("mtp_src"), dst = temp_dir("mtp_dst");
  write_synthetic_model(tiny_synth(false), src);
  auto ts = read_tensors(Checkpoint(src));
  ts.push_back(bf16("model.layers.2.enorm.weight", {2}, {1, 2}));
  write_tensors(dst, ts);
  std::filesystem::copy_file(src + "/config.json", dst + "/config.json");
  Checkpoint ck(dst);
  auto r = check_checkpoint(ck, load_minimax_m2_config(ck.config_path()));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.mtp_layers, std::vector<int>{2});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].severity, Finding::Info);
  std::filesystem::remove_all(src);
  std::filesystem::remove_all(dst);
}

TEST(Conformance, Fp8ReleaseStorageRules) {
  auto src = temp_dir("fp8_src"), bf = temp_dir("fp8_bf16"), dst = temp_dir("fp8_dst");
  write_synthetic_model(tiny_synth(true), src);
  write_synthetic_model(tiny_synth(false), bf);
  Checkpoint ck(src), dense(bf);
  auto cfg = load_minimax_m2_config(ck.config_path());
  EXPECT_TRUE(check_checkpoint(ck, cfg).ok());
  // The same weights stored densely under an FP8 config: every converted Linear is an error.
  auto r = check_checkpoint(dense, cfg);
  size_t expect = 0;
  for (const auto& m : minimax_m2_modules(cfg))
    expect += role_is_linear(m.role) && m.role != Role::RouterGate && m.role != Role::LmHead;
  EXPECT_EQ(r.errors(), expect);
  for (const auto& f : r.findings) EXPECT_THAT(f.message, ::testing::HasSubstr("F8_E4M3 + weight_scale_inv")) << f.tensor;
  // FP8 tensors under a config that declares no quantization.
  auto plain = load_minimax_m2_config(dense.config_path());
  auto r2 = check_checkpoint(ck, plain);
  EXPECT_EQ(r2.errors(), expect);
  for (const auto& f : r2.findings) EXPECT_THAT(f.message, ::testing::HasSubstr("no quantization_config"));
  // A scale of the wrong shape is named.
  auto ts = read_tensors(ck);
  for (auto& t : ts)
    if (t.spec.name == names::attn(0, "o_proj") + ".weight_scale_inv") {
      t.spec.shape = {int64_t(t.bytes.size() / 4), 1};
    }
  write_tensors(dst, ts);
  std::filesystem::copy_file(src + "/config.json", dst + "/config.json");
  Checkpoint badscale(dst);
  auto r3 = check_checkpoint(badscale, cfg);
  ASSERT_EQ(r3.errors(), 1u);
  EXPECT_EQ(r3.findings[0].tensor, names::attn(0, "o_proj") + ".weight");
  EXPECT_THAT(r3.findings[0].message, ::testing::HasSubstr("weight_scale_inv"));
  for (auto d : {src, bf, dst}) std::filesystem::remove_all(d);
}
