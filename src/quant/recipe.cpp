#include "quant/recipe.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "quant/target_match.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"

namespace mixq {
namespace {

struct Ctx {
  std::string file;
  std::string at(const std::string& path) const { return file + ": " + path; }
};

void check_keys(const YAML::Node& n, const std::set<std::string>& allowed, const Ctx& c, const std::string& path) {
  if (!n.IsMap()) fail("{}: expected a mapping", c.at(path));
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail("{}: unknown key '{}' (known: {})", c.at(path), k, list);
    }
  }
}

template <typename T>
T scalar(const YAML::Node& n, const Ctx& c, const std::string& path, const char* expected) {
  if (!n.IsScalar()) fail("{}: expected {}", c.at(path), expected);
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail("{}: expected {}, got '{}'", c.at(path), expected, n.Scalar());
  }
}

bool is_null(const YAML::Node& n) { return !n || n.IsNull() || (n.IsScalar() && (n.Scalar() == "null" || n.Scalar() == "~")); }

std::vector<std::string> string_list(const YAML::Node& n, const Ctx& c, const std::string& path) {
  std::vector<std::string> v;
  if (n.IsScalar()) { v.push_back(n.Scalar()); return v; }
  if (!n.IsSequence()) fail("{}: expected a list of strings", c.at(path));
  for (size_t i = 0; i < n.size(); ++i) v.push_back(scalar<std::string>(n[i], c, path + "[" + std::to_string(i) + "]", "a string"));
  return v;
}

QuantArgs parse_args(const YAML::Node& n, const Ctx& c, const std::string& path) {
  check_keys(n, {"num_bits", "type", "symmetric", "group_size", "strategy", "block_structure", "dynamic", "actorder",
                 "observer", "observer_kwargs", "scale_dtype", "zp_dtype"}, c, path);
  QuantArgs a;
  if (n["num_bits"]) a.num_bits = scalar<int>(n["num_bits"], c, path + ".num_bits", "an integer");
  if (n["type"]) a.type = scalar<std::string>(n["type"], c, path + ".type", "int or float");
  if (n["symmetric"]) a.symmetric = scalar<bool>(n["symmetric"], c, path + ".symmetric", "true or false");
  if (!is_null(n["group_size"])) a.group_size = scalar<int64_t>(n["group_size"], c, path + ".group_size", "an integer");
  if (!is_null(n["strategy"])) a.strategy = scalar<std::string>(n["strategy"], c, path + ".strategy", "a strategy name");
  if (!is_null(n["block_structure"])) {
    const auto& b = n["block_structure"];
    std::vector<int64_t> v;
    if (b.IsScalar()) {  // legacy "128x128"
      std::string s = b.Scalar();
      auto x = s.find('x');
      if (x == std::string::npos) fail("{}: expected [rows, cols] or \"RxC\"", c.at(path + ".block_structure"));
      try { v = {std::stoll(s.substr(0, x)), std::stoll(s.substr(x + 1))}; } catch (...) {
        fail("{}: expected [rows, cols] or \"RxC\"", c.at(path + ".block_structure"));
      }
    } else if (b.IsSequence() && b.size() == 2) {
      for (size_t i = 0; i < 2; ++i) v.push_back(scalar<int64_t>(b[i], c, path + ".block_structure", "two integers"));
    } else {
      fail("{}: expected [rows, cols]", c.at(path + ".block_structure"));
    }
    a.block_structure = v;
  }
  if (n["dynamic"]) {
    if (n["dynamic"].IsScalar() && n["dynamic"].Scalar() == "local") fail("{}: dynamic 'local' is not supported", c.at(path + ".dynamic"));
    a.dynamic = scalar<bool>(n["dynamic"], c, path + ".dynamic", "true or false");
  }
  if (!is_null(n["actorder"])) {
    const auto& ao = n["actorder"];
    if (ao.IsScalar() && (ao.Scalar() == "false" || ao.Scalar() == "False")) {
    } else {
      a.actorder = ao.IsScalar() ? ao.Scalar() : std::string("?");
    }
  }
  if (!is_null(n["observer"])) {
    std::string o = scalar<std::string>(n["observer"], c, path + ".observer", "an observer name");
    static const std::set<std::string> ok = {"minmax", "memoryless_minmax", "static_minmax", "memoryless"};
    if (!ok.count(o)) fail("{}: observer '{}' is not supported (minmax, memoryless_minmax, static_minmax: identical for weights, §3.1)", c.at(path + ".observer"), o);
    a.observer = o;
  }
  if (n["observer_kwargs"] && !is_null(n["observer_kwargs"]) && !(n["observer_kwargs"].IsMap() && n["observer_kwargs"].size() == 0))
    fail("{}: observer_kwargs are not supported", c.at(path + ".observer_kwargs"));
  if (!is_null(n["scale_dtype"]) || !is_null(n["zp_dtype"]))
    fail("{}: scale_dtype/zp_dtype are not supported (scales are written in the weight dtype)", c.at(path));
  return a;
}

