// Per precision class accounting (module kind x storage: count, parameters, bytes) for
// `mixq inspect`, computed from a checkpoint on disk or predicted from a config alone.
#pragma once
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"

namespace mixq {

struct PrecisionClass {
  std::string kind;     // kind_name(): "experts", "attention", ...
  std::string storage;  // "BF16", "F32", "FP8-block", "W4A16-g32"
  int64_t count = 0;       // modules (Linears) or tensors (norms, bias, embedding)
  int64_t parameters = 0;  // logical weight elements (scales are bytes, not parameters)
  uint64_t bytes = 0;      // every stored byte, scales included
};

struct ModelSummary {
  std::vector<PrecisionClass> classes;  // sorted by kind then storage
  int64_t total_parameters = 0, active_parameters = 0;
  uint64_t total_bytes = 0;
  ParamCounts counts;
};

ModelSummary summarize_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg);  // needs a conformant ck
ModelSummary summarize_config(const MiniMaxM2Config& cfg);  // storage implied by quantization_config

void add_to_summary(ModelSummary& s, const std::string& kind, const std::string& storage, int64_t params, uint64_t bytes);

}  // namespace mixq
