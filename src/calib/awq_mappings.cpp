#include "calib/awq_mappings.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "model/tensor_table.h"
#include "quant/target_match.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/log.h"

namespace mixq::calib {

namespace {

const char* kNormClass = "MiniMaxM2RMSNorm";

// compressed_tensors.utils.get_lowest_common_ancestor_name: the longest common dotted prefix of
// min(names) and max(names) (empty names list -> "").
std::string lca_name(const std::string& a, const std::string& b) {
  const std::string& lo = std::min(a, b);
  const std::string& hi = std::max(a, b);
  const std::string s1 = "." + lo + ".", s2 = "." + hi + ".";
  size_t n = 0;
  while (n < s1.size() && n < s2.size() && s1[n] == s2[n]) ++n;
  const std::string cp = s1.substr(0, n);
  const size_t dot = cp.rfind('.');
  return dot == 0 || dot == std::string::npos ? std::string() : cp.substr(1, dot - 1);
}

std::string lca_of(const std::vector<std::string>& names) {
  if (names.empty()) return {};
  return lca_name(*std::min_element(names.begin(), names.end()), *std::max_element(names.begin(), names.end()));
}

std::string join(const std::vector<std::string>& v, size_t limit = 4) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < limit; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > limit) s += fmt::format(", ... ({} in all)", v.size());
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string describe_mapping(const AwqMapping& m) {
  std::string s = "smooth_layer " + m.smooth_layer + " -> balance_layers [";
  for (size_t i = 0; i < m.balance_layers.size(); ++i) s += (i ? ", " : "") + m.balance_layers[i];
  return s + "]";
}

std::vector<AwqModule> minimax_m2_awq_modules(const MiniMaxM2Config& c, const QuantPlan& plan) {
  std::unordered_map<std::string, const ModuleDecision*> dec;
  for (const auto& d : plan.modules) dec[d.module] = &d;
  std::vector<AwqModule> v;
  auto add = [&](std::string name, const char* cls, int64_t out = 0, int64_t in = 0) {
    AwqModule m;
    m.name = std::move(name);
    m.class_name = cls;
    m.out = out;
    m.in = in;
    if (auto it = dec.find(m.name); it != dec.end()) {
      const ModuleDecision& d = *it->second;
      m.has_scheme = d.recipe_group >= 0 && !d.ignored;
      m.int4 = d.action == Action::Int4Pack;
      if (m.int4) m.group = in / d.outputs[1].shape[1];
      m.writable = m.int4 || (d.action == Action::Copy && dtype_is_float(d.source_dtype));
    }
    v.push_back(std::move(m));
  };
  const int64_t H = c.hidden_size, Q = c.q_width(), KV = c.kv_width(), I = c.intermediate_size;
  add("", "MiniMaxM2ForCausalLM");
  add("model", "MiniMaxM2Model");
  add(names::kEmbed, "Embedding");
  add("model.layers", "ModuleList");
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    // MiniMaxM2DecoderLayer.__init__ order: self_attn, block_sparse_moe, input_layernorm,
    // post_attention_layernorm (every module of layer l precedes layer l + 1, which is what the
    // set grouping depends on).
    add(names::layer(l), "MiniMaxM2DecoderLayer");
    add(names::layer(l) + ".self_attn", "MiniMaxM2Attention");
    add(names::attn(l, "q_proj"), kLinearClass, Q, H);
    add(names::attn(l, "k_proj"), kLinearClass, KV, H);
    add(names::attn(l, "v_proj"), kLinearClass, KV, H);
    add(names::attn(l, "o_proj"), kLinearClass, H, Q);
    if (c.use_qk_norm) {
      add(names::attn(l, "q_norm"), kNormClass);
      add(names::attn(l, "k_norm"), kNormClass);
    }
    add(names::layer(l) + ".block_sparse_moe", "MiniMaxM2SparseMoeBlock");
    add(names::router_gate(l), kLinearClass, c.num_local_experts, H);
    add(names::layer(l) + ".block_sparse_moe.experts", "ModuleList");
    for (int e = 0; e < int(c.num_local_experts); ++e) {
      add(fmt::format("{}.block_sparse_moe.experts.{}", names::layer(l), e), "MiniMaxM2MLP");
      add(names::expert(l, e, 1), kLinearClass, I, H);
      add(names::expert(l, e, 2), kLinearClass, H, I);
      add(names::expert(l, e, 3), kLinearClass, I, H);
      add(fmt::format("{}.block_sparse_moe.experts.{}.act_fn", names::layer(l), e), "SiLU");
    }
    add(names::input_norm(l), kNormClass);
    add(names::post_attention_norm(l), kNormClass);
  }
  add(names::kFinalNorm, kNormClass);
  add("model.rotary_emb", "MiniMaxM2RotaryEmbedding");
  if (!c.tie_word_embeddings) add(names::kLmHead, kLinearClass, c.vocab_size, H);
  return v;
}