QuantScheme parse_scheme(const YAML::Node& n, const Ctx& c, const std::string& path) {
  check_keys(n, {"targets", "weights", "input_activations", "output_activations", "format"}, c, path);
  QuantScheme s;
  if (!n["targets"]) fail("{}: 'targets' is required", c.at(path));
  s.targets = string_list(n["targets"], c, path + ".targets");
  if (is_null(n["weights"])) fail("{}: 'weights' is required (weight-only or weight+activation schemes)", c.at(path));
  s.weights = parse_args(n["weights"], c, path + ".weights");
  if (!is_null(n["input_activations"])) s.input_activations = parse_args(n["input_activations"], c, path + ".input_activations");
  if (!is_null(n["output_activations"])) fail("{}: output_activations are not supported", c.at(path + ".output_activations"));
  if (!is_null(n["format"])) s.format = scalar<std::string>(n["format"], c, path + ".format", "a format name");
  validate_scheme(s, c.at(path));
  return s;
}

void parse_modifier(const std::string& name, const YAML::Node& n, const Ctx& c, const std::string& path, Recipe& r) {
  const bool awq = name == "AWQModifier";
  if (!awq && name != "QuantizationModifier") {
    if (name == "GPTQModifier") fail("{}: GPTQModifier is not supported (use AWQModifier or QuantizationModifier: RTN)", c.at(path));
    fail("{}: unknown modifier '{}' (supported: AWQModifier, QuantizationModifier)", c.at(path), name);
  }
  std::set<std::string> keys = {"config_groups", "targets", "scheme", "ignore", "kv_cache_scheme"};
  if (awq) keys.insert({"mappings", "duo_scaling", "n_grid", "offload_device"});
  if (n.IsNull()) fail("{}: empty modifier", c.at(path));
  check_keys(n, keys, c, path);
  r.modifiers.push_back(name);
  if (!is_null(n["kv_cache_scheme"])) fail("{}: kv_cache_scheme is not supported", c.at(path + ".kv_cache_scheme"));
  const bool has_groups = !is_null(n["config_groups"]);
  if (has_groups) {
    if (!n["config_groups"].IsMap()) fail("{}: expected a mapping of group name -> scheme", c.at(path + ".config_groups"));
    if (!is_null(n["scheme"])) fail("{}: give either config_groups or scheme, not both", c.at(path));
    for (const auto& kv : n["config_groups"]) {
      std::string gname = kv.first.as<std::string>();
      r.groups.push_back({gname, parse_scheme(kv.second, c, path + ".config_groups." + gname)});
    }
  } else if (!is_null(n["scheme"])) {
    std::vector<std::string> targets = n["targets"] ? string_list(n["targets"], c, path + ".targets") : std::vector<std::string>{"Linear"};
    std::string preset = scalar<std::string>(n["scheme"], c, path + ".scheme", "a preset name");
    r.groups.push_back({preset, preset_scheme(preset, targets, c.at(path + ".scheme"))});
  } else if (!awq) {
    fail("{}: QuantizationModifier needs config_groups or scheme", c.at(path));
  }
  if (has_groups && n["targets"]) fail("{}: 'targets' belongs inside each config group when config_groups is given", c.at(path + ".targets"));
  if (n["ignore"]) for (auto& s : string_list(n["ignore"], c, path + ".ignore")) r.ignore.push_back(s);
  if (awq) {
    r.awq.enabled = true;
    if (n["mappings"]) {
      const auto& m = n["mappings"];
      if (!m.IsSequence()) fail("{}: expected a list of mappings", c.at(path + ".mappings"));
      for (size_t i = 0; i < m.size(); ++i) {
        std::string mp = path + ".mappings[" + std::to_string(i) + "]";
        check_keys(m[i], {"smooth_layer", "balance_layers", "activation_hook_target"}, c, mp);
        AwqMapping am;
        if (!m[i]["smooth_layer"] || !m[i]["balance_layers"]) fail("{}: smooth_layer and balance_layers are required", c.at(mp));
        am.smooth_layer = scalar<std::string>(m[i]["smooth_layer"], c, mp + ".smooth_layer", "a string");
        am.balance_layers = string_list(m[i]["balance_layers"], c, mp + ".balance_layers");
        if (am.balance_layers.empty()) fail("{}: balance_layers is empty", c.at(mp));
        if (!is_null(m[i]["activation_hook_target"]))
          am.activation_hook_target = scalar<std::string>(m[i]["activation_hook_target"], c, mp + ".activation_hook_target", "a string");
        // Compile now so a bad regex is reported at load time.
        TargetSet({am.smooth_layer}, c.at(mp + ".smooth_layer"));
        TargetSet(am.balance_layers, c.at(mp + ".balance_layers"));
        r.awq.mappings.push_back(std::move(am));
      }
    }
    if (n["duo_scaling"]) {
      std::string d = scalar<std::string>(n["duo_scaling"], c, path + ".duo_scaling", "true, false or both");
      if (d == "True" || d == "true") d = "true";
      else if (d == "False" || d == "false") d = "false";
      else if (d != "both") fail("{}: expected true, false or both, got '{}'", c.at(path + ".duo_scaling"), d);
      r.awq.duo_scaling = d;
    }
    if (n["n_grid"]) {
      r.awq.n_grid = scalar<int>(n["n_grid"], c, path + ".n_grid", "an integer");
      if (r.awq.n_grid < 2 || r.awq.n_grid > 1000) fail("{}: n_grid must be in [2, 1000]", c.at(path + ".n_grid"));
    }
    if (n["offload_device"] && !is_null(n["offload_device"])) {
      std::string d = scalar<std::string>(n["offload_device"], c, path + ".offload_device", "a device");
      if (d != "cpu") fail("{}: only 'cpu' is meaningful here", c.at(path + ".offload_device"));
    }
  }
}

}  // namespace

