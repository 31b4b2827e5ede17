#include "plan/recipe_inventory.h"

#include "quant/quant_plan.h"
#include "quant/recipe.h"
#include "quant/recipe_overlay.h"

namespace mixq {

WeightInventory inventory_from_recipe(const MiniMaxM2Config& cfg, const Checkpoint* ck, const std::string& recipe_path,
                                      std::optional<DType> source, const std::vector<std::string>& overrides) {
  const Recipe recipe = load_recipe(recipe_path, overrides);
  PlanOptions opt;
  opt.source_dtype = source;
  const QuantPlan qp = ck ? plan_quantization(*ck, cfg, recipe, opt) : plan_quantization(cfg, recipe, opt);
  WeightInventory inv;
  inv.origin = "recipe";
  inv.file_bytes = qp.predicted_bytes;
  inv.modules.reserve(qp.modules.size());
  for (const auto& d : qp.modules) {
    ModuleBytes m;
    m.module = d.module;
    m.role = d.role;
    m.layer = d.layer;
    m.expert = d.expert;
    m.shape = d.shape;
    m.precision = d.precision();
    m.bytes = d.bytes();
    if (d.action == Action::Int4Pack) {
      m.stored = StoredAs::Int4Group;
      m.group_size = d.group >= 0 ? qp.groups[size_t(d.group)].group_size() : 0;
    } else if (d.action == Action::Fp8Keep) {
      m.stored = StoredAs::Fp8Block;
      m.block_n = m.block_k = 128;
      if (d.group >= 0) {
        const auto& bs = qp.groups[size_t(d.group)].weights.block_structure;
        if (bs && bs->size() == 2) {
          m.block_n = (*bs)[0];
          m.block_k = (*bs)[1];
        }
      }
    }
    inv.modules.push_back(std::move(m));
  }
  return inv;
}

}  // namespace mixq