std::vector<ResolvedAwqMapping> resolve_awq_mappings(std::span<const AwqModule> modules,
                                                     std::span<const AwqMapping> mappings, const std::string& where) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < modules.size(); ++i) index[modules[i].name] = i;
  std::vector<ResolvedAwqMapping> out;
  for (size_t mi = 0; mi < mappings.size(); ++mi) {
    const AwqMapping& m = mappings[mi];
    const std::string what = fmt::format("{}: mappings[{}] ({})", where, mi, describe_mapping(m));
    if (m.balance_layers.empty()) fail("{}: no balance_layers", what);
    std::vector<TargetPattern> pats;
    pats.emplace_back(m.smooth_layer, what);
    for (const auto& b : m.balance_layers) pats.emplace_back(b, what);
    const size_t T = pats.size();

    // match_modules_set: sets close when every pattern has a match and a new match needs a wider
    // parent context than the current one.
    std::vector<std::vector<std::vector<size_t>>> sets;
    std::vector<std::vector<size_t>> matches(T);
    bool have_ctx = false;
    std::string ctx;
    std::set<size_t> unmatched;
    for (size_t t = 0; t < T; ++t) unmatched.insert(t);
    for (size_t i = 0; i < modules.size(); ++i) {
      const AwqModule& mod = modules[i];
      int hits = 0;
      for (size_t t = 0; t < T; ++t) {
        if (!pats[t].matches(mod.name, mod.class_name)) continue;
        std::string new_ctx = have_ctx ? lca_name(mod.name, ctx) : mod.name;
        if (unmatched.empty() && new_ctx != ctx) {
          sets.push_back(std::move(matches));
          matches.assign(T, {});
          new_ctx = mod.name;
          for (size_t u = 0; u < T; ++u) unmatched.insert(u);
        }
        matches[t].push_back(i);
        ctx = new_ctx;
        have_ctx = true;
        unmatched.erase(t);
        ++hits;
      }
      if (hits > 1) fail("{}: module '{}' is matched by {} patterns of the mapping", what, mod.name, hits);
    }
    if (unmatched.size() == T) {
      MIXQ_INFO("awq: {} matches no module; nothing to smooth for it", what);
      continue;
    }
    if (!unmatched.empty()) {
      std::vector<std::string> missing;
      for (size_t t : unmatched) missing.push_back(pats[t].text());
      fail("{}: a final incomplete set: no match for {} (llm-compressor raises here too)", what, join(missing));
    }
    sets.push_back(std::move(matches));

    int incompatible = 0;
    std::vector<std::string> untargeted;  // smooth layers of skipped sets (logged once per mapping)
    for (auto& s : sets) {
      ResolvedAwqMapping r;
      r.mapping = int(mi);
      if (s[0].size() != 1) {
        std::vector<std::string> n;
        for (size_t i : s[0]) n.push_back(modules[i].name);
        fail("{}: AWQ needs one smooth layer per set, got {}", what, join(n));
      }
      const AwqModule& sm = modules[s[0][0]];
      r.smooth = sm.name;
      bool targeted = sm.has_scheme, compatible = true;
      for (size_t t = 1; t < T; ++t)
        for (size_t i : s[t]) {
          const AwqModule& b = modules[i];
          r.balance.push_back(b.name);
          targeted |= b.has_scheme;
          // GQA: v_proj -> o_proj with v.out != o.in is skipped (_check_layers_are_compatible).
          if (sm.class_name == kLinearClass && b.class_name == kLinearClass && ends_with(b.name, ".o_proj") &&
              ends_with(sm.name, ".v_proj") && sm.out != b.in)
            compatible = false;
        }
      if (!compatible) {
        ++incompatible;
        r.skipped = true;
        r.skip_reason = "incompatible balance layers (v_proj -> o_proj shapes)";
        out.push_back(std::move(r));
        continue;
      }
      if (!targeted) {
        r.skipped = true;
        r.skip_reason = "no layers are targeted for quantization";
        untargeted.push_back(r.smooth);
        out.push_back(std::move(r));
        continue;
      }
      // Parent: lowest common ancestor of the balance layers, moving up past ModuleLists.
      std::string anc = lca_of(r.balance);
      while (!anc.empty()) {
        auto it = index.find(anc);
        if (it == index.end() || modules[it->second].class_name != "ModuleList") break;
        const size_t dot = anc.rfind('.');
        anc = dot == std::string::npos ? std::string() : anc.substr(0, dot);
      }
      r.parent = anc;
      if (!m.activation_hook_target.empty()) {
        r.hook = r.parent.empty() ? m.activation_hook_target : r.parent + "." + m.activation_hook_target;
        if (!index.count(r.hook))
          fail("{}: activation_hook_target '{}' not found on parent module '{}'", what, m.activation_hook_target, r.parent);
      }
      out.push_back(std::move(r));
    }
    if (!untargeted.empty())
      MIXQ_INFO("awq: {}: skipping {} set(s), no layers are targeted for quantization: smooth layer {}{}", what,
                untargeted.size(), untargeted.front(), untargeted.size() > 1 ? " .. " + untargeted.back() : "");
    if (incompatible > 0)
      MIXQ_INFO("awq: {}: {} set(s) skipped for incompatible shapes (v_proj -> o_proj under GQA)", what, incompatible);
  }
  return out;
}

