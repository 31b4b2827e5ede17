#include "plan/decode_ceiling.h"

namespace mixq {

DecodeRead decode_read_per_rank(const MiniMaxM2Config& cfg, const WeightInventory& inv, const ShardShape& s,
                                const ParallelLayout& p, uint64_t kv_per_token_rank) {
  DecodeRead r;
  r.kv_per_context_token = kv_per_token_rank;
  // Expert bytes are summed exactly and scaled by k/E at the end (integer math: sum * k / E).
  unsigned __int128 experts = 0;
  for (const auto& m : inv.modules) {
    const uint64_t b = rank_bytes(m, cfg, s, p);
    switch (kind_of(m.role)) {
      case ModuleKind::Attention:
      case ModuleKind::QkNorm: r.attention += b; break;
      case ModuleKind::Norm: r.norms += b; break;
      case ModuleKind::Router:
      case ModuleKind::RouterBias: r.router += b; break;
      case ModuleKind::Expert: experts += b; break;
      case ModuleKind::LmHead: r.lm_head += b; break;
      case ModuleKind::Embedding: r.embedding += m.bytes / uint64_t(cfg.vocab_size); break;  // one row
    }
  }
  r.experts = uint64_t(experts * uint64_t(cfg.num_experts_per_tok) / uint64_t(cfg.num_local_experts));
  return r;
}

}  // namespace mixq
