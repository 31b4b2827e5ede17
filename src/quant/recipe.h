// llm-compressor recipe YAML, read as data (compressed-tensors-awq.md §5; the seed recipes in
// shared/recipes/). Layout:
//   <stage>:                      e.g. default_stage (optional `run_type: oneshot`)
//     <group>_modifiers:          e.g. default_modifiers
//       AWQModifier | QuantizationModifier:
//         config_groups: {name: {targets: [...], weights: {QuantizationArgs}, input_activations, format}}
//         targets / scheme        (preset form: scheme: W4A16, targets: [Linear])
//         ignore: [...]           exact module names, class names, or "re:" regexes
//         mappings: [{smooth_layer, balance_layers: [...], activation_hook_target}]   (AWQ)
//         duo_scaling: true|false|both, n_grid: 20                                    (AWQ)
// Every key is checked: unknown keys and unsupported values are InputErrors naming the key path.
#pragma once
#include <string>
#include <vector>

#include "quant/quant_args.h"

namespace mixq {

struct AwqMapping {
  std::string smooth_layer;
  std::vector<std::string> balance_layers;
  std::string activation_hook_target;  // empty = balance_layers[0]
};

struct AwqSettings {
  bool enabled = false;  // an AWQModifier was present
  std::vector<AwqMapping> mappings;
  std::string duo_scaling = "true";  // "true" | "false" | "both"
  int n_grid = 20;
};

struct RecipeGroup {
  std::string name;  // config_groups key (or the preset name)
  QuantScheme scheme;
};

struct Recipe {
  std::string source;  // file path or "<string>"; "PATH + OVERRIDE..." when overrides were applied
  std::string text;    // the YAML as given, or as merged with the overrides (for the manifest)
  std::vector<std::string> overrides;  // recipe override files applied in order (quant/recipe_overlay.h)
  std::vector<RecipeGroup> groups;  // in recipe order; a module matched by two groups is an error
  std::vector<std::string> ignore;
  AwqSettings awq;
  std::vector<std::string> modifiers;  // modifier names in order, e.g. {"AWQModifier"}
};

Recipe load_recipe(const std::string& path);
Recipe parse_recipe(const std::string& yaml_text, const std::string& source);

}  // namespace mixq
