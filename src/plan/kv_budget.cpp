#include "plan/kv_budget.h"

#include <algorithm>
#include <cmath>

namespace mixq {

uint64_t kv_bytes_per_token(const MiniMaxM2Config& cfg, int dtype_bytes) {
  return 2ull * uint64_t(cfg.num_hidden_layers) * uint64_t(cfg.num_key_value_heads) * uint64_t(cfg.head_dim) * uint64_t(dtype_bytes);
}

uint64_t kv_bytes_per_token_rank(const MiniMaxM2Config& cfg, const ShardShape& s, int dtype_bytes) {
  return 2ull * uint64_t(cfg.num_hidden_layers) * uint64_t(s.kv_heads) * uint64_t(cfg.head_dim) * uint64_t(dtype_bytes);
}

uint64_t activation_peak_bytes(const MiniMaxM2Config& cfg, const ShardShape& s, int64_t max_num_batched_tokens,
                               int64_t max_num_seqs) {
  const uint64_t T = uint64_t(std::max<int64_t>(1, max_num_batched_tokens));
  const uint64_t H = uint64_t(cfg.hidden_size), d = uint64_t(cfg.head_dim), k = uint64_t(cfg.num_experts_per_tok);
  const uint64_t E = uint64_t(cfg.num_local_experts), I = uint64_t(s.intermediate);
  const uint64_t chunk = std::min<uint64_t>(T, 32768);  // VLLM_FUSED_MOE_CHUNK_SIZE
  uint64_t b = 0;
  b += 3 * T * H * 2;                                   // hidden, residual, normed input (bf16)
  b += T * uint64_t(s.q_heads + 2 * s.kv_heads) * d * 2;  // fused qkv
  b += T * uint64_t(s.q_heads) * d * 2;                 // attention output
  b += T * E * 4 + T * k * 8;                           // fp32 router logits, top-k weights + ids
  b += chunk * k * std::max(2 * I, H) * 2;              // fused-MoE cache for w13 out / w2 out
  b += chunk * k * I * 2;                               // fused-MoE activation (silu(gate) * up)
  b += T * H * 2;                                       // MoE output
  const uint64_t seqs = uint64_t(std::clamp<int64_t>(max_num_seqs, 1, int64_t(T)));
  b += 5 * seqs * uint64_t(cfg.vocab_size) * 4;         // sampler: logits, probs, sorted, indices
  return b;
}

KvBudget kv_budget(uint64_t exposed, double utilization, uint64_t weights_rank, uint64_t activation, uint64_t runtime_reserve,
                   uint64_t kv_per_token_rank, int64_t block_size) {
  KvBudget b;
  b.exposed = exposed;
  b.utilization = utilization;
  b.usable = uint64_t(std::floor(double(exposed) * utilization));
  b.weights = weights_rank;
  b.activation = activation;
  b.runtime_reserve = runtime_reserve;
  b.kv_memory = int64_t(b.usable) - int64_t(weights_rank) - int64_t(activation) - int64_t(runtime_reserve);
  b.kv_per_token_rank = kv_per_token_rank;
  b.block_size = block_size;
  const int64_t block_bytes = int64_t(kv_per_token_rank) * block_size;
  b.blocks = b.kv_memory > 0 && block_bytes > 0 ? b.kv_memory / block_bytes : 0;
  return b;
}

}  // namespace mixq
