#include "quant/quant_args.h"

#include "util/error.h"

namespace mixq {

nlohmann::json QuantArgs::to_json() const {
  nlohmann::json j;
  j["actorder"] = nullptr;
  j["block_structure"] = block_structure ? nlohmann::json(*block_structure) : nlohmann::json(nullptr);
  j["dynamic"] = dynamic;
  j["group_size"] = group_size ? nlohmann::json(*group_size) : nlohmann::json(nullptr);
  j["num_bits"] = num_bits;
  j["observer"] = observer ? nlohmann::json(*observer) : nlohmann::json(nullptr);
  j["observer_kwargs"] = nlohmann::json::object();
  j["strategy"] = strategy;
  j["symmetric"] = symmetric;
  j["type"] = type;
  return j;
}

nlohmann::json QuantScheme::to_json() const {
  nlohmann::json j;
  j["format"] = format;
  j["targets"] = targets;
  j["weights"] = weights.to_json();
  j["input_activations"] = input_activations ? input_activations->to_json() : nlohmann::json(nullptr);
  j["output_activations"] = nullptr;
  return j;
}

static QuantArgs fp8_block_weights() {
  QuantArgs a;
  a.num_bits = 8; a.type = "float"; a.symmetric = true; a.strategy = "block";
  a.block_structure = std::vector<int64_t>{128, 128}; a.dynamic = false; a.observer = "minmax";
  return a;
}

static QuantArgs fp8_group_activations() {
  QuantArgs a;
  a.num_bits = 8; a.type = "float"; a.symmetric = true; a.strategy = "group"; a.group_size = 128;
  a.dynamic = true;  // observer null for dynamic args (§1.4)
  return a;
}

QuantScheme fp8_block_passthrough_scheme(std::vector<std::string> targets) {
  QuantScheme s;
  s.targets = std::move(targets);
  s.weights = fp8_block_weights();
  s.input_activations = fp8_group_activations();
  s.format = "float-quantized";
  return s;
}

QuantScheme preset_scheme(const std::string& name, const std::vector<std::string>& targets, const std::string& where) {
  QuantScheme s;
  s.targets = targets;
  if (name == "W4A16") {
    s.weights.num_bits = 4; s.weights.type = "int"; s.weights.symmetric = true;
    s.weights.group_size = 128; s.weights.strategy = "group"; s.weights.observer = "memoryless_minmax";
  } else if (name == "FP8_BLOCK") {
    s = fp8_block_passthrough_scheme(targets);
  } else {
    fail("{}: scheme preset '{}' is not supported (supported: W4A16, FP8_BLOCK)", where, name);
  }
  validate_scheme(s, where);
  return s;
}

void validate_scheme(QuantScheme& s, const std::string& where) {
  if (s.targets.empty()) fail("{}: 'targets' is empty", where);
  QuantArgs& w = s.weights;
  if (w.strategy.empty()) {  // compressed-tensors' inference rule
    if (!w.group_size) w.strategy = "tensor";
    else if (*w.group_size == -1) w.strategy = "channel";
    else w.strategy = "group";
  }
  if (w.actorder) fail("{}: weights.actorder '{}' is not supported (only null: RTN/AWQ without activation reordering)", where, *w.actorder);
  if (w.dynamic) fail("{}: weights.dynamic must be false (weights are quantized statically)", where);
  if (w.type == "int") {
    if (w.num_bits != 4) fail("{}: weights.num_bits {} is not supported for int weights (only 4: W4A16)", where, w.num_bits);
    if (!w.symmetric) fail("{}: asymmetric int weights are not supported (symmetric: true only; vLLM's MoE Marlin path and mixq write no zero points)", where);
    if (w.strategy != "group") fail("{}: weights.strategy '{}' is not supported for int4 (only 'group')", where, w.strategy);
    if (!w.group_size || *w.group_size <= 0) fail("{}: weights.group_size must be a positive number for strategy group", where);
    int64_t g = *w.group_size;
    if (g != 32 && g != 64 && g != 128) fail("{}: weights.group_size {} is not supported (32, 64 or 128: Marlin's group sizes)", where, g);
    if (w.block_structure) fail("{}: weights.block_structure is only valid with strategy block", where);
    if (s.input_activations) fail("{}: input_activations must be null for W4A16", where);
    if (s.format.empty()) s.format = "pack-quantized";
    if (s.format != "pack-quantized") fail("{}: format '{}' is not valid for int4 weights (pack-quantized)", where, s.format);
  } else if (w.type == "float") {
    if (w.num_bits != 8) fail("{}: float weights with num_bits {} are not supported (only 8: FP8 e4m3)", where, w.num_bits);
    if (w.strategy != "block") fail("{}: float weights strategy '{}' is not supported (only block 128x128)", where, w.strategy);
    if (!w.block_structure || *w.block_structure != std::vector<int64_t>{128, 128})
      fail("{}: weights.block_structure must be [128, 128] for FP8 block weights", where);
    if (!w.symmetric) fail("{}: FP8 weights must be symmetric", where);
    if (w.group_size) fail("{}: weights.group_size must be null with strategy block", where);
    if (!s.input_activations) s.input_activations = fp8_group_activations();
    const QuantArgs& a = *s.input_activations;
    if (a.type != "float" || a.num_bits != 8 || !a.dynamic || a.strategy != "group" || a.group_size.value_or(0) != 128 || !a.symmetric)
      fail("{}: input_activations must be dynamic FP8 per-token-group 128 (the FP8_BLOCK preset)", where);
    if (s.format.empty()) s.format = "float-quantized";
    if (s.format != "float-quantized") fail("{}: format '{}' is not valid for FP8 block weights (float-quantized)", where, s.format);
  } else {
    fail("{}: weights.type '{}' is not supported (int or float)", where, w.type);
  }
}

}  // namespace mixq
