// KV cache size and the memory budget that decides the context ceiling, modelled on vLLM's
// start-up profiling (gpu_worker.determine_available_memory):
//   kv_memory = exposed * gpu_memory_utilization - weights - activation peak - runtime reserve
// per rank, then the KV cache holds floor(kv_memory / (block_size * kv_bytes_per_token_per_rank))
// blocks of block_size tokens. One sequence can use every block; S sequences share them.
#pragma once
#include <cstdint>

#include "model/minimax_m2_config.h"
#include "plan/tp_sharding.h"

namespace mixq {

// K and V for every layer: 2 x layers x kv_heads x head_dim x dtype bytes (253,952 for MiniMax-M2 BF16).
uint64_t kv_bytes_per_token(const MiniMaxM2Config& cfg, int dtype_bytes);
// The same for one rank (kv heads split by TP, at least one head, replicated past kv_heads).
uint64_t kv_bytes_per_token_rank(const MiniMaxM2Config& cfg, const ShardShape& s, int dtype_bytes);

// vLLM's profile run: one forward of max_num_batched_tokens tokens plus a sampler pass over
// max_num_seqs rows of full-vocabulary logits. Estimated as the sum of the live tensors (hidden,
// residual, qkv, attention out, fp32 router logits, fused-MoE intermediate caches for a chunk of
// at most 32768 tokens, and 5 fp32 [seqs, vocab] sampler buffers) — an upper bound on the peak.
uint64_t activation_peak_bytes(const MiniMaxM2Config& cfg, const ShardShape& s, int64_t max_num_batched_tokens,
                               int64_t max_num_seqs);

struct KvBudget {
  uint64_t exposed = 0;          // device memory the runtime reports
  double utilization = 0.9;
  uint64_t usable = 0;           // floor(exposed * utilization)
  uint64_t weights = 0;          // per rank
  uint64_t activation = 0;       // per rank
  uint64_t runtime_reserve = 0;  // per rank
  int64_t kv_memory = 0;         // per rank; negative: the weights do not fit
  uint64_t kv_per_token_rank = 0;
  int64_t block_size = 16;
  int64_t blocks = 0;            // KV blocks per rank (same on every rank)
  int64_t tokens() const { return blocks * block_size; }
  // Longest context one of S concurrent sequences can reach when all S are that long.
  int64_t tokens_per_sequence(int64_t seqs) const { return seqs > 0 ? blocks / seqs * block_size : 0; }
};

KvBudget kv_budget(uint64_t exposed, double utilization, uint64_t weights_rank, uint64_t activation, uint64_t runtime_reserve,
                   uint64_t kv_per_token_rank, int64_t block_size = 16);

}  // namespace mixq
