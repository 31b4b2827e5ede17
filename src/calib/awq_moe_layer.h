// AWQ for one MiniMax-M2 MoE layer, all mappings in llm-compressor's order (spec §5.7): the norm ->
// {gate, w1, w3} mapping with the whole MoE block (real routing) as parent, then w3_e -> w2_e for
// every expert with w2's output as parent. Statistics and parent inputs all come from one
// calibration pass over the ORIGINAL weights; only then are the scales applied.
//
// All-experts calibration (§6): the norm statistics cover every token (the gate is the first balance
// layer), and every expert's w2 statistics and loss cover every token too, not only its routed ones.
// The report keeps how many tokens the real routing gave each expert.
//
// Memory: the norm output x [N, H] fp32 is the one activation kept; each expert's w2 input
// [N, I] is recomputed from x when its mapping is searched (one at a time), never cached for all.
#pragma once
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
};

struct MoeAwqReport {
  AwqSearchResult norm;                       // the norm mapping's search
  std::vector<AwqSearchResult> w2;            // per expert, w3_e -> w2_e
  std::vector<int64_t> routed_tokens;         // per expert: tokens the real top-k routing gave it
  int64_t tokens = 0;
  // Fraction of tokens whose top-k set changes after smoothing, with and without compensating the
  // gate (whichever `router` says was applied).
  double routing_change_compensated = 0.0, routing_change_uncompensated = 0.0;
};

// Smooths `w` in place (norm bf16, gate fp32 when compensating, experts bf16). `hidden` is the
// residual stream entering post_attention_layernorm for every calibration token [N, hidden].
MoeAwqReport awq_smooth_moe_layer(MoeLayerWeights& w, const Matrix& hidden, const MoeShape& shape,
                                  const MoeAwqOptions& opt, const std::string& layer_name = "layer");

}  // namespace mixq::calib
