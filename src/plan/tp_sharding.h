// How vLLM shards MiniMax-M2 across tensor-parallel ranks, and which TP sizes its kernels accept.
//   q_proj / q_norm     column-parallel: num_attention_heads / TP heads per rank
//   k_proj, v_proj, k_norm  num_kv_heads / TP per rank; TP > kv heads -> 1 head, replicated
//   o_proj              row-parallel: input split by TP
//   experts (TP)        FusedMoE: intermediate split, w13 [E, 2I/TP, H], w2 [E, H, I/TP]
//   experts (EP)        --enable-expert-parallel: E/TP whole experts per rank
//   embed / lm_head     vocab-parallel: vocab padded to a multiple of 64, split by TP
//   norms, router gate, correction bias   replicated; the gate is held in F32 (params_dtype=float32)
// Kernel shape rules (compressed-tensors-awq.md §7.3, §7.5): Marlin MoE needs hidden % 128 == 0 and
// (I/TP) % max(64, G) == 0 with G in {-1, 32, 64, 128}; Marlin linear needs out/part % 64 and
// in/part % 128 and % G; FP8-block needs every split dimension a multiple of the block.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/minimax_m2_config.h"
#include "plan/weight_inventory.h"

namespace mixq {

struct ParallelLayout {
  int tp = 1;
  bool expert_parallel = false;  // experts split whole across ranks instead of by intermediate dim
};

struct ShardShape {
  int64_t q_heads = 0, kv_heads = 0, kv_replicas = 1;  // per rank
  int64_t intermediate = 0;  // per-rank expert intermediate width (I/TP, or I under EP)
  int64_t experts = 0;       // experts held per rank (E, or E/TP under EP)
  int64_t vocab_padded = 0, vocab_rows = 0;  // padded vocabulary; rows per rank
};

// Per-rank shape; call tp_problems first (this rounds up where vLLM would refuse).
ShardShape shard_shape(const MiniMaxM2Config& cfg, const ParallelLayout& p);

// Every reason vLLM would refuse to load this inventory at this layout (empty: servable).
std::vector<std::string> tp_problems(const MiniMaxM2Config& cfg, const WeightInventory& inv, const ParallelLayout& p);

// Bytes rank 0 holds for one module in vLLM's memory (every rank holds the same, up to vocab
// padding; EP assumes the stored precision is the same for every expert of a layer).
uint64_t rank_bytes(const ModuleBytes& m, const MiniMaxM2Config& cfg, const ShardShape& s, const ParallelLayout& p);

}  // namespace mixq
