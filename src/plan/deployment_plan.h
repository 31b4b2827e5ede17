// `mixq plan`: weights per precision class and per tensor-parallel rank, KV cache, context ceiling,
// decode speed ceiling and the launch commands, for one checkpoint (or config, or recipe) on given
// hardware. Pure arithmetic over a WeightInventory; refuses (InputError) what vLLM would refuse
// as a layout (a TP size the heads or kernels cannot split). Weights or a max-model-len that do
// not fit the memory still give a whole plan, marked `fits = false`, with the problem and the
// changes that would make it fit (a shorter --max-model-len, an FP8 KV cache, more devices).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/minimax_m2_config.h"
#include "plan/decode_ceiling.h"
#include "plan/device_presets.h"
#include "plan/kv_budget.h"
#include "plan/launch_command.h"
#include "plan/tp_sharding.h"
#include "plan/weight_inventory.h"

namespace mixq {

enum class ServeTarget { Vllm, Mixq };

struct DeployOptions {
  int devices = 1;                 // tensor-parallel size (vllm); one machine's devices (mixq)
  bool expert_parallel = false;
  int devices_per_node = 0;        // 0: the device preset's (all devices, without one)
  const DevicePreset* device = nullptr;
  uint64_t device_memory = 0;      // per device; 0: the preset's; still 0: no memory budget
  uint64_t exposed_memory = 0;     // 0: device memory minus the preset's unexposed part
  double utilization = 0.9;        // vLLM's default --gpu-memory-utilization
  int64_t max_num_seqs = 1;
  int64_t max_model_len = 0;       // 0: the config's max_position_embeddings (vLLM's default)
  int64_t max_num_batched_tokens = 8192;  // vLLM V1's OpenAI-server default on large GPUs
  std::string kv_cache_dtype = "bf16";    // "bf16" | "fp8"
  double bandwidth = 0;            // bytes/s per device; 0: the preset's; still 0: no speed ceiling
  std::optional<uint64_t> runtime_reserve;     // per rank; default: the preset's, else 1.5 GiB
  std::optional<uint64_t> activation_reserve;  // per rank; default: activation_peak_bytes()
  int64_t decode_context = 0;      // context at which decode_tokens_per_s_ceiling is given
  ServeTarget target = ServeTarget::Vllm;
  std::string model_for_command;   // what the launch commands load
  std::string served_model_name;
  std::optional<bool> enforce_eager;       // default: the preset's (false without one)
  // Launch choices; empty / 0: the card's, else mixq's defaults (plan/launch_command.h).
  const LaunchCard* card = nullptr;
  std::string reasoning_parser, host, generation_override;
  int port = 0;
  // Which limits the user gave (a card that leaves them to vLLM still prints these).
  bool max_model_len_given = false, max_num_seqs_given = false, max_num_batched_tokens_given = false;
  bool explore_fit = true;  // when it does not fit, re-plan to find what would (off for those re-plans)
};

// One change that makes a plan that does not fit, fit.
struct FitOption {
  std::string change;  // "--max-model-len 223792", "--kv-cache-dtype fp8", "--devices 4"
  int64_t max_context_one_sequence = 0;  // the ceiling with that change
};

struct PrecisionRow {
  std::string kind, precision;
  int64_t count = 0;
  uint64_t bytes = 0, rank_bytes = 0;
};

struct DeployPlan {
  std::string origin;
  ParallelLayout layout;
  ShardShape shard;
  int devices = 1, nodes = 1, devices_per_node = 1;
  std::string device_name;  // preset name or "custom"
  // 1. weights
  uint64_t weights_bytes = 0, weights_bytes_per_rank = 0, file_bytes = 0;
  std::vector<PrecisionRow> rows;
  // 2. KV cache
  int kv_dtype_bytes = 2;
  int64_t max_model_len = 0, max_num_seqs = 1, max_num_batched_tokens = 0, max_position_embeddings = 0;
  uint64_t kv_bytes_per_token = 0, kv_bytes_per_token_rank = 0;
  uint64_t kv_bytes_at_max_model_len = 0, kv_bytes_at_max_num_seqs = 0;
  bool has_budget = false;
  KvBudget budget;
  int64_t max_context_one_sequence = 0, max_context_per_sequence = 0;
  bool fits = true;        // weights and one max-model-len sequence fit the memory
  std::string fit_problem; // why not, one line
  std::vector<FitOption> fit_options;
  // 3. decode
  DecodeRead read;
  double bandwidth = 0;
  int64_t decode_context = 0;
  double decode_tokens_per_s = 0, decode_tokens_per_s_at_max_model_len = 0;
  // 4. launch
  ServeTarget target = ServeTarget::Vllm;
  LaunchPlan launch;
  std::vector<std::string> notes;

  nlohmann::json to_json() const;
};

DeployPlan make_deploy_plan(const MiniMaxM2Config& cfg, const WeightInventory& inv, const DeployOptions& o);

}  // namespace mixq
