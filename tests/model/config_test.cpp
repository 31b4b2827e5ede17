// config.json parsing: the real M2.7 config, the bundled tiny model, rotary_dim vs
// partial_rotary_factor, and missing/contradictory fields (InputError naming the field).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "util/error.h"
#include "util/file_util.h"

using namespace mixq;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

const std::string kM27 = std::string(MIXQ_SHARED_DIR) + "/configs/minimax-m2.7/config.json";
const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2/config.json";

nlohmann::json tiny_json() { return nlohmann::json::parse(read_file(kTiny)); }

std::string error_of(const nlohmann::json& j) {
  try {
    parse_minimax_m2_config(j, "cfg.json");
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("cfg.json: ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
    return m;
  }
  ADD_FAILURE() << "accepted";
  return "";
}

}  // namespace

TEST(Config, RealM27) {
  if (!file_exists(kM27)) GTEST_SKIP() << "no shared configs";
  auto c = load_minimax_m2_config(kM27);
  EXPECT_EQ(c.vocab_size, 200064);
  EXPECT_EQ(c.hidden_size, 3072);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_hidden_layers, 62);
  EXPECT_EQ(c.num_attention_heads, 48);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rotary_dim, 64);
  EXPECT_EQ(c.q_width(), 6144);
  EXPECT_EQ(c.kv_width(), 1024);
  EXPECT_EQ(c.max_position_embeddings, 204800);
  EXPECT_EQ(c.num_local_experts, 256);
  EXPECT_EQ(c.num_experts_per_tok, 8);
  EXPECT_EQ(c.num_mtp_modules, 3);
  EXPECT_TRUE(c.use_mtp);
  EXPECT_DOUBLE_EQ(c.rope_theta, 5e6);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.bos_token_ids, std::vector<int64_t>{200034});
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{200020});
  EXPECT_EQ(c.quant, CheckpointQuant::Fp8Block);
  EXPECT_EQ(c.fp8.block_n, 128);
  EXPECT_EQ(c.fp8.block_k, 128);
  EXPECT_EQ(c.fp8.modules_to_not_convert, (std::vector<std::string>{"gate", "e_score_correction_bias", "lm_head"}));
}

// minimax-m2.md §2.5, from the config alone.
TEST(Config, M27ParameterCounts) {
  if (!file_exists(kM27)) GTEST_SKIP() << "no shared configs";
  auto p = count_parameters(load_minimax_m2_config(kM27));
  EXPECT_EQ(p.embed, 614'596'608);
  EXPECT_EQ(p.lm_head, 614'596'608);
  EXPECT_EQ(p.attention_per_layer, 44'040'192);
  EXPECT_EQ(p.per_expert, 14'155'776);
  EXPECT_EQ(p.per_layer, 3'668'718'848);
  EXPECT_EQ(p.total, 228'689'764'864);
  EXPECT_EQ(p.active, 9'801'356'800);  // ≈9.80 B, excl. embedding and lm_head
  EXPECT_EQ(2 * p.total, 457'379'529'728);  // BF16 bytes
}

TEST(Config, TinyModel) {
  auto c = load_minimax_m2_config(kTiny);
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.num_hidden_layers, 6);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rotary_dim, 32);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.quant, CheckpointQuant::None);
  EXPECT_EQ(c.bos_token_ids, std::vector<int64_t>{6139});
}

TEST(Config, RotaryDimAndPartialRotaryFactor) {
  auto j = tiny_json();
  j.erase("rotary_dim");
  EXPECT_EQ(parse_minimax_m2_config(j, "x").rotary_dim, 64);  // neither: full head_dim
  j["partial_rotary_factor"] = 0.5;
  EXPECT_EQ(parse_minimax_m2_config(j, "x").rotary_dim, 32);
  j["rotary_dim"] = 32;
  EXPECT_EQ(parse_minimax_m2_config(j, "x").rotary_dim, 32);  // both, agreeing
  j["rotary_dim"] = 16;
  EXPECT_THAT(error_of(j), AllOf(HasSubstr("rotary_dim 16"), HasSubstr("partial_rotary_factor 0.5")));
  j.erase("rotary_dim");
  j["partial_rotary_factor"] = 1.5;
  EXPECT_THAT(error_of(j), HasSubstr("partial_rotary_factor"));
  j.erase("partial_rotary_factor");
  j["rotary_dim"] = 96;
  EXPECT_THAT(error_of(j), AllOf(HasSubstr("rotary_dim 96"), HasSubstr("head_dim 64")));
  j["rotary_dim"] = 33;
  EXPECT_THAT(error_of(j), HasSubstr("even"));
}

TEST(Config, MissingRequiredFieldsAreNamed) {
  for (const char* f : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                        "num_local_experts", "num_experts_per_tok"}) {
    auto j = tiny_json();
    j.erase(f);
    EXPECT_THAT(error_of(j), AllOf(HasSubstr("missing"), HasSubstr(std::string("'") + f + "'"))) << f;
    j[f] = nullptr;
    EXPECT_THAT(error_of(j), HasSubstr(f)) << f;
  }
}

