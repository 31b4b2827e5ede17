// Sizes the checkpoint a recipe would produce, through the quantization planner (quant/quant_plan.h):
// one ModuleBytes per planned module, file_bytes = the planner's predicted shard bytes.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "plan/weight_inventory.h"

namespace mixq {

// `ck` may be null (config-only planning; `source` then overrides the source dtype as in
// quant::PlanOptions::source_dtype). `overrides`: recipe overlay files applied in order, as
// `mixq quantize --recipe-override` does (quant/recipe_overlay.h).
WeightInventory inventory_from_recipe(const MiniMaxM2Config& cfg, const Checkpoint* ck, const std::string& recipe_path,
                                      std::optional<DType> source, const std::vector<std::string>& overrides = {});

}  // namespace mixq