Recipe parse_recipe(const std::string& text, const std::string& source) {
  Ctx c{source};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}: invalid YAML: {}", source, e.what());
  }
  if (!root.IsMap() || root.size() == 0) fail("{}: a recipe is a mapping of stages (e.g. default_stage:)", source);
  Recipe r;
  r.source = source;
  r.text = text;
  for (const auto& st : root) {
    std::string sname = st.first.as<std::string>();
    if (!st.second.IsMap()) fail("{}: a stage is a mapping of modifier groups (e.g. default_modifiers:)", c.at(sname));
    for (const auto& grp : st.second) {
      std::string gname = grp.first.as<std::string>();
      std::string gpath = sname + "." + gname;
      if (gname == "run_type") {
        std::string rt = scalar<std::string>(grp.second, c, gpath, "oneshot");
        if (rt != "oneshot") fail("{}: run_type '{}' is not supported (oneshot)", c.at(gpath), rt);
        continue;
      }
      if (gname.size() < 9 || gname.compare(gname.size() - 9, 9, "modifiers") != 0)
        fail("{}: unknown key '{}' (a stage holds <name>_modifiers groups and run_type)", c.at(sname), gname);
      if (!grp.second.IsMap()) fail("{}: expected a mapping of modifier name -> arguments", c.at(gpath));
      for (const auto& mod : grp.second) {
        std::string mname = mod.first.as<std::string>();
        parse_modifier(mname, mod.second, c, gpath + "." + mname, r);
      }
    }
  }
  if (r.groups.empty()) fail("{}: no quantization scheme (config_groups or scheme) in any modifier", source);
  // The same target string in two groups: vLLM keys schemes by target string, the last wins (§1.7).
  std::set<std::string> seen;
  for (const auto& g : r.groups)
    for (const auto& t : g.scheme.targets)
      if (!seen.insert(t).second) fail("{}: target '{}' appears in two config groups (vLLM would silently keep only the last)", source, t);
  for (const auto& g : r.groups) TargetSet(g.scheme.targets, c.at("config_groups." + g.name + ".targets"));
  TargetSet(r.ignore, c.at("ignore"));
  if (r.awq.enabled && r.awq.mappings.empty())
    fail("{}: AWQModifier needs explicit mappings (MiniMax-M2 is not in llm-compressor's mapping registry, §5.2)", source);
  return r;
}

Recipe load_recipe(const std::string& path) {
  if (!file_exists(path)) fail("{}: recipe file not found", path);
  return parse_recipe(read_file(path), path);
}

}  // namespace mixq