bool AwqLayerPlan::any() const {
  if (norm >= 0) return true;
  for (int i : w3_w2)
    if (i >= 0) return true;
  return false;
}

AwqPlan plan_awq_layers(const MiniMaxM2Config& c, const QuantPlan& qp, const Recipe& recipe) {
  const std::vector<AwqModule> mods = minimax_m2_awq_modules(c, qp);
  std::unordered_map<std::string, const AwqModule*> by_name;
  for (const auto& m : mods) by_name[m.name] = &m;
  AwqPlan p;
  p.resolved = resolve_awq_mappings(mods, recipe.awq.mappings, recipe.source);
  const int64_t E = c.num_local_experts;
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    AwqLayerPlan lp;
    lp.layer = l;
    lp.w1_q.assign(size_t(E), 0);
    lp.w3_q.assign(size_t(E), 0);
    lp.w2_q.assign(size_t(E), 0);
    lp.w3_w2.assign(size_t(E), -1);
    for (int e = 0; e < int(E); ++e) {
      lp.w1_q[size_t(e)] = by_name.at(names::expert(l, e, 1))->int4;
      lp.w3_q[size_t(e)] = by_name.at(names::expert(l, e, 3))->int4;
      lp.w2_q[size_t(e)] = by_name.at(names::expert(l, e, 2))->int4;
    }
    p.layers.push_back(std::move(lp));
  }

  std::set<std::string> smoothed;
  for (size_t ri = 0; ri < p.resolved.size(); ++ri) {
    const ResolvedAwqMapping& r = p.resolved[ri];
    if (r.skipped) continue;
    const AwqMapping& m = recipe.awq.mappings[size_t(r.mapping)];
    const std::string what = fmt::format("{}: mappings[{}] ({}), set {} -> [{}]", recipe.source, r.mapping,
                                         describe_mapping(m), r.smooth, join(r.balance));
    if (!smoothed.insert(r.smooth).second)
      fail("{}: '{}' is the smooth layer of two mappings; llm-compressor keys its statistics by smooth layer", what,
           r.smooth);
    for (const auto& b : r.balance) {
      const AwqModule& bm = *by_name.at(b);
      if (bm.class_name != kLinearClass)
        fail("{}: balance layer '{}' is a {}, not a Linear; only Linear weights can absorb the scales", what, b,
             bm.class_name);
      if (bm.has_scheme && !bm.int4)
        fail("{}: balance layer '{}' has a non-W4 scheme (FP8); the grid search here quantizes W4 groups only", what, b);
      if (!bm.writable)
        fail("{}: balance layer '{}' is written from its FP8 source without a smoothing hook; it cannot absorb the "
             "scales (quantize it, or dequantize the source to BF16 first)", what, b);
    }
    const auto l = layer_index_of(r.smooth);
    if (ends_with(r.smooth, ".w1") && l)
      fail("{}: {} feeds w2 through SiLU(w1 x) * (w3 x); scaling w1's rows is not function-preserving (use w3 -> w2)",
           what, r.smooth);
    const bool supported_parent = l && (r.smooth == names::post_attention_norm(*l) || ends_with(r.smooth, ".w3"));
    if (!supported_parent)
      fail("{}: mixq's AWQ pipeline runs the MoE mappings only (post_attention_layernorm -> experts' w1/w3 [+ gate], "
           "experts.N.w3 -> experts.N.w2); this set has layers targeted for quantization, so it cannot be skipped",
           what);
    AwqLayerPlan& lp = p.layers[size_t(*l)];
    if (r.smooth == names::post_attention_norm(*l)) {
      // Every consumer of the norm output must be balanced, or smoothing changes the function; the
      // router gate may be left out (the published recipes do; router compensation adds it back).
      std::set<std::string> want;
      for (int e = 0; e < int(E); ++e) {
        want.insert(names::expert(*l, e, 1));
        want.insert(names::expert(*l, e, 3));
      }
      std::vector<std::string> experts_order;
      for (const auto& b : r.balance) {
        if (b == names::router_gate(*l)) {
          lp.gate_in_recipe = true;
        } else if (want.count(b)) {
          experts_order.push_back(b);
        } else {
          fail("{}: '{}' does not read the output of {}; a norm mapping balances the router gate and the experts' "
               "w1/w3 of its layer only", what, b, r.smooth);
        }
      }
      std::vector<std::string> expect;
      for (int w : {1, 3})
        for (int e = 0; e < int(E); ++e) expect.push_back(names::expert(*l, e, w));
      if (experts_order != expect) {
        std::vector<std::string> missing;
        for (const auto& n : expect)
          if (std::find(experts_order.begin(), experts_order.end(), n) == experts_order.end()) missing.push_back(n);
        if (!missing.empty())
          fail("{}: smoothing {} divides the input of {}, which the mapping does not balance (the model would change)",
               what, r.smooth, join(missing));
        fail("{}: mixq pools w_mean in the order all experts' w1, then all experts' w3 (the published recipes' "
             "order); list the w1 pattern before the w3 pattern", what);
      }
      if (!r.hook.empty() && r.hook != names::router_gate(*l) && !want.count(r.hook))
        fail("{}: activation_hook_target resolves to '{}'; mixq takes x_mean at the norm output (the input of the "
             "gate and of every expert's w1/w3)", what, r.hook);
      lp.norm = int(ri);
      for (int e = 0; e < int(E); ++e)
        if (lp.w3_w2[size_t(e)] >= 0)
          fail("{}: the w3 -> w2 mapping of '{}' comes before this norm mapping in the recipe; mixq applies the norm "
               "mapping first (llm-compressor applies in recipe order)", what, names::expert(*l, e, 3));
      continue;
    }
    // experts.e.w3 -> experts.e.w2
    int e = -1;
    for (int k = 0; k < int(E); ++k)
      if (r.smooth == names::expert(*l, k, 3)) e = k;
    if (e < 0) fail("{}: '{}' is not an expert's w3 of this model", what, r.smooth);
    if (r.balance != std::vector<std::string>{names::expert(*l, e, 2)})
      fail("{}: the output of {} feeds {} only; its mapping must balance exactly that Linear", what, r.smooth,
           names::expert(*l, e, 2));
    if (!r.hook.empty() && r.hook != names::expert(*l, e, 2))
      fail("{}: activation_hook_target resolves to '{}', not the w2 input", what, r.hook);
    if (!by_name.at(r.smooth)->writable)
      fail("{}: smooth layer '{}' is written from its FP8 source without a smoothing hook", what, r.smooth);
    lp.w3_w2[size_t(e)] = int(ri);
  }
  // One group size per layer: the pipeline runs one search configuration per layer.
  for (auto& lp : p.layers) {
    int64_t group = 0;
    for (int e = 0; e < int(E); ++e)
      for (int w : {1, 3, 2}) {
        const bool used = w == 2 ? lp.w3_w2[size_t(e)] >= 0 : lp.norm >= 0;
        const AwqModule& bm = *by_name.at(names::expert(lp.layer, e, w));
        if (!used || !bm.int4) continue;
        if (group && bm.group != group)
          fail("{}: layer {}'s AWQ balance layers have different group sizes ({} and {} at {}); mixq searches one "
               "group size per layer", recipe.source, lp.layer, group, bm.group, bm.name);
        group = bm.group;
      }
    if (group) lp.group = group;
  }
  // A norm mapping needs its smooth layer (the norm) written through the transform too.
  for (const auto& lp : p.layers)
    if (lp.norm >= 0 && !by_name.at(names::post_attention_norm(lp.layer))->writable)
      fail("{}: {} cannot be written smoothed (not a float tensor)", recipe.source, names::post_attention_norm(lp.layer));
  return p;
}

}  // namespace mixq::calib
