#include "plan/tp_sharding.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mixq {

ShardShape shard_shape(const MiniMaxM2Config& cfg, const ParallelLayout& p) {
  ShardShape s;
  const int64_t tp = std::max(1, p.tp);
  s.q_heads = (cfg.num_attention_heads + tp - 1) / tp;
  if (tp >= cfg.num_key_value_heads) {
    s.kv_heads = 1;
    s.kv_replicas = tp / std::max<int64_t>(1, cfg.num_key_value_heads);
  } else {
    s.kv_heads = (cfg.num_key_value_heads + tp - 1) / tp;
  }
  s.intermediate = p.expert_parallel ? cfg.intermediate_size : (cfg.intermediate_size + tp - 1) / tp;
  s.experts = p.expert_parallel ? (cfg.num_local_experts + tp - 1) / tp : cfg.num_local_experts;
  s.vocab_padded = (cfg.vocab_size + 63) / 64 * 64;
  s.vocab_rows = (s.vocab_padded + tp - 1) / tp;
  return s;
}

namespace {

// Marlin MoE / linear and FP8-block rules for one module kind at one precision.
void check_kernel(const ModuleBytes& m, const MiniMaxM2Config& cfg, const ShardShape& s, const ParallelLayout& p,
                  std::set<std::string>& out) {
  const int64_t H = cfg.hidden_size, d = cfg.head_dim;
  const ModuleKind kind = kind_of(m.role);
  const std::string where = fmt::format("{} {} at TP={}{}", kind_name(kind), m.precision, p.tp, p.expert_parallel ? " (EP)" : "");
  if (kind == ModuleKind::Expert) {
    const int64_t I = s.intermediate;  // per-rank intermediate
    if (m.stored == StoredAs::Int4Group) {
      const int64_t G = m.group_size;
      if (G != -1 && G != 32 && G != 64 && G != 128)
        out.insert(fmt::format("{}: Marlin MoE supports group sizes -1, 32, 64, 128, not {}", where, G));
      if (H % 128 != 0) out.insert(fmt::format("{}: Marlin MoE needs hidden_size % 128 == 0 (hidden {})", where, H));
      const int64_t tile = std::max<int64_t>(64, G);
      if (I % tile != 0)
        out.insert(fmt::format("{}: Marlin MoE needs intermediate per rank % {} == 0, but {}/{} = {}", where, tile,
                               cfg.intermediate_size, p.expert_parallel ? 1 : p.tp, I));
    } else if (m.stored == StoredAs::Fp8Block && !p.expert_parallel && p.tp > 1) {
      if (I % m.block_n != 0 || I % m.block_k != 0)
        out.insert(fmt::format("{}: FP8 block {}x{} needs intermediate per rank divisible by the block, but {}/{} = {}", where,
                               m.block_n, m.block_k, cfg.intermediate_size, p.tp, I));
    }
    return;
  }
  if (kind != ModuleKind::Attention) return;
  int64_t out_part = m.shape[0], in_part = m.shape[1];
  if (m.role == Role::QProj) out_part = s.q_heads * d;
  if (m.role == Role::KProj || m.role == Role::VProj) out_part = s.kv_heads * d;
  if (m.role == Role::OProj) in_part = s.q_heads * d;
  if (m.stored == StoredAs::Int4Group) {
    const int64_t G = m.group_size;
    if (out_part % 64 != 0) out.insert(fmt::format("{}: Marlin needs output per rank % 64 == 0 ({} is {})", where, role_name(m.role), out_part));
    if (in_part % 128 != 0) out.insert(fmt::format("{}: Marlin needs input per rank % 128 == 0 ({} is {})", where, role_name(m.role), in_part));
    if (G > 0 && G < in_part && in_part % G != 0)
      out.insert(fmt::format("{}: Marlin needs input per rank % group {} == 0 ({} is {})", where, G, role_name(m.role), in_part));
  } else if (m.stored == StoredAs::Fp8Block && p.tp > 1) {
    if (m.role == Role::OProj ? in_part % m.block_k != 0 : out_part % m.block_n != 0)
      out.insert(fmt::format("{}: FP8 block {}x{} needs the split dimension of {} ({}) divisible by the block", where,
                             m.block_n, m.block_k, role_name(m.role), m.role == Role::OProj ? in_part : out_part));
  }
}

}  // namespace

std::vector<std::string> tp_problems(const MiniMaxM2Config& cfg, const WeightInventory& inv, const ParallelLayout& p) {
  std::vector<std::string> v;
  const int64_t tp = p.tp;
  if (tp < 1) return {fmt::format("tensor parallel size must be >= 1, not {}", tp)};
  if (cfg.num_attention_heads % tp != 0)
    v.push_back(fmt::format("TP={} does not divide num_attention_heads={}", tp, cfg.num_attention_heads));
  const int64_t kv = cfg.num_key_value_heads;
  if (tp <= kv ? kv % tp != 0 : tp % kv != 0)
    v.push_back(fmt::format("TP={} must divide num_key_value_heads={} or be a multiple of it", tp, kv));
  if (p.expert_parallel && cfg.num_local_experts % tp != 0)
    v.push_back(fmt::format("expert parallel over {} ranks does not divide num_local_experts={}", tp, cfg.num_local_experts));
  if (!p.expert_parallel && cfg.intermediate_size % tp != 0)
    v.push_back(fmt::format("TP={} does not divide the expert intermediate_size={}", tp, cfg.intermediate_size));
  if (!v.empty()) return v;
  const ShardShape s = shard_shape(cfg, p);
  // Check each (role, precision, group) once: 96K modules reduce to a handful of classes.
  std::set<std::string> seen, out;
  for (const auto& m : inv.modules) {
    std::string key = fmt::format("{}/{}/{}", int(m.role), m.precision, m.group_size);
    if (seen.insert(key).second) check_kernel(m, cfg, s, p, out);
  }
  v.assign(out.begin(), out.end());
  return v;
}

uint64_t rank_bytes(const ModuleBytes& m, const MiniMaxM2Config& cfg, const ShardShape& s, const ParallelLayout& p) {
  const uint64_t tp = uint64_t(std::max(1, p.tp));
  auto part = [&](uint64_t num, uint64_t den) { return (m.bytes * num + den - 1) / den; };
  switch (m.role) {
    case Role::Embedding:
    case Role::LmHead:  // each rank holds vocab_rows rows (padding rows included)
      return part(uint64_t(s.vocab_rows), uint64_t(cfg.vocab_size));
    case Role::QProj:
    case Role::QNorm: return part(uint64_t(s.q_heads), uint64_t(cfg.num_attention_heads));
    case Role::KProj:
    case Role::VProj:
    case Role::KNorm: return part(uint64_t(s.kv_heads), uint64_t(cfg.num_key_value_heads));
    case Role::OProj: return part(1, tp);
    case Role::RouterGate:
    case Role::CorrectionBias: return 4 * uint64_t(shape_numel(m.shape));  // replicated, F32 in memory
    case Role::FinalNorm:
    case Role::InputNorm:
    case Role::PostAttentionNorm: return m.bytes;  // replicated
    case Role::ExpertW1:
    case Role::ExpertW2:
    case Role::ExpertW3:
      // TP: every expert split by the intermediate dim; EP: E/TP whole experts. Both 1/TP.
      return part(1, tp);
  }
  return m.bytes;
}

}  // namespace mixq
