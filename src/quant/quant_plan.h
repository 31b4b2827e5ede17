// The quantization plan: a recipe resolved against a MiniMax-M2 model (a checkpoint on disk, or a
// config.json alone) into one decision per module and the exact list of output tensors, so sizes
// are predicted before a byte is written (`mixq quantize --dry-run`, `mixq plan`).
//
// Decisions (compressed-tensors-awq.md §1.6, §1.7, §4.3, §7):
//   Int4Pack    matched by a W4A16 group, not ignored: weight_packed/weight_scale/weight_shape
//   Fp8Keep     FP8-block source weight kept bit-exact (weight_scale_inv renamed weight_scale),
//               described by a float-quantized FP8_BLOCK group (an FP8_BLOCK recipe group, or
//               passthrough of an unmatched, un-ignored FP8 Linear when keep_fp8 is on)
//   Fp8ToDense  FP8-block source dequantized block by block to BF16 (ignored, or keep_fp8 off)
//   Copy        written as in the source, bit-exact (norms, bias, embeddings, BF16/F32 Linears)
// Every Linear that is not quantized is named in the output `ignore` list (full names, never
// regexes), as llm-compressor does; a recipe's ignore regexes are not copied.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "quant/quant_args.h"
#include "quant/recipe.h"

namespace mixq {

class Checkpoint;

enum class Action { Copy, Int4Pack, Fp8Keep, Fp8ToDense };
const char* action_name(Action a);  // "copy", "int4-pack", "fp8-keep", "fp8-to-bf16"

struct ModuleDecision {
  std::string module;     // module name; for non-Linear tensors (norms, bias) the tensor name
  Role role = Role::InputNorm;
  int layer = -1, expert = -1;
  bool linear = false;
  Shape shape;            // logical shape ([out, in] for Linears)
  DType source_dtype = DType::BF16;  // F8_E4M3 for an FP8-block source weight
  int recipe_group = -1;  // index into Recipe::groups that matched (-1: none)
  int group = -1;         // index into QuantPlan::groups written to config.json (-1: unquantized)
  bool ignored = false;   // a recipe ignore entry matched
  bool unmatched = false; // a Linear neither matched by a target nor ignored
  Action action = Action::Copy;
  std::vector<TensorSpec> outputs;  // tensors written for this module, in order
  uint64_t bytes() const;
  std::string precision() const;  // "W4A16-g32", "FP8-block", "BF16", "F32"
};

struct PlanOptions {
  // Keep FP8-block Linears that no target matches and no ignore names as FP8 (mixed-precision
  // file). Off: dequantize them to BF16. Ignored FP8 Linears are always dequantized (vLLM loads
  // an ignored layer as an unquantized BF16 weight).
  bool keep_fp8 = true;
  // Config-only planning: pretend the source's high-precision tensors all have this dtype
  // (e.g. BF16 for a BF16 re-release such as amd/MiniMax-M2.7-BF16, whose Linears are BF16 too).
  // nullopt: the storage implied by the config (FP8 release: FP8 Linears, F32 router gate/bias).
  std::optional<DType> source_dtype;
  uint64_t max_shard_bytes = 5'000'000'000ull;
};

struct PlanRow {  // one line of the printed plan: module kind x precision
  std::string kind, precision;
  int64_t count = 0, parameters = 0;
  uint64_t bytes = 0;
};

struct QuantPlan {
  std::vector<ModuleDecision> modules;   // tensor-table order = output order
  std::vector<QuantScheme> groups;       // config_groups to write ("group_0", ...)
  std::vector<std::string> ignore;       // quantization_config.ignore to write
  std::vector<std::string> unmatched;    // Linears neither matched nor ignored (reported)
  std::vector<std::string> warnings;     // e.g. ignore entries that match nothing
  std::vector<PlanRow> rows;             // per kind x precision, sorted
  std::vector<TensorSpec> specs;         // every output tensor, in write order
  uint64_t tensor_bytes = 0;             // sum of tensor data
  uint64_t header_bytes = 0;             // safetensors headers (8-byte length + JSON) of all shards
  uint64_t predicted_bytes = 0;          // tensor_bytes + header_bytes = the size of the shards on disk
  size_t num_shards = 0;
  bool from_checkpoint = false;
  std::string global_format() const;     // single group's format, or "mixed-precision"
  nlohmann::json quantization_config() const;  // the config.json block (§1.2, §9)
  nlohmann::json to_json() const;              // the dry-run report (has "predicted_bytes")
};

// Resolves against the config alone (dtypes implied by the config / options).
QuantPlan plan_quantization(const MiniMaxM2Config& cfg, const Recipe& recipe, const PlanOptions& opt);
// Resolves against a checkpoint: dtypes are read from the files (source_dtype is ignored).
QuantPlan plan_quantization(const Checkpoint& ck, const MiniMaxM2Config& cfg, const Recipe& recipe, const PlanOptions& opt);

// The regex vLLM's MoE probe names need (§7.3, §8.4).
inline const char* kMoeProbeTarget = "re:.*mlp\\.experts\\.\\d+\\.(gate|up|down)_proj$";

}  // namespace mixq
