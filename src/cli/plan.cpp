// mixq plan --model DIR | --config FILE [--recipe R [--recipe-override O]...] --devices N --device-memory 128GiB
//           --gpu-memory-utilization 0.92 --max-num-seqs S --max-model-len L --kv-cache-dtype bf16|fp8
//           [--device PRESET] [--bandwidth 256GB/s|PRESET] [--target vllm|mixq] [--json]
// Weights per precision class and per TP rank, KV cache, context ceiling, decode speed ceiling and
// the vLLM + Ray / mixq launch commands. The arithmetic lives in src/plan/ (docs/plan.md).
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "plan/deployment_plan.h"
#include "plan/launch_card.h"
#include "plan/plan_report.h"
#include "plan/recipe_inventory.h"
#include "plan/size_parse.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string model, config, recipe, source_dtype = "auto";
  std::vector<std::string> recipe_overrides;
  int devices = 1, devices_per_node = 0;
  std::string device, device_memory, exposed_memory;
  double utilization = 0.9;
  int64_t max_num_seqs = 1, max_model_len = 0, max_num_batched_tokens = 8192, decode_context = 0;
  std::string kv_cache_dtype = "bf16";
  std::string bandwidth, runtime_reserve, activation_reserve, target = "vllm";
  std::string model_path, served_model_name, enforce_eager = "auto", reasoning_parser, launch_from_card = "auto";
  std::string host, generation_override;
  int port = 0;
  bool expert_parallel = false, json = false;
};

// (0, 1]: vLLM refuses 0 and more than all of the memory.
const CLI::Validator kFraction(
    [](std::string& s) -> std::string {
      double v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size() || !(v > 0 && v <= 1)) return "must be a number in (0, 1], not '" + s + "'";
      return {};
    },
    "FLOAT in (0, 1]");

