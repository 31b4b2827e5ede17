#include "quant/ct_validate.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "quant/quant_args.h"
#include "quant/target_match.h"
#include "quant/quantize_job.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/sha256.h"

namespace mixq {

size_t ValidationReport::errors() const {
  size_t n = 0;
  for (const auto& f : findings) n += f.severity == ValidationFinding::Error;
  return n;
}

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Group {
  std::string name;
  QuantScheme scheme;
  bool valid = false;
};

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Validator {
  std::string dir;
  ValidationReport rep;
  std::vector<Group> groups;
  std::vector<std::pair<std::string, int>> target_order;  // vLLM target_scheme_map: target -> group
  std::vector<std::string> ignore;
  std::vector<TargetPattern> ignore_pats;

  void err(const std::string& w, std::string m) { rep.findings.push_back({ValidationFinding::Error, w, std::move(m)}); }
  void warn(const std::string& w, std::string m) { rep.findings.push_back({ValidationFinding::Warning, w, std::move(m)}); }
  void info(const std::string& w, std::string m) { rep.findings.push_back({ValidationFinding::Info, w, std::move(m)}); }

  // ---- quantization_config ----
  void check_args_keys(const json& a, const std::string& where) {
    static const std::set<std::string> known = {"num_bits", "type", "symmetric", "group_size", "strategy", "block_structure", "dynamic",
                                                "actorder", "observer", "observer_kwargs", "scale_dtype", "zp_dtype"};
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!known.count(it.key())) err(where, fmt::format("unknown QuantizationArgs key '{}' (compressed-tensors forbids extra keys)", it.key()));
      if ((it.key() == "scale_dtype" || it.key() == "zp_dtype"))
        err(where + "." + it.key(), "present: compressed-tensors < 0.13 rejects the whole config (extra=forbid, §1.4); leave it out");
    }
  }

  QuantArgs args_from(const json& a) {
    QuantArgs q;
    q.num_bits = a.value("num_bits", 8);
    q.type = a.value("type", "int");
    q.symmetric = a.value("symmetric", true);
    if (a.contains("group_size") && !a["group_size"].is_null()) q.group_size = a["group_size"].get<int64_t>();
    if (a.contains("strategy") && !a["strategy"].is_null()) q.strategy = a["strategy"].get<std::string>();
    if (a.contains("block_structure") && a["block_structure"].is_array()) q.block_structure = a["block_structure"].get<std::vector<int64_t>>();
    if (a.contains("dynamic") && a["dynamic"].is_boolean()) q.dynamic = a["dynamic"].get<bool>();
    if (a.contains("actorder") && !a["actorder"].is_null()) q.actorder = a["actorder"].is_string() ? a["actorder"].get<std::string>() : "group";
    return q;
  }

  void check_config(const json& cfg) {
    if (!cfg.contains("quantization_config")) { err("config.json", "no quantization_config"); return; }
    const json& q = cfg["quantization_config"];
    if (q.value("quant_method", "") != "compressed-tensors") err("quantization_config.quant_method", "must be \"compressed-tensors\"");
    if (q.value("quantization_status", "") != "compressed") warn("quantization_config.quantization_status", "expected \"compressed\"");
    for (const char* k : {"config_groups", "format", "ignore", "kv_cache_scheme", "global_compression_ratio", "sparsity_config", "transform_config", "version"})
      if (!q.contains(k)) warn("quantization_config", fmt::format("key '{}' is missing (§9)", k));
    if (q.contains("kv_cache_scheme") && !q["kv_cache_scheme"].is_null()) warn("quantization_config.kv_cache_scheme", "not null: vLLM only accepts FP8 KV schemes");
    const std::string global = q.value("format", "");
    if (q.contains("ignore")) {
      if (!q["ignore"].is_array()) err("quantization_config.ignore", "must be a list");
      else for (const auto& s : q["ignore"]) {
        ignore.push_back(s.get<std::string>());
        try { ignore_pats.emplace_back(ignore.back(), "ignore"); } catch (const InputError& e) { err("quantization_config.ignore", e.what()); }
      }
    }
    if (!q.contains("config_groups") || !q["config_groups"].is_object() || q["config_groups"].empty()) {
      err("quantization_config.config_groups", "missing or empty");
      return;
    }
    std::set<std::string> formats;
    std::map<std::string, std::string> seen_target;
    for (auto it = q["config_groups"].begin(); it != q["config_groups"].end(); ++it) {
      const std::string where = "config_groups." + it.key();
      const json& g = it.value();
      if (g.is_array()) { err(where, "preset shorthand (a list of targets): vLLM does not expand presets (§1.2)"); continue; }
      for (auto k = g.begin(); k != g.end(); ++k)
        if (!std::set<std::string>{"targets", "weights", "input_activations", "output_activations", "format"}.count(k.key()))
          err(where, fmt::format("unknown key '{}' (QuantizationScheme forbids extra keys)", k.key()));
      Group grp;
      grp.name = it.key();
      if (!g.contains("targets") || !g["targets"].is_array() || g["targets"].empty()) { err(where, "targets missing or empty"); continue; }
      grp.scheme.targets = g["targets"].get<std::vector<std::string>>();
      for (const auto& t : grp.scheme.targets) {
        auto [p, fresh] = seen_target.emplace(t, it.key());
        if (!fresh) err(where, fmt::format("target '{}' also in {}: vLLM keys schemes by target string, the last group wins (§8.3)", t, p->second));
        try { TargetPattern(t, where); } catch (const InputError& e) { err(where, e.what()); }
      }
      if (!g.contains("weights") || g["weights"].is_null()) { err(where, "no weights args (activation-only schemes are not checked)"); continue; }
      check_args_keys(g["weights"], where + ".weights");
      grp.scheme.weights = args_from(g["weights"]);
      if (g.contains("input_activations") && !g["input_activations"].is_null()) {
        check_args_keys(g["input_activations"], where + ".input_activations");
        grp.scheme.input_activations = args_from(g["input_activations"]);
      }
      if (g.contains("format") && !g["format"].is_null()) grp.scheme.format = g["format"].get<std::string>();
      if (grp.scheme.format.empty()) {
        if (global == "mixed-precision") err(where, "no 'format' in a mixed-precision file: vLLM cannot select a scheme (§1.5)");
        grp.scheme.format = global;
      }
      if (grp.scheme.format == "mixed-precision") err(where + ".format", "'mixed-precision' is only valid as the global format");
      formats.insert(grp.scheme.format);
      try {
        std::string f = grp.scheme.format;
        validate_scheme(grp.scheme, where);
        if (f != grp.scheme.format) err(where + ".format", fmt::format("'{}' does not fit the weights ({})", f, grp.scheme.format));
        grp.valid = true;
      } catch (const InputError& e) {
        err(where, e.what());
      }
      for (const auto& t : grp.scheme.targets) target_order.push_back({t, int(groups.size())});
      groups.push_back(std::move(grp));
    }
    if (formats.size() > 1 && global != "mixed-precision") err("quantization_config.format", fmt::format("'{}' but groups use {} formats: must be \"mixed-precision\"", global, formats.size()));
    if (formats.size() == 1 && global != *formats.begin() && global != "mixed-precision")
      err("quantization_config.format", fmt::format("'{}' but the only group format is '{}'", global, *formats.begin()));
    if (formats.size() > 1)
      for (const auto& [t, g] : target_order)
        if (t == "Linear") err("config_groups." + groups[size_t(g)].name, "\"Linear\" as a target in a mixed file matches every layer by class name (§8.3)");
  }

  // ---- matching, as vLLM and as HF/compressed-tensors do it ----
  bool ignored(const std::string& name, const std::string& cls) const {
    for (const auto& p : ignore_pats) if (p.matches(name, cls)) return true;
    return false;
  }
  // vLLM find_matched_target: name (exact/regex) first, then class-name substring.
  int vllm_group(const std::string& name, const std::string& vllm_class) const {
    for (const auto& [t, g] : target_order) if (TargetPattern(t, "").matches_name(name)) return g;
    // vLLM copies the "Linear" entry to a "FusedMoE" key, so "Linear" also covers MoE (§7.3).
    if (vllm_class == "FusedMoE")
      for (const auto& [t, g] : target_order) if (t == "Linear") return g;
    std::string lc = vllm_class;
    std::transform(lc.begin(), lc.end(), lc.begin(), ::tolower);
    for (const auto& [t, g] : target_order) {
      if (t.rfind("re:", 0) == 0) continue;
      std::string lt = t;
      std::transform(lt.begin(), lt.end(), lt.begin(), ::tolower);
      if (lc.find(lt) != std::string::npos) return g;
    }
    return -1;
  }
  // compressed-tensors is_match on checkpoint names: -2 ignored, -1 unmatched, else group.
  int ct_group(const std::string& name) const {
    if (ignored(name, kLinearClass)) return -2;
    for (const auto& [t, g] : target_order) if (TargetPattern(t, "").matches(name, kLinearClass)) return g;
    return -1;
  }

  // ---- tensors ----
  std::set<std::string> expected;
  void expect_tensor(const Checkpoint& ck, const std::string& name, std::optional<DType> dt, const std::vector<DType>& dts, const Shape& shape) {
    expected.insert(name);
    ++rep.tensors_checked;
    if (!ck.has(name)) { err(name, "missing"); return; }
    const auto& i = ck.info(name);
    bool dtype_ok = dt ? i.dtype == *dt : std::find(dts.begin(), dts.end(), i.dtype) != dts.end();
    if (!dtype_ok) err(name, fmt::format("dtype {} (expected {})", dtype_name(i.dtype), dt ? std::string(dtype_name(*dt)) : std::string("a float type")));
    if (i.shape != shape) err(name, fmt::format("shape {} (expected {})", shape_str(i.shape), shape_str(shape)));
  }

  void check_module(const Checkpoint& ck, const MiniMaxM2Config& cfg, const ModuleEntry& e, int group) {
    ++rep.modules_checked;
    const int64_t out = e.shape[0], in = e.shape[1];
    const std::vector<DType> floats = {DType::BF16, DType::F16, DType::F32};
    if (group < 0) {
      expect_tensor(ck, e.module + ".weight", std::nullopt, floats, e.shape);
      return;
    }
    const Group& g = groups[size_t(group)];
    if (!g.valid) return;
    if (g.scheme.kind() == SchemeKind::Int4Group) {
      const int64_t G = g.scheme.group_size();
      if (in % G != 0) err(e.module, fmt::format("input width {} is not a multiple of group_size {}", in, G));
      expect_tensor(ck, e.module + ".weight_packed", DType::I32, {}, {out, cdiv(in, 8)});
      expect_tensor(ck, e.module + ".weight_scale", std::nullopt, floats, {out, cdiv(in, G)});
      expect_tensor(ck, e.module + ".weight_shape", DType::I64, {}, {2});
      std::string sn = e.module + ".weight_shape";
      if (ck.has(sn) && ck.info(sn).dtype == DType::I64 && ck.info(sn).shape == Shape{2}) {
        auto v = ck.view(sn).as<int64_t>();
        if (v[0] != out || v[1] != in) err(sn, fmt::format("holds [{}, {}], the module is [{}, {}]", v[0], v[1], out, in));
      }
    } else {
      expect_tensor(ck, e.module + ".weight", DType::F8_E4M3, {}, e.shape);
      expect_tensor(ck, e.module + ".weight_scale", std::nullopt, {DType::F32, DType::BF16}, {cdiv(out, 128), cdiv(in, 128)});
    }
    (void)cfg;
  }

  // ---- tensor parallel servability ----
  void check_tp(const MiniMaxM2Config& c, const std::map<int, int>& expert_group, const std::map<std::string, int>& attn_group) {
    for (int tp : {1, 2, 4, 8}) {
      std::vector<std::string> why, slow;
      if (c.num_attention_heads % tp) why.push_back(fmt::format("{} attention heads", c.num_attention_heads));
      const int64_t H = c.hidden_size, I = c.intermediate_size;
      if (I % tp) why.push_back(fmt::format("intermediate {} not divisible", I));
      for (const auto& [layer, g] : expert_group) {
        if (g < 0 || !groups[size_t(g)].valid) continue;
        const int64_t G = groups[size_t(g)].scheme.group_size(), ip = I / tp;
        // Marlin MoE's shape limits are not a refusal: vLLM's MoE oracle then picks another
        // (slower) WNA16 MoE backend (compressed-tensors-awq.md §7.3, §7.5).
        if (H % 128) slow.push_back(fmt::format("MoE Marlin needs hidden % 128 == 0 (hidden {})", H));
        if (ip % std::max<int64_t>(64, G)) slow.push_back(fmt::format("MoE Marlin needs intermediate/TP % {} == 0 ({}/{} = {})", std::max<int64_t>(64, G), I, tp, ip));
        if (ip % G) why.push_back(fmt::format("scale groups would cross TP shard boundaries ({} % {})", ip, G));
        break;  // same shapes in every layer
      }
      const int64_t kv_heads_pp = std::max<int64_t>(1, c.num_key_value_heads / tp);
      for (const auto& [name, g] : attn_group) {
        if (g < 0 || !groups[size_t(g)].valid) continue;
        const bool row = name.find("o_proj") != std::string::npos;
        const bool kv = name.find("k_proj") != std::string::npos || name.find("v_proj") != std::string::npos;
        const int64_t out_pp = row ? H : kv ? kv_heads_pp * c.head_dim : c.q_width() / tp;
        const int64_t in_pp = row ? c.q_width() / tp : H;
        const auto& s = groups[size_t(g)].scheme;
        if (s.kind() == SchemeKind::Int4Group) {
          if (out_pp % 64) why.push_back(fmt::format("Marlin needs out/TP % 64 == 0 for {} ({})", name, out_pp));
          if (in_pp % 128) why.push_back(fmt::format("Marlin needs in/TP % 128 == 0 for {} ({})", name, in_pp));
        } else {
          if (!row && out_pp % 128) why.push_back(fmt::format("FP8 block needs each output partition % 128 == 0 for {} ({})", name, out_pp));
          if (row && tp > 1 && in_pp % 128) why.push_back(fmt::format("FP8 block needs in/TP % 128 == 0 for {} ({})", name, in_pp));
        }
        if (why.size() > 4) break;
      }
      if (why.empty()) rep.servable_tp.push_back(tp);
      if (why.empty() && !slow.empty()) {
        rep.non_marlin_moe_tp.push_back(tp);
        info(fmt::format("TP={}", tp), "servable on the slower non-Marlin MoE kernel: " + slow.front());
      }
      if (!why.empty()) info(fmt::format("TP={}", tp), "not servable: " + why.front() + (why.size() > 1 ? fmt::format(" (+{} more)", why.size() - 1) : ""));
    }
    if (rep.servable_tp.empty()) err("tensor parallel", "not servable at any TP size in {1, 2, 4, 8}");
  }

  // ---- shards, index, manifest ----
  void check_files(const Checkpoint& ck) {
    std::set<std::string> shard_names;
    for (const auto& sh : ck.shards()) shard_names.insert(fs::path(sh->path()).filename().string());
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string n = e.path().filename().string();
      if (n.find(".tmp") != std::string::npos) warn(n, "leftover temporary file (an interrupted run?)");
      if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0 && !shard_names.count(n))
        err(n, "safetensors file not referenced by the index");
    }
    std::string idx = path_join(dir, "model.safetensors.index.json");
    if (file_exists(idx)) {
      try {
        json j = json::parse(read_file(idx));
        uint64_t total = j.at("metadata").at("total_size").get<uint64_t>();
        if (total != ck.tensor_bytes()) err("model.safetensors.index.json", fmt::format("total_size {} but the tensors hold {} bytes", total, ck.tensor_bytes()));
      } catch (const std::exception& e) {
        err("model.safetensors.index.json", std::string("unreadable: ") + e.what());
      }
    }
    std::string man = path_join(dir, kManifestName);
    if (!file_exists(man)) { info(kManifestName, "absent (not written by mixq): checksums not verified"); return; }
    json m;
    try { m = json::parse(read_file(man)); } catch (const std::exception& e) { err(kManifestName, std::string("unreadable: ") + e.what()); return; }
    if (!m.contains("shards") || !m["shards"].is_object()) { err(kManifestName, "no 'shards' object"); return; }
    std::set<std::string> listed;
    for (auto it = m["shards"].begin(); it != m["shards"].end(); ++it) {
      listed.insert(it.key());
      std::string p = path_join(dir, it.key());
      if (!file_exists(p)) { err(it.key(), "listed in the manifest but missing"); continue; }
      if (sha256_file(p) != it.value().get<std::string>()) err(it.key(), "sha256 differs from the manifest (corrupt or modified shard)");
    }
    for (const auto& s : shard_names) if (!listed.count(s)) err(s, "shard not listed in the manifest");
  }

  void run() {
    if (!is_directory(dir)) { err(dir, "not a directory"); return; }
    std::unique_ptr<Checkpoint> ck;
    try { ck = std::make_unique<Checkpoint>(dir); } catch (const InputError& e) { err(dir, e.what()); return; }
    if (!ck->has_config()) { err("config.json", "missing"); return; }
    json cfgj;
    try { cfgj = ck->config(); } catch (const InputError& e) { err("config.json", e.what()); return; }
    check_config(cfgj);
    MiniMaxM2Config cfg;
    try { cfg = parse_minimax_m2_config(cfgj, ck->config_path()); } catch (const InputError& e) { err("config.json", e.what()); return; }
    check_files(*ck);

    std::map<int, int> expert_group;             // layer -> vLLM group via probes (-1 unquantized)
    std::map<std::string, int> attn_group;       // vLLM: qkv_proj / o_proj per layer
    std::set<std::string> ignore_used;
    for (const auto& e : minimax_m2_modules(cfg)) {
      if (!role_is_linear(e.role)) {
        expected.insert(e.tensor);
        ++rep.tensors_checked;
        if (!ck->has(e.tensor)) err(e.tensor, "missing");
        else if (!dtype_is_float(ck->info(e.tensor).dtype)) err(e.tensor, fmt::format("dtype {}: norms, bias and embeddings stay high precision", dtype_name(ck->info(e.tensor).dtype)));
        else if (ck->info(e.tensor).shape != e.shape) err(e.tensor, fmt::format("shape {} (expected {})", shape_str(ck->info(e.tensor).shape), shape_str(e.shape)));
        continue;
      }
      const int ct = ct_group(e.module);
      const int stored = ct >= 0 ? ct : -1;
      if (e.role == Role::LmHead || e.role == Role::RouterGate) {
        // vLLM never consults the config for these (ParallelLMHead; MiniMax's router has quant_config=None).
        if (ct >= 0) err(e.module, "matched by a quantized group, but vLLM loads it unquantized (§7.6)");
        else if (ct == -1) warn(e.module, "unquantized but not in ignore (llm-compressor lists every unquantized Linear, §1.6)");
        check_module(*ck, cfg, e, -1);
        continue;
      }
      if (kind_of(e.role) == ModuleKind::Attention) {
        const bool qkv = e.role != Role::OProj;
        const std::string vname = names::attn(e.layer, qkv ? "qkv_proj" : "o_proj");
        if (!attn_group.count(vname)) {
          int vg;
          if (qkv) {
            std::vector<int> shard_g;
            std::vector<bool> shard_ign;
            for (const char* p : {"q_proj", "k_proj", "v_proj"}) {
              std::string n = names::attn(e.layer, p);
              shard_ign.push_back(ignored(n, ""));
              shard_g.push_back(vllm_group(n, "QKVParallelLinear"));
            }
            if (!(shard_ign[0] == shard_ign[1] && shard_ign[1] == shard_ign[2]))
              err(vname, "q/k/v shards disagree on ignore: vLLM raises ValueError for the fused layer");
            if (shard_ign[0]) vg = -1;
            else if (!(shard_g[0] == shard_g[1] && shard_g[1] == shard_g[2]) || shard_g[0] < 0) {
              err(vname, "q/k/v not all matched by one group and not ignored: vLLM cannot find a scheme (KeyError)");
              vg = shard_g[0];
            } else {
              vg = shard_g[0];
            }
          } else {
            if (ignored(vname, "")) vg = -1;
            else {
              vg = vllm_group(vname, "RowParallelLinear");
              if (vg < 0) err(vname, "neither matched nor ignored: vLLM raises KeyError at load");
            }
          }
          attn_group[vname] = vg;
        }
        const int vg = attn_group[vname];
        if (vg != stored && !(vg < 0 && stored < 0))
          err(e.module, fmt::format("vLLM resolves it to {} but compressed-tensors (checkpoint name) to {}", vg < 0 ? "unquantized" : groups[size_t(vg)].name,
                                    stored < 0 ? "unquantized" : groups[size_t(stored)].name));
        check_module(*ck, cfg, e, stored);
        continue;
      }
      // Experts: vLLM probes "<L>.mlp.experts.0.{gate,up,down}_proj" (§7.3).
      if (!expert_group.count(e.layer)) {
        std::vector<int> pg;
        for (const char* p : {"gate_proj", "up_proj", "down_proj"}) {
          std::string n = fmt::format("model.layers.{}.mlp.experts.0.{}", e.layer, p);
          pg.push_back(ignored(n, "") ? -1 : vllm_group(n, "FusedMoE"));
          if (!ignored(n, "") && pg.back() < 0)
            err(n, "vLLM MoE probe neither matched nor ignored: add the target re:.*mlp\\.experts\\.\\d+\\.(gate|up|down)_proj$ or ignore it (§8.4)");
        }
        if (!(pg[0] == pg[1] && pg[1] == pg[2])) err(fmt::format("model.layers.{}.mlp.experts", e.layer), "MoE probes resolve to different schemes: vLLM raises ValueError");
        if (pg[0] >= 0 && groups[size_t(pg[0])].valid && groups[size_t(pg[0])].scheme.format != "pack-quantized" &&
            groups[size_t(pg[0])].scheme.kind() == SchemeKind::Int4Group)
          err(fmt::format("model.layers.{}.mlp.experts", e.layer), "WNA16 MoE needs format pack-quantized");
        expert_group[e.layer] = pg[0];
      }
      const int vg = expert_group[e.layer];
      if (vg != stored)
        err(e.module, fmt::format("stored as {} but vLLM's MoE probes for layer {} resolve to {}", stored < 0 ? "unquantized" : groups[size_t(stored)].name,
                                  e.layer, vg < 0 ? "unquantized (ignored)" : groups[size_t(vg)].name));
      check_module(*ck, cfg, e, stored);
    }
    for (const auto& n : ck->names()) {
      if (expected.count(n)) continue;
      auto l = layer_index_of(n);
      if (l && *l >= cfg.num_hidden_layers) { info(n, "MTP/spec layer tensor: skipped by vLLM's main model loader"); continue; }
      if (n.size() > 18 && n.compare(n.size() - 18, 18, ".weight_zero_point") == 0) err(n, "zero point for a symmetric scheme: vLLM has no such parameter (KeyError, §8.2)");
      else err(n, "unexpected tensor (not part of the scheme of its module)");
    }
    check_tp(cfg, expert_group, attn_group);
    add_requirements();
  }

  // The serving side's version and hardware conditions, from an audit of vLLM's loaders: they are
  // not checkable from the files, so they are stated (docs/quantize.md).
  void add_requirements() {
    bool int4 = false, fp8 = false;
    for (const auto& g : groups) {
      if (!g.valid) continue;
      int4 = int4 || g.scheme.kind() == SchemeKind::Int4Group;
      fp8 = fp8 || g.scheme.kind() != SchemeKind::Int4Group;
    }
    rep.requirements.push_back(
        "vLLM with MiniMax-M2's packed_modules_mapping (PR #32763, 2026-01-24) or newer; older versions stop with "
        "\"Unable to find matching target for ...self_attn.qkv_proj\"");
    if (int4)
      rep.requirements.push_back("INT4 W4A16 layers: NVIDIA SM 80 (Ampere) or newer for the Marlin/WNA16 kernels; on ROCm the "
                                 "Triton AWQ path (VLLM_USE_TRITON_AWQ=1)");
    if (fp8)
      rep.requirements.push_back("FP8-block layers: NVIDIA SM 89 (Ada) or newer; on older GPUs vLLM takes its W8A16 FP8 fallback, "
                                 "which refuses block scales");
  }
};

}  // namespace

ValidationReport validate_checkpoint(const std::string& dir) {
  Validator v;
  v.dir = dir;
  v.run();
  return v.rep;
}

}  // namespace mixq