TEST(Config, ContradictoryOrMistypedFieldsAreNamed) {
  auto with = [](const char* k, nlohmann::json v) {
    auto j = tiny_json();
    j[k] = std::move(v);
    return j;
  };
  EXPECT_THAT(error_of(with("num_key_value_heads", 3)), AllOf(HasSubstr("num_attention_heads 8"), HasSubstr("num_key_value_heads 3")));
  EXPECT_THAT(error_of(with("num_experts_per_tok", 9)), AllOf(HasSubstr("num_experts_per_tok 9"), HasSubstr("num_local_experts 8")));
  EXPECT_THAT(error_of(with("hidden_size", "256")), AllOf(HasSubstr("'hidden_size'"), HasSubstr("integer")));
  EXPECT_THAT(error_of(with("hidden_size", 255.5)), HasSubstr("'hidden_size'"));
  EXPECT_THAT(error_of(with("hidden_size", -256)), AllOf(HasSubstr("'hidden_size'"), HasSubstr("positive")));
  EXPECT_THAT(error_of(with("num_hidden_layers", 0)), HasSubstr("'num_hidden_layers'"));
  EXPECT_THAT(error_of(with("attn_type_list", {1, 1})), HasSubstr("attn_type_list"));
  EXPECT_THAT(error_of(with("attn_type_list", {0, 1, 1, 1, 1, 1})), HasSubstr("attn_type_list"));
  EXPECT_THAT(error_of(with("bos_token_id", 99999)), AllOf(HasSubstr("bos_token_id 99999"), HasSubstr("6144")));
  EXPECT_THAT(error_of(with("eos_token_id", {6137, -1})), HasSubstr("eos_token_id -1"));
  EXPECT_THAT(error_of(with("shared_intermediate_size", 512)), HasSubstr("shared_intermediate_size"));
  EXPECT_THAT(error_of(with("scoring_func", "softmax")), HasSubstr("scoring_func"));
  EXPECT_THAT(error_of(with("hidden_act", "gelu")), HasSubstr("hidden_act"));
  EXPECT_THAT(error_of(with("use_qk_norm", "yes")), HasSubstr("use_qk_norm"));
  EXPECT_THAT(error_of(with("rms_norm_eps", 0)), HasSubstr("rms_norm_eps"));
  EXPECT_THAT(error_of(with("rope_theta", "big")), HasSubstr("rope_theta"));
  EXPECT_THAT(error_of(with("model_type", "llama")), HasSubstr("model_type 'llama'"));
  EXPECT_THAT(error_of(nlohmann::json::array()), HasSubstr("object"));
  // quantization_config
  EXPECT_THAT(error_of(with("quantization_config", {{"quant_method", "gptq"}})), HasSubstr("'gptq'"));
  EXPECT_THAT(error_of(with("quantization_config", {{"quant_method", "fp8"}})), HasSubstr("weight_block_size"));
  EXPECT_THAT(error_of(with("quantization_config", {{"quant_method", "fp8"}, {"weight_block_size", {128, 0}}})),
              HasSubstr("weight_block_size"));
  EXPECT_THAT(error_of(with("quantization_config", {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}, {"fmt", "e5m2"}})),
              HasSubstr("fmt"));
  EXPECT_THAT(error_of(with("quantization_config", {{"quant_method", "compressed-tensors"}})), HasSubstr("config_groups"));
  EXPECT_THAT(error_of(with("quantization_config", 3)), HasSubstr("quantization_config"));
}

TEST(Config, InvalidJsonFileNamesTheFile) {
  auto p = ::testing::TempDir() + "/mixq_bad_config.json";
  write_file_atomic(p, "{\"hidden_size\": 3,");
  try {
    load_minimax_m2_config(p);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(p), HasSubstr("invalid JSON")));
  }
  EXPECT_THROW(load_minimax_m2_config(p + ".missing"), InputError);
}

TEST(Config, ToJsonRoundTrips) {
  auto c = load_minimax_m2_config(kTiny);
  auto j = config_to_json(c);
  auto d = parse_minimax_m2_config(j, "rt");
  EXPECT_EQ(config_to_json(d), j);
  EXPECT_EQ(d.rotary_dim, c.rotary_dim);
  EXPECT_EQ(j["attn_type_list"].size(), 6u);
  // A config spelling partial_rotary_factor keeps it consistent with a changed head_dim.
  auto k = tiny_json();
  k.erase("rotary_dim");
  k["partial_rotary_factor"] = 0.5;
  auto e = parse_minimax_m2_config(k, "x");
  e.head_dim = 32;
  e.rotary_dim = 16;
  EXPECT_EQ(parse_minimax_m2_config(config_to_json(e), "x").rotary_dim, 16);
}