// A JSON object, as vLLM's --override-generation-config takes.
const CLI::Validator kJsonObject(
    [](std::string& s) -> std::string {
      auto j = nlohmann::json::parse(s, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return "must be a JSON object like '{\"temperature\": 0.2}', not '" + s + "'";
      return {};
    },
    "JSON");

bool command_exists(const std::string& name) {
  for (const auto& c : mixq::cli::registry())
    if (c.name == name) return true;
  return false;
}

mixq::cli::RunFn setup(CLI::App& app) {
  using Big = int64_t;
  constexpr Big kMaxTokens = Big(1) << 40;
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Checkpoint directory: sizes from its tensors");
  app.add_option("--config", o->config, "config.json alone: sizes implied by its quantization_config");
  app.add_option("--recipe", o->recipe, "llm-compressor recipe YAML: sizes the checkpoint it would produce");
  app.add_option("--recipe-override", o->recipe_overrides,
                 "YAML merged into the recipe, as for mixq quantize (e.g. recipes/overrides/strix-2h-tiny-depth.yaml); "
                 "repeatable, applied in order");
  app.add_option("--source-dtype", o->source_dtype, "With --config --recipe: dtype of the source's high-precision tensors")
      ->check(CLI::IsMember({"auto", "bf16", "fp8"}));
  app.add_option("--devices", o->devices, "Devices (tensor-parallel size for vllm); default 1")->check(CLI::Range(1, 4096));
  app.add_option("--devices-per-node", o->devices_per_node,
                 "Devices per machine (default: the preset's: all of them in one machine for GPUs, 1 for APU boxes)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--device", o->device, "Device preset: " + mixq::device_preset_names());
  app.add_option("--device-memory", o->device_memory, "Memory per device, e.g. 128GiB, 80GB");
  app.add_option("--exposed-memory", o->exposed_memory, "Memory the runtime reports per device (default: device memory, less the OS share on unified presets)");
  app.add_option("--gpu-memory-utilization", o->utilization, "vLLM's fraction of device memory; default 0.9 (a card's with one)")
      ->check(kFraction);
  app.add_option("--max-num-seqs", o->max_num_seqs, "Concurrent sequences; default 1 (a card's with one)")->check(CLI::Range(Big(1), kMaxTokens));
  app.add_option("--max-model-len", o->max_model_len, "Context per sequence; default: max_position_embeddings (a card's with one)")
      ->check(CLI::Range(Big(1), kMaxTokens));
  app.add_option("--max-num-batched-tokens", o->max_num_batched_tokens, "Tokens per scheduler step (prefill chunk); default 8192 (a card's with one)")
      ->check(CLI::Range(Big(1), kMaxTokens));
  app.add_option("--kv-cache-dtype", o->kv_cache_dtype, "bf16 or fp8; default bf16")->check(CLI::IsMember({"bf16", "fp8"}));
  app.add_option("--bandwidth", o->bandwidth, "Memory bandwidth per device, e.g. 256GB/s, or a device preset name");
  app.add_option("--runtime-reserve", o->runtime_reserve, "Per-rank non-torch + graph memory (default: the preset's, else 1.5GiB)");
  app.add_option("--activation-reserve", o->activation_reserve, "Per-rank activation peak (default: estimated from the batch limits)");
  app.add_option("--decode-context", o->decode_context, "Context length for the decode ceiling; default 0")->check(CLI::Range(Big(0), kMaxTokens));
  app.add_option("--target", o->target, "vllm (default) or mixq")->check(CLI::IsMember({"vllm", "mixq"}));
  app.add_flag("--expert-parallel", o->expert_parallel, "Split experts whole across ranks (vLLM --enable-expert-parallel)");
  app.add_option("--model-path", o->model_path, "Model path or hub id to put in the launch commands");
  app.add_option("--served-model-name", o->served_model_name, "Served model name (default: the card's, else derived from the model/recipe name)");
  app.add_option("--enforce-eager", o->enforce_eager, "auto (the preset's: yes on strix-halo), yes or no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  app.add_option("--launch-from-card", o->launch_from_card,
                 "Launch flags and environment of a published deployment (" + mixq::launch_card_names() +
                     "), none for mixq's defaults; auto (default): the card of the --recipe, on its platform")
      ->check(CLI::IsMember({"auto", "none", "strix-2h", "frankenquant"}));
  app.add_option("--reasoning-parser", o->reasoning_parser, "vLLM reasoning parser (default: the card's, else minimax_m2)")
      ->check(CLI::IsMember({"minimax_m2", "minimax_m2_append_think"}));
  app.add_option("--override-generation-config", o->generation_override,
                 "Server-side sampling defaults, JSON (default: the card's, else MiniMax's recommended)")
      ->check(kJsonObject);
  app.add_option("--host", o->host, "Address the server binds (default: the card's, else 0.0.0.0)");
  app.add_option("--port", o->port, "Port the server listens on (default: the card's, else 8000)")->check(CLI::Range(1, 65535));
  app.add_flag("--json", o->json, "Machine-readable output");
  return [o, &app]() -> int {
    using namespace mixq;
    if (o->model.empty() == o->config.empty()) fail("plan: give exactly one of --model DIR or --config FILE");
    auto given = [&](const char* flag) { return app.count(flag) > 0; };
    DeployOptions d;
    d.devices = o->devices;
    d.devices_per_node = o->devices_per_node;
    if (!o->device.empty()) {
      d.device = find_device_preset(o->device);
      if (!d.device) fail("--device: unknown preset '{}' (known: {})", o->device, device_preset_names());
    }
    if (!o->device_memory.empty()) d.device_memory = parse_size(o->device_memory, "--device-memory");
    if (!o->exposed_memory.empty()) d.exposed_memory = parse_size(o->exposed_memory, "--exposed-memory");
    if (!o->bandwidth.empty()) {
      if (const DevicePreset* bp = find_device_preset(o->bandwidth)) {
        d.bandwidth = bp->bandwidth;
        if (!d.device) d.device = bp;  // a preset names the device: its memory exposure and reserve apply too
      }
      else if (o->bandwidth.find("/s") != std::string::npos) d.bandwidth = parse_bandwidth(o->bandwidth, "--bandwidth");
      else fail("--bandwidth: '{}' is neither a rate like 256GB/s nor a device preset ({})", o->bandwidth, device_preset_names());
    }
    // The published card whose launch flags to print: named, or the one of this recipe on its platform.
    if (o->launch_from_card == "auto") {
      const LaunchCard* c = o->recipe.empty() ? nullptr : launch_card_for_recipe(o->recipe);
      if (c && (!d.device || d.device->platform == c->platform)) d.card = c;
    } else if (o->launch_from_card != "none") {
      d.card = find_launch_card(o->launch_from_card);
    }
    const LaunchCard* card = d.card;
    // Plan inputs: the user's, else the card's, else mixq's defaults.
    d.utilization = !given("--gpu-memory-utilization") && card && card->utilization > 0 ? card->utilization : o->utilization;
    d.max_model_len = given("--max-model-len") ? o->max_model_len : card ? card->max_model_len : 0;
    d.max_num_seqs = !given("--max-num-seqs") && card && card->max_num_seqs ? card->max_num_seqs : o->max_num_seqs;
    d.max_num_batched_tokens = !given("--max-num-batched-tokens") && card && card->max_num_batched_tokens
                                   ? card->max_num_batched_tokens
                                   : o->max_num_batched_tokens;
    d.max_model_len_given = given("--max-model-len");
    d.max_num_seqs_given = given("--max-num-seqs");
    d.max_num_batched_tokens_given = given("--max-num-batched-tokens");
    d.kv_cache_dtype = o->kv_cache_dtype;
    if (!o->runtime_reserve.empty()) d.runtime_reserve = o->runtime_reserve == "0" ? 0 : parse_size(o->runtime_reserve, "--runtime-reserve");
    if (!o->activation_reserve.empty())
      d.activation_reserve = o->activation_reserve == "0" ? 0 : parse_size(o->activation_reserve, "--activation-reserve");
    d.decode_context = o->decode_context;
    d.target = o->target == "mixq" ? ServeTarget::Mixq : ServeTarget::Vllm;
    d.expert_parallel = o->expert_parallel;
    if (o->enforce_eager == "yes") d.enforce_eager = true;
    else if (o->enforce_eager == "no") d.enforce_eager = false;
    d.reasoning_parser = o->reasoning_parser;
    d.host = o->host;
    d.port = o->port;
    d.generation_override = o->generation_override;
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
    // A card's context is for its model; a smaller model (e.g. the bundled tiny one) keeps its own.
    if (!d.max_model_len_given && d.max_model_len > cfg.max_position_embeddings) d.max_model_len = 0;
    if (!o->recipe_overrides.empty() && o->recipe.empty()) fail("--recipe-override needs --recipe");
    if (!o->recipe.empty())
      inv = inventory_from_recipe(cfg, ck ? &*ck : nullptr, o->recipe, source, o->recipe_overrides);
    else if (ck) inv = inventory_from_checkpoint(*ck, cfg);
    else inv = inventory_from_config(cfg, source);

    d.model_for_command = !o->model_path.empty()           ? o->model_path
                          : !o->model.empty()                ? o->model
                          : card && !card->model.empty()     ? card->model
                                                             : "<checkpoint dir>";
    d.served_model_name = !o->served_model_name.empty()             ? o->served_model_name
                          : card && !card->served_model_name.empty() ? card->served_model_name
                          : !o->model.empty()                        ? served_name_from(o->model)
                          : !o->recipe.empty()                       ? served_name_from(o->recipe)
                                                                     : std::string();
    DeployPlan p = make_deploy_plan(cfg, inv, d);
    if (o->json) std::cout << p.to_json().dump(2) << "\n";
    else std::cout << format_plan_report(p, command_exists("serve"));
    std::cout.flush();
    if (!p.fits) {
      // The whole plan is printed above; the exit status and this line say it cannot run as asked.
      std::string opts;
      for (const auto& f : p.fit_options) opts += (opts.empty() ? "" : ", or ") + f.change;
      std::fprintf(stderr, "mixq: plan: %s%s\n", p.fit_problem.c_str(), opts.empty() ? "" : ("; would fit with " + opts).c_str());
      return 1;
    }
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("plan", "Memory, KV cache, context ceiling, decode ceiling and vLLM/Ray launch commands for a checkpoint on given hardware", setup);
