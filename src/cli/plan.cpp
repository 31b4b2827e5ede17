// mixq plan --model DIR | --config FILE [--recipe R [--recipe-override O]...] --devices N --device-memory 128GiB
//           --gpu-memory-utilization 0.92 --max-num-seqs S --max-model-len L --kv-cache-dtype bf16|fp8
//           [--device PRESET] [--bandwidth 256GB/s|PRESET] [--target vllm|mixq] [--json]
// Weights per precision class and per TP rank, KV cache, context ceiling, decode speed ceiling and
// the vLLM + Ray / mixq launch commands. The arithmetic lives in src/plan/ (docs/plan.md).
#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "plan/deployment_plan.h"
#include "plan/plan_report.h"
#include "plan/recipe_inventory.h"
#include "plan/size_parse.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string model, config, recipe, source_dtype = "auto";
  std::vector<std::string> recipe_overrides;
  std::string devices = "1", devices_per_node, device, device_memory, exposed_memory, utilization = "0.9";
  std::string max_num_seqs = "1", max_model_len, max_num_batched_tokens = "8192", kv_cache_dtype = "bf16";
  std::string bandwidth, runtime_reserve, activation_reserve, decode_context = "0", target = "vllm";
  std::string model_path, served_model_name, enforce_eager = "auto", reasoning_parser = "minimax_m2";
  bool expert_parallel = false, json = false;
};

int64_t parse_int(const std::string& s, const char* what, int64_t lo) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) mixq::fail("{}: '{}' is not an integer", what, s);
  if (v < lo) mixq::fail("{}: {} must be at least {}", what, v, lo);
  return v;
}

