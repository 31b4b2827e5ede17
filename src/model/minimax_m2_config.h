// MiniMax-M2 config.json (minimax-m2.md §1): parsed, validated, with derived quantities.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mixq {

// How the checkpoint says its weights are stored (config.json "quantization_config").
enum class CheckpointQuant { None, Fp8Block, CompressedTensors };

struct Fp8BlockConfig {
  int64_t block_n = 128, block_k = 128;          // weight_block_size [out, in]
  std::vector<std::string> modules_to_not_convert;
  std::string fmt = "float8_e4m3fn", activation_scheme = "dynamic";
};

struct MiniMaxM2Config {
  std::vector<std::string> architectures;
  std::string model_type;
  int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  int64_t num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, rotary_dim = 0;
  int64_t max_position_embeddings = 0, num_local_experts = 0, num_experts_per_tok = 0;
  int64_t num_mtp_modules = 0;
  double rope_theta = 5e6, rms_norm_eps = 1e-6;
  bool use_qk_norm = true, use_routing_bias = true, tie_word_embeddings = false, use_mtp = false;
  std::string scoring_func = "sigmoid", hidden_act = "silu", qk_norm_type = "per_layer";
  std::string torch_dtype = "bfloat16";
  std::vector<int64_t> bos_token_ids, eos_token_ids;

  CheckpointQuant quant = CheckpointQuant::None;
  Fp8BlockConfig fp8;                // when quant == Fp8Block
  nlohmann::json quantization_config;  // raw, when present
  nlohmann::json raw;                // the whole config.json

  int64_t q_width() const { return num_attention_heads * head_dim; }
  int64_t kv_width() const { return num_key_value_heads * head_dim; }
};

// Throws InputError naming `what` (the file) and the field on any missing/contradictory value.
MiniMaxM2Config parse_minimax_m2_config(const nlohmann::json& j, const std::string& what);
MiniMaxM2Config load_minimax_m2_config(const std::string& path);  // a config.json file
nlohmann::json config_to_json(const MiniMaxM2Config& c);         // canonical HF-style config.json

}  // namespace mixq
