// The table of every MiniMax-M2 tensor (minimax-m2.md §2): name, expected logical shape, role.
// All tensor names are built here and nowhere else.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "io/tensor_view.h"
#include "model/minimax_m2_config.h"

namespace mixq {

enum class Role {
  Embedding, LmHead, FinalNorm, InputNorm, PostAttentionNorm, QProj, KProj, VProj, OProj, QNorm, KNorm,
  RouterGate, CorrectionBias, ExpertW1, ExpertW2, ExpertW3
};
// Coarser grouping used for reports and precision classes.
enum class ModuleKind { Embedding, LmHead, Norm, QkNorm, Attention, Router, RouterBias, Expert };

const char* role_name(Role r);
ModuleKind kind_of(Role r);
const char* kind_name(ModuleKind k);
bool role_is_linear(Role r);  // a Linear that a recipe may quantize (incl. router gate and lm_head)

struct ModuleEntry {
  std::string module;  // e.g. "model.layers.3.block_sparse_moe.experts.7.w1"
  std::string tensor;  // the high-precision tensor name: module + ".weight" (or the bias itself)
  Role role;
  int layer = -1, expert = -1;
  Shape shape;  // logical [out, in] for Linears
};

std::vector<ModuleEntry> minimax_m2_modules(const MiniMaxM2Config& c);

namespace names {
std::string layer(int l);                        // "model.layers.<l>"
std::string expert(int l, int e, int w);         // "...block_sparse_moe.experts.<e>.w<w>" (w = 1,2,3)
std::string attn(int l, const char* proj);       // "...self_attn.<proj>"  (q_proj, k_proj, ...)
std::string router_gate(int l);
std::string correction_bias(int l);
std::string input_norm(int l);
std::string post_attention_norm(int l);
inline const char* kEmbed = "model.embed_tokens";
inline const char* kLmHead = "lm_head";
inline const char* kFinalNorm = "model.norm";
}  // namespace names

// The decoder-layer index named by a tensor name ("model.layers.<N>."), if any.
std::optional<int> layer_index_of(const std::string& tensor_name);

// Parameter counts (exact, from the config).
struct ParamCounts {
  int64_t total = 0, per_layer = 0, per_expert = 0, attention_per_layer = 0, embed = 0, lm_head = 0;
  int64_t active = 0;  // per token: attention + norms + router + k experts, all layers (no embed/head)
};
ParamCounts count_parameters(const MiniMaxM2Config& c);

}  // namespace mixq
