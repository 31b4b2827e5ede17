#include "model/minimax_m2_config.h"

#include <cmath>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

namespace {

struct Reader {
  const nlohmann::json& j;
  const std::string& what;

  bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
  int64_t integer(const char* k, std::optional<int64_t> def = std::nullopt) const {
    if (!has(k)) {
      if (def) return *def;
      fail("{}: missing required field '{}'", what, k);
    }
    const auto& v = j[k];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) return int64_t(v.get<double>());
    fail("{}: field '{}' must be an integer, got {}", what, k, v.dump());
  }
  int64_t positive(const char* k, std::optional<int64_t> def = std::nullopt) const {
    int64_t v = integer(k, def);
    if (v <= 0) fail("{}: field '{}' must be positive, got {}", what, k, v);
    return v;
  }
  double number(const char* k, double def) const {
    if (!has(k)) return def;
    if (!j[k].is_number()) fail("{}: field '{}' must be a number, got {}", what, k, j[k].dump());
    return j[k].get<double>();
  }
  bool boolean(const char* k, bool def) const {
    if (!has(k)) return def;
    if (!j[k].is_boolean()) fail("{}: field '{}' must be true or false, got {}", what, k, j[k].dump());
    return j[k].get<bool>();
  }
  std::string string(const char* k, const std::string& def) const {
    if (!has(k)) return def;
    if (!j[k].is_string()) fail("{}: field '{}' must be a string, got {}", what, k, j[k].dump());
    return j[k].get<std::string>();
  }
  std::vector<int64_t> ids(const char* k) const {
    if (!has(k)) return {};
    if (j[k].is_number_integer()) return {j[k].get<int64_t>()};
    if (!j[k].is_array()) fail("{}: field '{}' must be an integer or a list of integers", what, k);
    std::vector<int64_t> out;
    for (const auto& v : j[k]) {
      if (!v.is_number_integer()) fail("{}: field '{}' must list integers", what, k);
      out.push_back(v.get<int64_t>());
    }
    return out;
  }
};

void parse_quant(MiniMaxM2Config& c, const nlohmann::json& q, const std::string& what) {
  if (!q.is_object()) fail("{}: 'quantization_config' must be an object", what);
  if (!q.contains("quant_method") || !q["quant_method"].is_string())
    fail("{}: quantization_config.quant_method is missing", what);
  std::string m = q["quant_method"].get<std::string>();
  if (m == "fp8") {
    c.quant = CheckpointQuant::Fp8Block;
    if (q.contains("weight_block_size")) {
      const auto& b = q["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
          b[0].get<int64_t>() <= 0 || b[1].get<int64_t>() <= 0)
        fail("{}: quantization_config.weight_block_size must be two positive integers", what);
      c.fp8.block_n = b[0].get<int64_t>();
      c.fp8.block_k = b[1].get<int64_t>();
    } else {
      fail("{}: quantization_config.weight_block_size is missing (only block-wise FP8 is supported)", what);
    }
    if (q.contains("fmt") && q["fmt"] != "float8_e4m3fn" && q["fmt"] != "e4m3")
      fail("{}: quantization_config.fmt {} is not supported (float8_e4m3fn)", what, q["fmt"].dump());
    if (q.contains("activation_scheme") && q["activation_scheme"].is_string())
      c.fp8.activation_scheme = q["activation_scheme"].get<std::string>();
    if (q.contains("modules_to_not_convert") && q["modules_to_not_convert"].is_array())
      for (const auto& s : q["modules_to_not_convert"])
        if (s.is_string()) c.fp8.modules_to_not_convert.push_back(s.get<std::string>());
  } else if (m == "compressed-tensors") {
    c.quant = CheckpointQuant::CompressedTensors;
    if (!q.contains("config_groups") || !q["config_groups"].is_object())
      fail("{}: quantization_config.config_groups is missing", what);
  } else {
    fail("{}: quantization_config.quant_method '{}' is not supported (fp8, compressed-tensors)", what, m);
  }
  c.quantization_config = q;
}

}  // namespace

