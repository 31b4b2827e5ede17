#include "model/tensor_table.h"

#include <fmt/format.h>

#include <cstdlib>

namespace mixq {

const char* role_name(Role r) {
  switch (r) {
    case Role::Embedding: return "embedding";
    case Role::LmHead: return "lm_head";
    case Role::FinalNorm: return "final_norm";
    case Role::InputNorm: return "input_norm";
    case Role::PostAttentionNorm: return "post_attention_norm";
    case Role::QProj: return "q_proj";
    case Role::KProj: return "k_proj";
    case Role::VProj: return "v_proj";
    case Role::OProj: return "o_proj";
    case Role::QNorm: return "q_norm";
    case Role::KNorm: return "k_norm";
    case Role::RouterGate: return "router_gate";
    case Role::CorrectionBias: return "correction_bias";
    case Role::ExpertW1: return "expert_w1_gate";
    case Role::ExpertW2: return "expert_w2_down";
    case Role::ExpertW3: return "expert_w3_up";
  }
  return "?";
}

ModuleKind kind_of(Role r) {
  switch (r) {
    case Role::Embedding: return ModuleKind::Embedding;
    case Role::LmHead: return ModuleKind::LmHead;
    case Role::FinalNorm: case Role::InputNorm: case Role::PostAttentionNorm: return ModuleKind::Norm;
    case Role::QNorm: case Role::KNorm: return ModuleKind::QkNorm;
    case Role::QProj: case Role::KProj: case Role::VProj: case Role::OProj: return ModuleKind::Attention;
    case Role::RouterGate: return ModuleKind::Router;
    case Role::CorrectionBias: return ModuleKind::RouterBias;
    case Role::ExpertW1: case Role::ExpertW2: case Role::ExpertW3: return ModuleKind::Expert;
  }
  return ModuleKind::Norm;
}

const char* kind_name(ModuleKind k) {
  switch (k) {
    case ModuleKind::Embedding: return "embedding";
    case ModuleKind::LmHead: return "lm_head";
    case ModuleKind::Norm: return "norm";
    case ModuleKind::QkNorm: return "qk_norm";
    case ModuleKind::Attention: return "attention";
    case ModuleKind::Router: return "router_gate";
    case ModuleKind::RouterBias: return "router_bias";
    case ModuleKind::Expert: return "experts";
  }
  return "?";
}

bool role_is_linear(Role r) {
  ModuleKind k = kind_of(r);
  return k == ModuleKind::Attention || k == ModuleKind::Expert || k == ModuleKind::Router || k == ModuleKind::LmHead;
}

namespace names {
std::string layer(int l) { return fmt::format("model.layers.{}", l); }
std::string expert(int l, int e, int w) { return fmt::format("model.layers.{}.block_sparse_moe.experts.{}.w{}", l, e, w); }
std::string attn(int l, const char* proj) { return fmt::format("model.layers.{}.self_attn.{}", l, proj); }
std::string router_gate(int l) { return fmt::format("model.layers.{}.block_sparse_moe.gate", l); }
std::string correction_bias(int l) { return fmt::format("model.layers.{}.block_sparse_moe.e_score_correction_bias", l); }
std::string input_norm(int l) { return fmt::format("model.layers.{}.input_layernorm", l); }
std::string post_attention_norm(int l) { return fmt::format("model.layers.{}.post_attention_layernorm", l); }
}  // namespace names

std::vector<ModuleEntry> minimax_m2_modules(const MiniMaxM2Config& c) {
  std::vector<ModuleEntry> v;
  const int64_t H = c.hidden_size, Q = c.q_width(), KV = c.kv_width(), I = c.intermediate_size, E = c.num_local_experts;
  auto add = [&](std::string module, Role r, int l, int e, Shape s, bool bias = false) {
    std::string t = bias ? module : module + ".weight";
    v.push_back({std::move(module), std::move(t), r, l, e, std::move(s)});
  };
  v.reserve(size_t(3 + c.num_hidden_layers * (10 + 3 * E)));
  add(names::kEmbed, Role::Embedding, -1, -1, {c.vocab_size, H});
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    add(names::input_norm(l), Role::InputNorm, l, -1, {H});
    add(names::attn(l, "q_proj"), Role::QProj, l, -1, {Q, H});
    add(names::attn(l, "k_proj"), Role::KProj, l, -1, {KV, H});
    add(names::attn(l, "v_proj"), Role::VProj, l, -1, {KV, H});
    add(names::attn(l, "o_proj"), Role::OProj, l, -1, {H, Q});
    if (c.use_qk_norm) {
      add(names::attn(l, "q_norm"), Role::QNorm, l, -1, {Q});
      add(names::attn(l, "k_norm"), Role::KNorm, l, -1, {KV});
    }
    add(names::post_attention_norm(l), Role::PostAttentionNorm, l, -1, {H});
    add(names::router_gate(l), Role::RouterGate, l, -1, {E, H});
    if (c.use_routing_bias) add(names::correction_bias(l), Role::CorrectionBias, l, -1, {E}, true);
    for (int e = 0; e < int(E); ++e) {
      add(names::expert(l, e, 1), Role::ExpertW1, l, e, {I, H});
      add(names::expert(l, e, 2), Role::ExpertW2, l, e, {H, I});
      add(names::expert(l, e, 3), Role::ExpertW3, l, e, {I, H});
    }
  }
  add(names::kFinalNorm, Role::FinalNorm, -1, -1, {H});
  if (!c.tie_word_embeddings) add(names::kLmHead, Role::LmHead, -1, -1, {c.vocab_size, H});
  return v;
}

std::optional<int> layer_index_of(const std::string& n) {
  static const std::string p = "model.layers.";
  if (n.compare(0, p.size(), p) != 0) return std::nullopt;
  size_t i = p.size(), j = i;
  while (j < n.size() && n[j] >= '0' && n[j] <= '9') ++j;
  if (j == i || j - i > 9 || (j < n.size() && n[j] != '.')) return std::nullopt;
  return std::atoi(n.substr(i, j - i).c_str());
}

ParamCounts count_parameters(const MiniMaxM2Config& c) {
  ParamCounts p;
  const int64_t H = c.hidden_size, Q = c.q_width(), KV = c.kv_width(), I = c.intermediate_size, E = c.num_local_experts;
  p.embed = c.vocab_size * H;
  p.lm_head = c.tie_word_embeddings ? 0 : c.vocab_size * H;
  p.attention_per_layer = Q * H + 2 * KV * H + H * Q;
  p.per_expert = 3 * I * H;
  int64_t norms = 2 * H + (c.use_qk_norm ? Q + KV : 0);
  int64_t router = E * H + (c.use_routing_bias ? E : 0);
  p.per_layer = p.attention_per_layer + norms + router + E * p.per_expert;
  p.total = p.embed + p.lm_head + H + c.num_hidden_layers * p.per_layer;
  p.active = c.num_hidden_layers * (p.attention_per_layer + norms + router + c.num_experts_per_tok * p.per_expert);
  return p;
}

}  // namespace mixq
