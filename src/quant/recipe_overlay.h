// Recipe overrides: adapt a published recipe without editing it (mixq quantize --recipe-override).
// An overlay is a YAML document laid out like a recipe, merged into it:
//   - mappings merge key by key (recursively);
//   - anything else (lists, scalars, null) replaces the recipe's value: an `ignore:` list in an
//     overlay is the whole new list, not an addition;
//   - stages, modifier groups and modifiers must already exist in the recipe: a misspelt
//     `defualt_stage` is an error, not a silently added stage;
//   - where the recipe has a mapping the overlay must give one, and vice versa.
// The merged document is then parsed and validated like any recipe (parse_recipe: unknown keys and
// unsupported values are errors naming the key path). Errors name the overlay file and key path.
#pragma once
#include <string>
#include <vector>

#include "quant/recipe.h"

namespace mixq {

// The merged YAML text of `recipe_text` with `overlay_text` applied (emitted by yaml-cpp, comments
// dropped; a header comment names the sources). Throws InputError naming overlay_source + key path.
std::string apply_recipe_overlay(const std::string& recipe_text, const std::string& recipe_source, const std::string& overlay_text,
                                 const std::string& overlay_source);

// load_recipe(path) with each overlay file applied in order. Recipe::source becomes
// "PATH + OVERLAY1 + ..." and Recipe::text the merged YAML (so the manifest's recipe sha256 and
// the resume identity change with the overrides); Recipe::overrides lists the overlay paths.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overlays);

}  // namespace mixq