MiniMaxM2Config parse_minimax_m2_config(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) fail("{}: config must be a JSON object", what);
  Reader r{j, what};
  MiniMaxM2Config c;
  c.raw = j;
  c.model_type = r.string("model_type", "");
  if (r.has("architectures")) {
    if (!j["architectures"].is_array()) fail("{}: 'architectures' must be a list", what);
    for (const auto& a : j["architectures"])
      if (a.is_string()) c.architectures.push_back(a.get<std::string>());
  }
  // model_type decides when present (a llama model_type with a MiniMax architecture is a
  // contradiction); otherwise the architectures list must name MiniMaxM2ForCausalLM.
  bool arch_ok = c.model_type == "minimax_m2";
  if (c.model_type.empty())
    for (const auto& a : c.architectures) arch_ok = arch_ok || a == "MiniMaxM2ForCausalLM";
  if (!arch_ok)
    fail("{}: model_type '{}' is not a MiniMax-M2 model (expected model_type minimax_m2 / MiniMaxM2ForCausalLM)",
         what, c.model_type);

  c.vocab_size = r.positive("vocab_size");
  c.hidden_size = r.positive("hidden_size");
  c.intermediate_size = r.positive("intermediate_size");
  c.num_hidden_layers = r.positive("num_hidden_layers");
  c.num_attention_heads = r.positive("num_attention_heads");
  c.num_key_value_heads = r.positive("num_key_value_heads", c.num_attention_heads);
  c.head_dim = r.positive("head_dim", c.hidden_size / c.num_attention_heads);
  c.max_position_embeddings = r.positive("max_position_embeddings", 196608);
  c.num_local_experts = r.positive("num_local_experts");
  c.num_experts_per_tok = r.positive("num_experts_per_tok");
  c.num_mtp_modules = r.integer("num_mtp_modules", 0);
  c.rope_theta = r.number("rope_theta", 5e6);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.use_qk_norm = r.boolean("use_qk_norm", true);
  c.use_routing_bias = r.boolean("use_routing_bias", true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.use_mtp = r.boolean("use_mtp", false);
  c.scoring_func = r.string("scoring_func", "sigmoid");
  c.hidden_act = r.string("hidden_act", "silu");
  c.qk_norm_type = r.string("qk_norm_type", "per_layer");
  c.torch_dtype = r.string("torch_dtype", "bfloat16");
  c.bos_token_ids = r.ids("bos_token_id");
  c.eos_token_ids = r.ids("eos_token_id");

  // rotary_dim (legacy) or partial_rotary_factor; both present must agree.
  std::optional<int64_t> rot;
  if (r.has("rotary_dim")) rot = r.positive("rotary_dim");
  if (r.has("partial_rotary_factor")) {
    double f = r.number("partial_rotary_factor", 1.0);
    if (!(f > 0 && f <= 1)) fail("{}: partial_rotary_factor must be in (0, 1], got {}", what, f);
    int64_t from_f = int64_t(std::llround(f * double(c.head_dim)));
    if (rot && *rot != from_f)
      fail("{}: rotary_dim {} contradicts partial_rotary_factor {} x head_dim {} = {}", what, *rot, f, c.head_dim, from_f);
    rot = from_f;
  }
  c.rotary_dim = rot ? *rot : c.head_dim;

  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", what, c.num_attention_heads,
         c.num_key_value_heads);
  if (c.rotary_dim > c.head_dim || c.rotary_dim % 2 != 0)
    fail("{}: rotary_dim {} must be even and at most head_dim {}", what, c.rotary_dim, c.head_dim);
  if (c.num_experts_per_tok > c.num_local_experts)
    fail("{}: num_experts_per_tok {} exceeds num_local_experts {}", what, c.num_experts_per_tok, c.num_local_experts);
  if (c.scoring_func != "sigmoid") fail("{}: scoring_func '{}' is not supported (sigmoid)", what, c.scoring_func);
  if (c.hidden_act != "silu") fail("{}: hidden_act '{}' is not supported (silu)", what, c.hidden_act);
  if (c.use_qk_norm && c.qk_norm_type != "per_layer")
    fail("{}: qk_norm_type '{}' is not supported (per_layer)", what, c.qk_norm_type);
  if (!(c.rms_norm_eps > 0)) fail("{}: rms_norm_eps must be positive", what);
  if (!(c.rope_theta > 0)) fail("{}: rope_theta must be positive", what);
  if (r.has("shared_intermediate_size") && r.integer("shared_intermediate_size") != 0)
    fail("{}: shared_intermediate_size {} is not supported (MiniMax-M2 has no shared expert)", what,
         r.integer("shared_intermediate_size"));
  if (r.has("attn_type_list")) {
    const auto& a = j["attn_type_list"];
    if (!a.is_array() || int64_t(a.size()) != c.num_hidden_layers)
      fail("{}: attn_type_list must have num_hidden_layers ({}) entries", what, c.num_hidden_layers);
    for (const auto& v : a)
      if (v != 1) fail("{}: attn_type_list entries other than 1 (full attention) are not supported", what);
  }
  for (auto id : c.bos_token_ids)
    if (id < 0 || id >= c.vocab_size) fail("{}: bos_token_id {} is outside the vocabulary ({})", what, id, c.vocab_size);
  for (auto id : c.eos_token_ids)
    if (id < 0 || id >= c.vocab_size) fail("{}: eos_token_id {} is outside the vocabulary ({})", what, id, c.vocab_size);
  if (r.has("quantization_config")) parse_quant(c, j["quantization_config"], what);
  return c;
}

MiniMaxM2Config load_minimax_m2_config(const std::string& path) {
  std::string text = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON ({})", path, e.what());
  }
  return parse_minimax_m2_config(j, path);
}

nlohmann::json config_to_json(const MiniMaxM2Config& c) {
  nlohmann::json j = c.raw.is_object() ? c.raw : nlohmann::json::object();
  j["architectures"] = {"MiniMaxM2ForCausalLM"};
  j["model_type"] = "minimax_m2";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["rotary_dim"] = c.rotary_dim;
  if (j.contains("partial_rotary_factor"))  // keep the two spellings consistent
    j["partial_rotary_factor"] = double(c.rotary_dim) / double(c.head_dim);
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["num_local_experts"] = c.num_local_experts;
  j["num_experts_per_tok"] = c.num_experts_per_tok;
  j["num_mtp_modules"] = c.num_mtp_modules;
  j["rope_theta"] = c.rope_theta;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["use_qk_norm"] = c.use_qk_norm;
  j["use_routing_bias"] = c.use_routing_bias;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["use_mtp"] = c.use_mtp;
  j["scoring_func"] = c.scoring_func;
  j["hidden_act"] = c.hidden_act;
  j["qk_norm_type"] = c.qk_norm_type;
  j["torch_dtype"] = c.torch_dtype;
  j["attn_type_list"] = std::vector<int>(size_t(c.num_hidden_layers), 1);
  j["shared_intermediate_size"] = 0;
  if (!c.bos_token_ids.empty()) j["bos_token_id"] = c.bos_token_ids.size() == 1 ? nlohmann::json(c.bos_token_ids[0]) : nlohmann::json(c.bos_token_ids);
  if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids.size() == 1 ? nlohmann::json(c.eos_token_ids[0]) : nlohmann::json(c.eos_token_ids);
  if (c.quant == CheckpointQuant::None) j.erase("quantization_config");
  else j["quantization_config"] = c.quantization_config;
  return j;
}

}  // namespace mixq
