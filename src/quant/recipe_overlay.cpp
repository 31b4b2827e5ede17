#include "quant/recipe_overlay.h"

#include <yaml-cpp/yaml.h>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq {
namespace {

// Levels whose keys must exist in the recipe: stage, modifier group, modifier. Below that (a
// modifier's arguments) the overlay may add keys; parse_recipe validates them.
constexpr int kFixedDepth = 3;

std::string kind_name(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "null";
  return "a scalar";
}

std::string join_keys(const YAML::Node& m) {
  std::string s;
  for (const auto& kv : m) s += (s.empty() ? "" : ", ") + kv.first.as<std::string>();
  return s;
}

YAML::Node merge(const YAML::Node& base, const YAML::Node& over, const std::string& src, const std::string& path, int depth) {
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : base) {
    const std::string k = kv.first.as<std::string>();
    out[k] = YAML::Clone(kv.second);
  }
  for (const auto& kv : over) {
    if (!kv.first.IsScalar()) fail("{}: {}: keys must be strings", src, path.empty() ? "(top level)" : path);
    const std::string k = kv.first.as<std::string>();
    const std::string kp = path.empty() ? k : path + "." + k;
    const YAML::Node b = base[k];
    if (!b) {
      if (depth < kFixedDepth) {
        const char* what[] = {"stage", "modifier group", "modifier"};
        fail("{}: {}: no such {} in the recipe (it has: {}); an override adapts existing modifiers, it does not add new ones", src,
             kp, what[depth], join_keys(base));
      }
      out[k] = YAML::Clone(kv.second);
      continue;
    }
    if (b.IsMap() && kv.second.IsMap()) {
      out[k] = merge(b, kv.second, src, kp, depth + 1);
    } else if (b.IsMap() || (kv.second.IsMap() && !b.IsNull())) {
      fail("{}: {}: the recipe has {} here, the override {} (mappings merge; lists and scalars are replaced whole)", src, kp,
           kind_name(b), kind_name(kv.second));
    } else {
      out[k] = YAML::Clone(kv.second);
    }
  }
  return out;
}

}  // namespace

std::string apply_recipe_overlay(const std::string& recipe_text, const std::string& recipe_source, const std::string& overlay_text,
                                 const std::string& overlay_source) {
  YAML::Node base, over;
  try {
    base = YAML::Load(recipe_text);
  } catch (const YAML::Exception& e) {
    fail("{}: invalid YAML: {}", recipe_source, e.what());
  }
  try {
    over = YAML::Load(overlay_text);
  } catch (const YAML::Exception& e) {
    fail("{}: invalid YAML: {}", overlay_source, e.what());
  }
  if (!base.IsMap()) fail("{}: a recipe is a mapping of stages (e.g. default_stage:)", recipe_source);
  if (!over.IsMap() || over.size() == 0)
    fail("{}: a recipe override is a non-empty mapping laid out like the recipe (e.g. default_stage: default_modifiers: AWQModifier: ...)",
         overlay_source);
  YAML::Node merged = merge(base, over, overlay_source, "", 0);
  YAML::Emitter em;
  em << merged;
  if (!em.good()) fail("{}: cannot emit the merged recipe: {}", overlay_source, em.GetLastError());
  return "# " + recipe_source + " with override " + overlay_source + " applied (mixq quantize --recipe-override)\n" + em.c_str() +
         "\n";
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overlays) {
  if (overlays.empty()) return load_recipe(path);
  if (!file_exists(path)) fail("{}: recipe file not found", path);
  std::string text = read_file(path), source = path;
  for (const auto& o : overlays) {
    if (!file_exists(o)) fail("{}: recipe override file not found", o);
    text = apply_recipe_overlay(text, source, read_file(o), o);
    source += " + " + o;
  }
  Recipe r = parse_recipe(text, source);
  r.overrides = overlays;
  return r;
}

}  // namespace mixq
