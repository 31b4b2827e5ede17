// What `mixq plan` knows about each module's storage: one row per tensor-table entry with its
// precision and stored bytes. Built from a config alone (storage implied by quantization_config),
// from a checkpoint on disk (bytes of the actual tensors) or from a quantization plan (recipe).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"

namespace mixq {

enum class StoredAs { Dense, Fp8Block, Int4Group };

struct ModuleBytes {
  std::string module;
  Role role = Role::InputNorm;
  int layer = -1, expert = -1;
  Shape shape;                 // logical ([out, in] for Linears)
  StoredAs stored = StoredAs::Dense;
  std::string precision;       // "BF16", "F32", "FP8-block", "W4A16-g32"
  uint64_t bytes = 0;          // every stored byte of the module (scales included)
  int64_t group_size = 0;      // Int4Group
  int64_t block_n = 0, block_k = 0;  // Fp8Block
};

struct WeightInventory {
  std::string origin;  // "config", "checkpoint", "recipe"
  std::vector<ModuleBytes> modules;
  uint64_t file_bytes = 0;  // on-disk size of the shards when known (headers included), else 0
  uint64_t total_bytes() const;
};

// Config alone: FP8-block release -> FP8 Linears (+F32 block scales), F32 router gate and bias,
// BF16 everything else; no quantization_config -> BF16 (bias F32). `source` overrides the dtype of
// every high-precision tensor (e.g. BF16 for a BF16 re-release). A compressed-tensors config
// cannot be sized without its tensors: InputError pointing at --model.
WeightInventory inventory_from_config(const MiniMaxM2Config& cfg, std::optional<DType> source = std::nullopt);
// A conformant checkpoint: the bytes of the tensors actually stored.
WeightInventory inventory_from_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg);

}  // namespace mixq