double parse_fraction(const std::string& s, const char* what) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) mixq::fail("{}: '{}' is not a number", what, s);
  return v;
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Checkpoint directory: sizes from its tensors");
  app.add_option("--config", o->config, "config.json alone: sizes implied by its quantization_config");
  app.add_option("--recipe", o->recipe, "llm-compressor recipe YAML: sizes the checkpoint it would produce");
  app.add_option("--recipe-override", o->recipe_overrides,
                 "YAML merged into the recipe, as for mixq quantize (e.g. recipes/overrides/strix-2h-tiny-depth.yaml); "
                 "repeatable, applied in order");
  app.add_option("--source-dtype", o->source_dtype, "With --config --recipe: dtype of the source's high-precision tensors (auto|bf16|fp8)");
  app.add_option("--devices", o->devices, "Devices (tensor-parallel size for vllm); default 1");
  app.add_option("--devices-per-node", o->devices_per_node, "Devices per machine (default: the preset's, else all of them)");
  app.add_option("--device", o->device, "Device preset: " + mixq::device_preset_names());
  app.add_option("--device-memory", o->device_memory, "Memory per device, e.g. 128GiB, 80GB");
  app.add_option("--exposed-memory", o->exposed_memory, "Memory the runtime reports per device (default: device memory, less the OS share on unified presets)");
  app.add_option("--gpu-memory-utilization", o->utilization, "vLLM's fraction of device memory; default 0.9");
  app.add_option("--max-num-seqs", o->max_num_seqs, "Concurrent sequences; default 1");
  app.add_option("--max-model-len", o->max_model_len, "Context per sequence; default: max_position_embeddings");
  app.add_option("--max-num-batched-tokens", o->max_num_batched_tokens, "Tokens per scheduler step (prefill chunk); default 8192");
  app.add_option("--kv-cache-dtype", o->kv_cache_dtype, "bf16 or fp8; default bf16");
  app.add_option("--bandwidth", o->bandwidth, "Memory bandwidth per device, e.g. 256GB/s, or a device preset name");
  app.add_option("--runtime-reserve", o->runtime_reserve, "Per-rank non-torch + graph memory (default: the preset's, else 1.5GiB)");
  app.add_option("--activation-reserve", o->activation_reserve, "Per-rank activation peak (default: estimated from the batch limits)");
  app.add_option("--decode-context", o->decode_context, "Context length for the decode ceiling; default 0");
  app.add_option("--target", o->target, "vllm (default) or mixq");
  app.add_flag("--expert-parallel", o->expert_parallel, "Split experts whole across ranks (vLLM --enable-expert-parallel)");
  app.add_option("--model-path", o->model_path, "Model path or hub id to put in the launch commands");
  app.add_option("--served-model-name", o->served_model_name, "Served model name (default: derived from the model/recipe name)");
  app.add_option("--enforce-eager", o->enforce_eager, "auto (the preset's: yes on strix-halo), yes or no");
  app.add_option("--reasoning-parser", o->reasoning_parser, "vLLM reasoning parser; default minimax_m2");
  app.add_flag("--json", o->json, "Machine-readable output");
  return [o]() -> int {
    using namespace mixq;
    if (o->model.empty() == o->config.empty()) fail("plan: give exactly one of --model DIR or --config FILE");
    DeployOptions d;
    d.devices = int(parse_int(o->devices, "--devices", 1));
    if (!o->devices_per_node.empty()) d.devices_per_node = int(parse_int(o->devices_per_node, "--devices-per-node", 1));
    if (!o->device.empty()) {
      d.device = find_device_preset(o->device);
      if (!d.device) fail("--device: unknown preset '{}' (known: {})", o->device, device_preset_names());
    }
    if (!o->device_memory.empty()) d.device_memory = parse_size(o->device_memory, "--device-memory");
    if (!o->exposed_memory.empty()) d.exposed_memory = parse_size(o->exposed_memory, "--exposed-memory");
    d.utilization = parse_fraction(o->utilization, "--gpu-memory-utilization");
    d.max_num_seqs = parse_int(o->max_num_seqs, "--max-num-seqs", 1);
    if (!o->max_model_len.empty()) d.max_model_len = parse_int(o->max_model_len, "--max-model-len", 1);
    d.max_num_batched_tokens = parse_int(o->max_num_batched_tokens, "--max-num-batched-tokens", 1);
    d.kv_cache_dtype = o->kv_cache_dtype;
    if (!o->bandwidth.empty()) {
      if (const DevicePreset* bp = find_device_preset(o->bandwidth)) {
        d.bandwidth = bp->bandwidth;
        if (!d.device) d.device = bp;  // a preset names the device: its memory exposure and reserve apply too
      }
      else if (o->bandwidth.find("/s") != std::string::npos) d.bandwidth = parse_bandwidth(o->bandwidth, "--bandwidth");
      else fail("--bandwidth: '{}' is neither a rate like 256GB/s nor a device preset ({})", o->bandwidth, device_preset_names());
    }
    if (!o->runtime_reserve.empty()) d.runtime_reserve = o->runtime_reserve == "0" ? 0 : parse_size(o->runtime_reserve, "--runtime-reserve");
    if (!o->activation_reserve.empty())
      d.activation_reserve = o->activation_reserve == "0" ? 0 : parse_size(o->activation_reserve, "--activation-reserve");
    d.decode_context = parse_int(o->decode_context, "--decode-context", 0);
    if (o->target == "vllm") d.target = ServeTarget::Vllm;
    else if (o->target == "mixq") d.target = ServeTarget::Mixq;
    else fail("--target must be vllm or mixq, not '{}'", o->target);
    d.expert_parallel = o->expert_parallel;
    if (o->enforce_eager == "yes") d.enforce_eager = true;
    else if (o->enforce_eager == "no") d.enforce_eager = false;
    else if (o->enforce_eager != "auto") fail("--enforce-eager must be auto, yes or no, not '{}'", o->enforce_eager);
    if (o->reasoning_parser != "minimax_m2" && o->reasoning_parser != "minimax_m2_append_think")
      fail("--reasoning-parser must be minimax_m2 or minimax_m2_append_think, not '{}'", o->reasoning_parser);
    d.reasoning_parser = o->reasoning_parser;
    std::optional<DType> source;
    if (o->source_dtype == "bf16") source = DType::BF16;
    else if (o->source_dtype != "auto" && o->source_dtype != "fp8")
      fail("--source-dtype must be auto, bf16 or fp8, not '{}'", o->source_dtype);

    MiniMaxM2Config cfg;
    WeightInventory inv;
    std::optional<Checkpoint> ck;
    if (!o->model.empty()) {
      ck.emplace(o->model);
      if (!ck->has_config()) fail("{}: no config.json", o->model);
      cfg = load_minimax_m2_config(ck->config_path());
    } else {
      cfg = load_minimax_m2_config(o->config);
    }
    if (!o->recipe_overrides.empty() && o->recipe.empty()) fail("--recipe-override needs --recipe");
    if (!o->recipe.empty())
      inv = inventory_from_recipe(cfg, ck ? &*ck : nullptr, o->recipe, source, o->recipe_overrides);
    else if (ck) inv = inventory_from_checkpoint(*ck, cfg);
    else inv = inventory_from_config(cfg, source);

    d.model_for_command = !o->model_path.empty() ? o->model_path : !o->model.empty() ? o->model : "<checkpoint dir>";
    d.served_model_name = !o->served_model_name.empty() ? o->served_model_name
                          : !o->model.empty()          ? served_name_from(o->model)
                          : !o->recipe.empty()         ? served_name_from(o->recipe)
                                                       : std::string();
    DeployPlan p = make_deploy_plan(cfg, inv, d);
    if (o->json) std::cout << p.to_json().dump(2) << "\n";
    else std::cout << format_plan_report(p);
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("plan", "Memory, KV cache, context ceiling, decode ceiling and vLLM/Ray launch commands for a checkpoint on given hardware", setup);
