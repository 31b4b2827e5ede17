// AWQ for one MiniMax-M2 MoE layer, all mappings in llm-compressor's order (spec §5.7): the norm ->
// {gate, w1, w3} mapping with the whole MoE block (real routing) as parent, then w3_e -> w2_e for
// every expert with w2's output as parent. Statistics and parent inputs all come from one
// calibration pass over the ORIGINAL weights; only then are the scales applied.
//
// All-experts calibration (§6): the norm statistics cover every token (the gate is the first balance
// layer), and every expert's w2 statistics and loss cover every token too, not only its routed ones.
// The report keeps how many tokens the real routing gave each expert.
//
// Which mappings run, and which balance layers carry a W4 scheme, come from the options (the
// pipeline resolves them from the recipe, calib/awq_mappings.h); the defaults are the published
// recipes' mappings for every expert with every expert matrix quantized.
//
// Memory: the layer's experts are held as bf16 (MoeLayerWeights) and decoded to fp32 one matrix at
// a time when used (the parent forwards hold one expert's w1/w3/w2, the search one trial matrix).
// The norm output x [N, H] fp32 is the one activation kept; each expert's w2 input [N, I] is
// recomputed from x when its mapping is searched (one at a time), never cached for all.
#pragma once
#include <span>
#include <vector>

#include "calib/awq_search.h"
#include "calib/moe_reference.h"
#include "calib/router_safe_smoothing.h"

namespace mixq::calib {

struct MoeAwqOptions {
  AwqSearchOptions search;  // n_grid, duo, group, qdq; batch_numel = tokens per sample x hidden
  RouterCompensation router = RouterCompensation::On;
  float rms_norm_eps = 1e-6f;
  int top_k = 8;
  // w3 -> w2 loss from the Gram matrix of w2's inputs (calib/awq_gram.h): ~21x fewer flops, equal in
  // real arithmetic, not bit-identical to llm-compressor's bf16-output loss.
  bool w2_gram_loss = false;
  // The mappings that run (empty vectors = every expert).
  bool norm_mapping = true;                                       // norm -> {gate, w1, w3}
  std::vector<uint8_t> w3_w2;                                     // per expert: w3_e -> w2_e runs
  std::vector<uint8_t> w1_quantized, w3_quantized, w2_quantized;  // per expert: has a W4 scheme
};

struct MoeAwqReport {
  bool norm_run = false;                      // the norm mapping ran (its scales were applied)
  AwqSearchResult norm;                       // the norm mapping's search
  std::vector<uint8_t> w2_run;                // per expert: w3_e -> w2_e ran
  std::vector<AwqSearchResult> w2;            // per expert, w3_e -> w2_e (skipped when not run)
  std::vector<int64_t> routed_tokens;         // per expert: tokens the real top-k routing gave it
  int64_t tokens = 0;
  // Fraction of tokens whose top-k set changes after smoothing, with and without compensating the
  // gate (whichever `router` says was applied).
  double routing_change_compensated = 0.0, routing_change_uncompensated = 0.0;

  // The scales smooth_expert_matrix takes for this layer (empty when the mapping did not run).
  std::span<const double> norm_scales() const { return norm_run ? std::span<const double>(norm.scales) : std::span<const double>(); }
  std::span<const double> w2_scales(int64_t e) const {
    return w2_run[size_t(e)] ? std::span<const double>(w2[size_t(e)].scales) : std::span<const double>();
  }
};

// Smooths `w` in place (norm bf16, gate fp32 when compensating, experts bf16, each expert matrix
// through smooth_expert_matrix). `hidden` is the residual stream entering post_attention_layernorm
// for every calibration token [N, hidden]. The chosen scales stay in the report, so the same
// smoothing can be re-applied to a fresh copy of any expert matrix (norm_scales / w2_scales).
// (Signature unchanged by the bf16 holding: callers that built fp32 experts convert them with
// Bf16Matrix::from.)
MoeAwqReport awq_smooth_moe_layer(MoeLayerWeights& w, const Matrix& hidden, const MoeShape& shape,
                                  const MoeAwqOptions& opt, const std::string& layer_name = "layer");

}  // namespace mixq::calib
