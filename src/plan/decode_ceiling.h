// The physical decode limit: one decoded token (batch 1) makes every rank read its share of the
// attention weights, the replicated router and norms, its share of the k active experts of every
// layer (k/E of the expert bytes, expected), its vocabulary slice of lm_head, one embedding row
// and the KV of the context so far. Ranks read in parallel, so
//   tokens/s <= per-device bandwidth / bytes one rank reads per token.
// Interconnect (all-reduce) time and kernel efficiency are not modelled: real engines reach
// ~50-65% of this at short context (landscape.md §2.0).
#pragma once
#include <cstdint>

#include "model/minimax_m2_config.h"
#include "plan/tp_sharding.h"
#include "plan/weight_inventory.h"

namespace mixq {

struct DecodeRead {  // bytes one rank reads per decoded token, by part
  uint64_t attention = 0, norms = 0, router = 0, experts = 0, lm_head = 0, embedding = 0;
  uint64_t kv_per_context_token = 0;  // per rank
  uint64_t weights() const { return attention + norms + router + experts + lm_head + embedding; }
  uint64_t at_context(int64_t ctx) const { return weights() + kv_per_context_token * uint64_t(ctx); }
};

DecodeRead decode_read_per_rank(const MiniMaxM2Config& cfg, const WeightInventory& inv, const ShardShape& s,
                                const ParallelLayout& p, uint64_t kv_per_token_rank);

inline double decode_tokens_per_s(const DecodeRead& r, int64_t ctx, double bandwidth) {
  return bandwidth > 0 ? bandwidth / double(r.at_context(ctx)) : 0.0;
}

}  // namespace mixq
