// compressed-tensors QuantizationArgs / QuantizationScheme as mixq understands them
// (compressed-tensors-awq.md §1.3, §1.4), read from recipe YAML and written to config.json.
// Only what vLLM can load and mixq can produce is accepted: symmetric INT4 group W4A16 and
// FP8 (e4m3) 128x128-block weights with dynamic per-token-group FP8 activations. Everything
// else is a clear InputError, never silently ignored.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mixq {

struct QuantArgs {
  int num_bits = 8;
  std::string type = "int";          // "int" | "float"
  bool symmetric = true;
  std::optional<int64_t> group_size;  // null, -1 (channel) or > 0
  std::string strategy;               // "tensor" | "channel" | "group" | "block" | "token" | ...
  std::optional<std::vector<int64_t>> block_structure;  // [rows, cols] when strategy == block
  bool dynamic = false;
  std::optional<std::string> actorder;  // always null in what mixq accepts
  std::optional<std::string> observer;  // kept for the config; does not change weight math (§3.1)

  bool is_int4_group() const { return type == "int" && num_bits == 4 && strategy == "group"; }
  bool is_fp8_block() const { return type == "float" && num_bits == 8 && strategy == "block"; }
  // The QuantizationArgs dict for config.json: only keys every compressed-tensors version accepts
  // (no scale_dtype / zp_dtype, §1.4 / §8.1).
  nlohmann::json to_json() const;
};

// Kinds of weight scheme mixq can write.
enum class SchemeKind { Int4Group, Fp8Block };

struct QuantScheme {
  std::vector<std::string> targets;
  QuantArgs weights;
  std::optional<QuantArgs> input_activations;
  std::string format;  // "pack-quantized" | "float-quantized" (derived when the recipe has none)
  SchemeKind kind() const { return weights.is_int4_group() ? SchemeKind::Int4Group : SchemeKind::Fp8Block; }
  int64_t group_size() const { return weights.group_size.value_or(0); }
  nlohmann::json to_json() const;  // a config group: targets, weights, input/output activations, format
};

// Presets as llm-compressor names them (quant_scheme.py): "W4A16" and "FP8_BLOCK".
QuantScheme preset_scheme(const std::string& name, const std::vector<std::string>& targets, const std::string& where);
// The FP8_BLOCK scheme used to describe FP8 weights passed through from an FP8-block release.
QuantScheme fp8_block_passthrough_scheme(std::vector<std::string> targets);
// Checks a scheme is one mixq supports (InputError naming `where` otherwise) and fills `format`
// and defaulted fields (strategy inferred from group_size as compressed-tensors does).
void validate_scheme(QuantScheme& s, const std::string& where);

}  // namespace mixq
