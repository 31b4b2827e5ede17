// Resolution of an AWQModifier's `mappings` against MiniMax-M2's modules, as llm-compressor >= 0.11
// does it (compressed-tensors-awq.md §5.2; `AWQModifier._set_resolved_mappings` over
// `compressed_tensors.utils.match_modules_set`), then checked against what mixq's per-layer pipeline
// can run.
//
// Resolution (generic, `resolve_awq_mappings`): for each mapping, in recipe order, the smooth and
// balance patterns are matched (re.match semantics, or exact name / class name) against the modules
// in named_modules() order; matches are grouped into sets by their lowest common ancestor (one set
// per decoder layer for the norm mapping, one per expert for w3 -> w2). A module matched by two
// patterns of one mapping, or a final incomplete set (some pattern matched nothing in it), is an
// InputError, as in compressed-tensors. A mapping whose patterns match nothing at all yields no set
// and is logged. A set needs exactly one smooth layer. A set is skipped (logged) when no layer in it
// has a quantization scheme, or for the v_proj -> o_proj shape mismatch of GQA.
//
// The recipe's `ignore` list does NOT remove modules from matching at >= 0.11 (the ignore belongs to
// the quantization modifier): an ignored module simply has no scheme. So an ignored balance layer
// is still scaled at smoothing time (the function is preserved) but is not QDQ'd in the grid search
// and not in w_mean; a mapping whose layers are all ignored is skipped. For the STRIX-2H recipe,
// which ignores the experts of layers 58-61, both mappings of those layers are skipped and those
// layers are not smoothed. (llm-compressor <= 0.8 instead dropped ignored modules from matching,
// which left ignored balance layers unscaled under a smoothed norm; the result for fully ignored
// layers is the same.)
//
// Pipeline shapes (`plan_awq_layers`): per decoder layer mixq runs
//   post_attention_layernorm -> {gate?, experts.*.w1, experts.*.w3}   parent: the MoE block
//   experts.e.w3 -> experts.e.w2                                      parent: that w2 Linear
// Anything else that is not skipped is an InputError naming the mapping (for instance
// input_layernorm -> q/k/v when attention is quantized, w1 -> w2 (not function-preserving: SiLU), a
// norm mapping that leaves some expert's w1/w3 unbalanced, a balance layer that is not a Linear).
// The router gate is balanced when the recipe names it or router compensation is on.
//
// Memory: one AwqModule per module (~64k at MiniMax-M2's real size, a few MB of names).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/minimax_m2_config.h"
#include "quant/quant_plan.h"
#include "quant/recipe.h"

namespace mixq::calib {

// One module as named_modules() lists it for MiniMaxM2ForCausalLM (checkpoint names).
struct AwqModule {
  std::string name;        // "" = the root model
  std::string class_name;  // "Linear", "MiniMaxM2RMSNorm", "ModuleList", "MiniMaxM2SparseMoeBlock", ...
  bool has_scheme = false; // a recipe config group targets it and no ignore entry matches
  bool int4 = false;       // that scheme is W4 group-wise (the grid search QDQs it)
  int64_t group = 0;       // its group size
  bool writable = false;   // the quantize job hands the tensor to the WeightTransform (W4, or a float copy)
  int64_t out = 0, in = 0; // Linear shape
};

// The module tree of MiniMaxM2ForCausalLM in named_modules() order, with the quantization plan's
// decision for each Linear and norm.
std::vector<AwqModule> minimax_m2_awq_modules(const MiniMaxM2Config& cfg, const QuantPlan& plan);

struct ResolvedAwqMapping {
  int mapping = -1;                  // index into the recipe's mappings
  std::string smooth;                // module name
  std::vector<std::string> balance;  // flattened in pattern order
  std::string parent;                // lowest common ancestor of the balance layers, past ModuleLists
  std::string hook;                  // activation_hook_target resolved (empty: balance[0])
  bool skipped = false;
  std::string skip_reason;
};

// llm-compressor's resolution over `modules` (named_modules() order). `where` prefixes errors.
// Skips are logged (MIXQ_INFO) and returned with skipped = true.
std::vector<ResolvedAwqMapping> resolve_awq_mappings(std::span<const AwqModule> modules,
                                                     std::span<const AwqMapping> mappings, const std::string& where);

// What the pipeline runs for one decoder layer.
struct AwqLayerPlan {
  int layer = -1;
  int norm = -1;               // index into AwqPlan::resolved of the norm -> experts mapping; -1: none
  bool gate_in_recipe = false; // the recipe itself names the router gate as a balance layer
  int64_t group = 32;          // the W4 group size of the layer's quantized balance layers (one per layer)
  std::vector<uint8_t> w1_q, w3_q, w2_q;  // per expert: has a W4 scheme (QDQ'd in the search)
  std::vector<int> w3_w2;      // per expert: index into AwqPlan::resolved, -1: not smoothed
  bool any() const;
};

struct AwqPlan {
  std::vector<ResolvedAwqMapping> resolved;
  std::vector<AwqLayerPlan> layers;  // one per decoder layer
};

// Resolves `awq.mappings` against the model and checks every resolved mapping is one the pipeline
// runs exactly (see the header comment). InputError naming the mapping otherwise.
AwqPlan plan_awq_layers(const MiniMaxM2Config& cfg, const QuantPlan& plan, const Recipe& recipe);

// "smooth re:... -> [re:..., re:...]" for messages and the report.
std::string describe_mapping(const AwqMapping& m);

}  // namespace mixq::calib
