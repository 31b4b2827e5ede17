#include "quant/quant_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "io/checkpoint.h"
#include "quant/target_match.h"
#include "util/error.h"

namespace mixq {

const char* action_name(Action a) {
  switch (a) {
    case Action::Copy: return "copy";
    case Action::Int4Pack: return "int4-pack";
    case Action::Fp8Keep: return "fp8-keep";
    case Action::Fp8ToDense: return "fp8-to-bf16";
  }
  return "?";
}

uint64_t ModuleDecision::bytes() const {
  uint64_t b = 0;
  for (const auto& s : outputs) b += s.nbytes();
  return b;
}

std::string ModuleDecision::precision() const {
  switch (action) {
    case Action::Int4Pack: return fmt::format("W4A16-g{}", outputs.at(1).shape.at(1) ? shape.at(1) / outputs.at(1).shape.at(1) : 0);
    case Action::Fp8Keep: return "FP8-block";
    case Action::Fp8ToDense: return "BF16";
    case Action::Copy: return std::string(dtype_name(outputs.at(0).dtype));
  }
  return "?";
}

std::string QuantPlan::global_format() const {
  std::set<std::string> f;
  for (const auto& g : groups) f.insert(g.format);
  if (f.empty()) return "dense";
  return f.size() == 1 ? *f.begin() : "mixed-precision";
}

nlohmann::json QuantPlan::quantization_config() const {
  nlohmann::json q;
  nlohmann::json groups_j = nlohmann::json::object();
  for (size_t i = 0; i < groups.size(); ++i) groups_j["group_" + std::to_string(i)] = groups[i].to_json();
  q["config_groups"] = groups_j;
  q["format"] = global_format();
  q["global_compression_ratio"] = nullptr;
  q["ignore"] = ignore;
  q["kv_cache_scheme"] = nullptr;
  q["quant_method"] = "compressed-tensors";
  q["quantization_status"] = "compressed";
  q["sparsity_config"] = nlohmann::json::object();
  q["transform_config"] = nlohmann::json::object();
  q["version"] = "0.13.0";  // any string loads (§1.9); the schema written is valid for every CT version
  return q;
}

nlohmann::json QuantPlan::to_json() const {
  nlohmann::json j;
  j["predicted_bytes"] = predicted_bytes;
  j["tensor_bytes"] = tensor_bytes;
  j["header_bytes"] = header_bytes;
  j["num_shards"] = num_shards;
  j["num_tensors"] = specs.size();
  j["source"] = from_checkpoint ? "checkpoint" : "config";
  j["rows"] = nlohmann::json::array();
  for (const auto& r : rows)
    j["rows"].push_back({{"kind", r.kind}, {"precision", r.precision}, {"count", r.count}, {"parameters", r.parameters}, {"bytes", r.bytes}});
  j["unmatched"] = unmatched;
  j["warnings"] = warnings;
  j["quantization_config"] = quantization_config();
  return j;
}

namespace {

struct SourceInfo {
  DType dtype = DType::BF16;  // F8_E4M3 = FP8-block weight
  Shape shape;
};

const char* class_name_of(Role r) {
  if (role_is_linear(r)) return kLinearClass;
  if (r == Role::Embedding) return "Embedding";
  if (r == Role::CorrectionBias) return "";  // a parameter, not a module
  return "MiniMaxM2RMSNorm";
}

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The greedy shard split of SafetensorsWriter (same rule: start a new shard when the next tensor
// would push a non-empty shard past max_shard_bytes); returns header bytes of every shard.
uint64_t headers_of(const std::vector<TensorSpec>& specs, uint64_t max_shard, size_t* shards) {
  std::vector<size_t> first;
  uint64_t cur = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t b = specs[i].nbytes();
    if (first.empty() || (cur > 0 && cur + b > max_shard)) { first.push_back(i); cur = 0; }
    cur += b;
  }
  if (first.empty()) first.push_back(0);
  uint64_t h = 0;
  for (size_t s = 0; s < first.size(); ++s) {
    size_t last = s + 1 < first.size() ? first[s + 1] : specs.size();
    h += SafetensorsWriter::header_bytes(specs, first[s], last, WriterOptions{}.metadata).size();
  }
  *shards = first.size();
  return h;
}

using SourceFn = std::function<SourceInfo(const ModuleEntry&)>;

QuantPlan resolve(const MiniMaxM2Config& cfg, const Recipe& recipe, const PlanOptions& opt, const SourceFn& source,
                  const std::vector<std::pair<std::string, SourceInfo>>& extras) {
  QuantPlan p;
  std::vector<TargetSet> group_targets;
  for (const auto& g : recipe.groups) group_targets.emplace_back(g.scheme.targets, recipe.source + ": config_groups." + g.name);
  TargetSet ignore(recipe.ignore, recipe.source + ": ignore");
  std::vector<bool> ignore_used(recipe.ignore.size(), false);
  std::vector<bool> group_used(recipe.groups.size(), false);
  const int64_t bn = cfg.fp8.block_n, bk = cfg.fp8.block_k;

  for (const auto& e : minimax_m2_modules(cfg)) {
    ModuleDecision d;
    d.module = e.role == Role::CorrectionBias ? e.tensor : e.module;
    d.role = e.role;
    d.layer = e.layer;
    d.expert = e.expert;
    d.linear = role_is_linear(e.role);
    d.shape = e.shape;
    SourceInfo src = source(e);
    d.source_dtype = src.dtype;
    const std::string cls = class_name_of(e.role);
    for (size_t i = 0; i < ignore.patterns().size(); ++i)
      if (ignore.patterns()[i].matches(e.module, cls)) { ignore_used[i] = true; d.ignored = true; }
    int matched = -1;
    for (size_t g = 0; g < group_targets.size(); ++g) {
      if (!group_targets[g].any(e.module, cls)) continue;
      if (matched >= 0)
        fail("{}: module '{}' is matched by two config groups ('{}' and '{}'); groups must not overlap", recipe.source, e.module,
             recipe.groups[size_t(matched)].name, recipe.groups[g].name);
      matched = int(g);
    }
    const bool fp8_src = src.dtype == DType::F8_E4M3;
    if (matched >= 0 && !d.ignored) {
      group_used[size_t(matched)] = true;
      const QuantScheme& s = recipe.groups[size_t(matched)].scheme;
      if (!d.linear) fail("{}: target of group '{}' matches '{}', which is not a Linear; only Linear weights can be quantized", recipe.source,
                          recipe.groups[size_t(matched)].name, e.module);
      if (e.role == Role::LmHead || e.role == Role::RouterGate)
        fail("{}: group '{}' matches '{}': vLLM loads lm_head and the MoE router unquantized (§7.6); add it to ignore", recipe.source,
             recipe.groups[size_t(matched)].name, e.module);
      d.recipe_group = matched;
      if (s.kind() == SchemeKind::Int4Group) {
        const int64_t G = s.group_size(), in = e.shape[1];
        if (in % G != 0 || in % 8 != 0)
          fail("{}: group '{}' has group_size {} which does not divide the input width {} of '{}'", recipe.source,
               recipe.groups[size_t(matched)].name, G, in, e.module);
        if (!fp8_src && src.dtype != DType::BF16)
          fail("{}: '{}' is {}: quantized targets must be BF16 or FP8-block (llm-compressor's math is defined on bf16)",
               recipe.source, e.module, dtype_name(src.dtype));
        d.action = Action::Int4Pack;
        d.outputs = {{e.module + ".weight_packed", DType::I32, {e.shape[0], in / 8}},
                     {e.module + ".weight_scale", DType::BF16, {e.shape[0], in / G}},
                     {e.module + ".weight_shape", DType::I64, {2}}};
      } else {
        if (!fp8_src)
          fail("{}: group '{}' asks for FP8 block weights for '{}', but the source is {}: mixq passes FP8-block weights through "
               "from an FP8 release and does not quantize to FP8", recipe.source, recipe.groups[size_t(matched)].name, e.module,
               dtype_name(src.dtype));
        d.action = Action::Fp8Keep;
      }
    } else if (d.linear && fp8_src) {
      d.unmatched = !d.ignored;
      d.action = (!d.ignored && opt.keep_fp8) ? Action::Fp8Keep : Action::Fp8ToDense;
      if (d.action == Action::Fp8ToDense) d.outputs = {{e.module + ".weight", DType::BF16, e.shape}};
    } else {
      d.unmatched = d.linear && !d.ignored;
      d.action = Action::Copy;
      d.outputs = {{e.tensor, src.dtype, src.shape}};
    }
    if (d.action == Action::Fp8Keep)
      d.outputs = {{e.module + ".weight", DType::F8_E4M3, e.shape},
                   {e.module + ".weight_scale", DType::F32, {cdiv(e.shape[0], bn), cdiv(e.shape[1], bk)}}};
    if (d.unmatched) p.unmatched.push_back(e.module);
    p.modules.push_back(std::move(d));
  }
  for (const auto& [name, info] : extras) {  // e.g. MTP layers: copied through untouched (§8.13)
    ModuleDecision d;
    d.module = name;
    d.source_dtype = info.dtype;
    d.shape = info.shape;
    d.layer = -2;
    d.outputs = {{name, info.dtype, info.shape}};
    p.modules.push_back(std::move(d));
  }
  for (size_t i = 0; i < recipe.ignore.size(); ++i)
    if (!ignore_used[i]) p.warnings.push_back(fmt::format("ignore entry '{}' matches no module of this model", recipe.ignore[i]));
  for (size_t g = 0; g < recipe.groups.size(); ++g)
    // A group that quantizes nothing is a recipe written for another model (or a typo in its
    // targets): refused, rather than writing a checkpoint that is not what the recipe says.
    if (!group_used[g])
      fail("{}: config group '{}' matches no module of this model (every target matched nothing or was ignored); fix its targets",
           recipe.source, recipe.groups[g].name);

  // vLLM requires one scheme for gate/up/down of every expert of a layer (§7.3).
  std::map<int, std::pair<Action, int>> layer_scheme;
  for (const auto& d : p.modules) {
    if (kind_of(d.role) != ModuleKind::Expert || d.layer < 0) continue;
    auto it = layer_scheme.find(d.layer);
    if (it == layer_scheme.end()) layer_scheme[d.layer] = {d.action, d.recipe_group};
    else if (it->second != std::make_pair(d.action, d.recipe_group))
      fail("{}: layer {}: experts would get different schemes (e.g. '{}' is {}); vLLM needs one scheme for all experts of a layer",
           recipe.source, d.layer, d.module, action_name(d.action));
  }

  // Config groups to write: used recipe groups, then FP8 passthrough.
  std::map<int, int> out_group;  // recipe group -> output group
  for (size_t g = 0; g < recipe.groups.size(); ++g) {
    if (!group_used[g]) continue;
    out_group[int(g)] = int(p.groups.size());
    p.groups.push_back(recipe.groups[g].scheme);
  }
  // MoE probe names: every layer whose experts are INT4 must be found by vLLM's probe
  // "<L>.mlp.experts.0.gate_proj"; every other layer's probes must be ignored.
  std::map<int, std::vector<int>> int4_layers_by_group;
  for (const auto& [layer, sch] : layer_scheme)
    if (sch.first == Action::Int4Pack) int4_layers_by_group[out_group.at(sch.second)].push_back(layer);
  for (auto& [g, layers] : int4_layers_by_group) {
    auto& t = p.groups[size_t(g)].targets;
    if (int4_layers_by_group.size() == 1) {
      if (std::find(t.begin(), t.end(), kMoeProbeTarget) == t.end()) t.push_back(kMoeProbeTarget);
    } else {
      std::string alt;
      for (int l : layers) alt += (alt.empty() ? "" : "|") + std::to_string(l);
      t.push_back(fmt::format("re:.*layers\\.({})\\.mlp\\.experts\\.\\d+\\.(gate|up|down)_proj$", alt));
    }
  }
  std::vector<std::string> keep_targets;
  bool all_attention_kept = true, any_kept = false;
  for (const auto& d : p.modules) {
    if (kind_of(d.role) == ModuleKind::Attention && d.layer >= 0 && !(d.action == Action::Fp8Keep && d.recipe_group < 0)) all_attention_kept = false;
    if (d.action == Action::Fp8Keep && d.recipe_group < 0) { any_kept = true; keep_targets.push_back(d.module); }
  }
  if (any_kept) {
    std::vector<std::string> t;
    std::set<int> expert_layers;
    for (const auto& name : keep_targets) {
      bool attn = name.find(".self_attn.") != std::string::npos;
      if (attn && all_attention_kept) continue;
      t.push_back(name);
    }
    if (all_attention_kept) t.insert(t.begin(), "re:.*self_attn\\.(q|k|v|o)_proj$");
    for (const auto& d : p.modules)
      if (d.action == Action::Fp8Keep && d.recipe_group < 0 && kind_of(d.role) == ModuleKind::Expert) expert_layers.insert(d.layer);
    for (int l : expert_layers)
      for (const char* pr : {"gate_proj", "up_proj", "down_proj"}) t.push_back(fmt::format("model.layers.{}.mlp.experts.0.{}", l, pr));
    for (const auto& g : p.groups)
      for (const auto& x : g.targets)
        if (std::find(t.begin(), t.end(), x) != t.end()) fail("internal: FP8 passthrough target '{}' already in a group", x);
    p.groups.push_back(fp8_block_passthrough_scheme(std::move(t)));
  }
  for (auto& d : p.modules) {
    if (d.recipe_group >= 0) d.group = out_group.at(d.recipe_group);
    else if (d.action == Action::Fp8Keep) d.group = int(p.groups.size()) - 1;
  }
  // ignore: every unquantized Linear (full names), plus MoE probe names of unquantized layers.
  for (const auto& d : p.modules)
    if (d.linear && d.group < 0) p.ignore.push_back(d.module);
  if (!int4_layers_by_group.empty())
    for (const auto& [layer, sch] : layer_scheme)
      if (sch.first != Action::Int4Pack && sch.first != Action::Fp8Keep)
        for (const char* pr : {"gate_proj", "up_proj", "down_proj"}) p.ignore.push_back(fmt::format("model.layers.{}.mlp.experts.0.{}", layer, pr));

  // Sizes.
  std::map<std::pair<std::string, std::string>, PlanRow> rows;
  for (const auto& d : p.modules) {
    for (const auto& s : d.outputs) p.specs.push_back(s);
    std::string kind = d.layer == -2 ? "extra" : kind_name(kind_of(d.role));
    auto& r = rows[{kind, d.precision()}];
    r.kind = kind;
    r.precision = d.precision();
    r.count += 1;
    r.parameters += shape_numel(d.shape);
    r.bytes += d.bytes();
    p.tensor_bytes += d.bytes();
  }
  for (auto& [k, r] : rows) p.rows.push_back(r);
  p.header_bytes = headers_of(p.specs, opt.max_shard_bytes, &p.num_shards);
  p.predicted_bytes = p.tensor_bytes + p.header_bytes;
  return p;
}

}  // namespace

QuantPlan plan_quantization(const MiniMaxM2Config& cfg, const Recipe& recipe, const PlanOptions& opt) {
  const bool fp8 = cfg.quant == CheckpointQuant::Fp8Block;
  if (cfg.quant == CheckpointQuant::CompressedTensors) fail("the model is already a compressed-tensors checkpoint; quantize its BF16 or FP8 source");
  auto not_converted = [&](const std::string& module) {
    auto dot = module.rfind('.');
    std::string last = dot == std::string::npos ? module : module.substr(dot + 1);
    for (const auto& m : cfg.fp8.modules_to_not_convert)
      if (m == last || m == module) return true;
    return false;
  };
  DType hp = cfg.torch_dtype == "float16" ? DType::F16 : cfg.torch_dtype == "float32" ? DType::F32 : DType::BF16;
  auto source = [&](const ModuleEntry& e) {
    SourceInfo s;
    s.shape = e.shape;
    const bool router = e.role == Role::RouterGate || e.role == Role::CorrectionBias;
    if (opt.source_dtype) s.dtype = *opt.source_dtype;
    else if (fp8 && role_is_linear(e.role) && !not_converted(e.module) && e.role != Role::LmHead) s.dtype = DType::F8_E4M3;
    else if (router) s.dtype = DType::F32;  // MiniMax keeps the router gate and its bias in F32
    else s.dtype = hp;
    return s;
  };
  QuantPlan p = resolve(cfg, recipe, opt, source, {});
  p.from_checkpoint = false;
  return p;
}

QuantPlan plan_quantization(const Checkpoint& ck, const MiniMaxM2Config& cfg, const Recipe& recipe, const PlanOptions& opt) {
  std::set<std::string> known;
  auto source = [&](const ModuleEntry& e) {
    SourceInfo s;
    known.insert(e.tensor);
    if (!ck.has(e.tensor)) {
      if (ck.has(e.module + ".weight_packed")) fail("{}: '{}' is already quantized; quantize the BF16 or FP8 source", ck.dir(), e.module);
      fail("{}: tensor '{}' is missing", ck.dir(), e.tensor);
    }
    const auto& info = ck.info(e.tensor);
    s.dtype = info.dtype;
    s.shape = info.shape;
    if (info.shape != e.shape) fail("{}: '{}' has shape {}, the config implies {}", ck.dir(), e.tensor, shape_str(info.shape), shape_str(e.shape));
    if (info.dtype == DType::F8_E4M3) {
      std::string sc = e.module + ".weight_scale_inv";
      if (!ck.has(sc)) fail("{}: FP8 weight '{}' has no '{}'", ck.dir(), e.tensor, sc);
      known.insert(sc);
      Shape want{cdiv(e.shape[0], cfg.fp8.block_n), cdiv(e.shape[1], cfg.fp8.block_k)};
      if (ck.info(sc).shape != want || ck.info(sc).dtype != DType::F32)
        fail("{}: '{}' must be F32 {}", ck.dir(), sc, shape_str(want));
    } else if (!dtype_is_float(info.dtype)) {
      fail("{}: '{}' has dtype {}, expected a float type", ck.dir(), e.tensor, dtype_name(info.dtype));
    }
    return s;
  };
  // Resolve once to learn the known names, then gather extras (tensors outside the table).
  for (const auto& e : minimax_m2_modules(cfg)) source(e);
  std::vector<std::pair<std::string, SourceInfo>> extras;
  for (const auto& n : ck.names())
    if (!known.count(n)) {
      auto l = layer_index_of(n);
      if (!l || *l < cfg.num_hidden_layers) fail("{}: unexpected tensor '{}' (not part of MiniMax-M2)", ck.dir(), n);
      extras.push_back({n, {ck.info(n).dtype, ck.info(n).shape}});
    }
  QuantPlan p = resolve(cfg, recipe, opt, source, extras);
  p.from_checkpoint = true;
  return p;
}

}  // namespace mixq
