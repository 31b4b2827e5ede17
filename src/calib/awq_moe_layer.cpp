#include "calib/awq_moe_layer.h"

#include "calib/awq_gram.h"
#include "calib/awq_parents.h"
#include "calib/awq_stats.h"

namespace mixq::calib {

MoeAwqReport awq_smooth_moe_layer(MoeLayerWeights& w, const Matrix& hidden, const MoeShape& shape,
                                  const MoeAwqOptions& opt, const std::string& layer_name) {
  MIXQ_ASSERT(hidden.cols == shape.hidden && int64_t(w.w1.size()) == shape.experts);
  MoeAwqReport rep;
  rep.tokens = hidden.rows;

  // Calibration pass over the original weights.
  const Matrix x = rms_norm(hidden, w.norm, opt.rms_norm_eps);
  const Routing routing = route_sigmoid_topk(x, w.gate, w.bias, opt.top_k);
  rep.routed_tokens.assign(size_t(shape.experts), 0);
  for (int32_t e : routing.expert) ++rep.routed_tokens[size_t(e)];
  XMeanAccumulator norm_stats(shape.hidden);
  norm_stats.add(x);

  // Norm mapping: balance = [gate, w1_0..E-1, w3_0..E-1], parent = MoE block with the real routing.
  {
    std::vector<BalanceLayer> bl{{&w.gate, false}};
    for (auto& m : w.w1) bl.push_back({&m, true});
    for (auto& m : w.w3) bl.push_back({&m, true});
    rep.norm = awq_search_best_scales(layer_name + ".post_attention_layernorm", bl, norm_stats.mean(),
                                      norm_stats.tokens(), moe_block_parent(x, routing, shape, w.w2), opt.search);
  }

  // w3 -> w2 per expert over all tokens; w2 inputs from the original w1/w3 (cached before smoothing).
  // w2's output is [N, hidden] like the block's, so the per-sample batch sizes are the same.
  for (int64_t e = 0; e < shape.experts; ++e) {
    const Matrix h = swiglu_intermediate(x, w.w1[size_t(e)], w.w3[size_t(e)]);
    XMeanAccumulator st(h.cols);
    st.add(h);
    std::vector<BalanceLayer> bl{{&w.w2[size_t(e)], true}};
    const std::string name = layer_name + ".experts." + std::to_string(e) + ".w3";
    if (opt.w2_gram_loss) {
      GramAccumulator g(h.cols);
      g.add(h);
      rep.w2.push_back(awq_search_best_scales_by_loss(name, bl, st.mean(), st.tokens(),
                                                      gram_trial_loss(w.w2[size_t(e)], g), opt.search));
    } else {
      rep.w2.push_back(awq_search_best_scales(name, bl, st.mean(), st.tokens(), linear_parent(h, shape.hidden),
                                              opt.search));
    }
  }

  // Apply: norm mapping first, then each expert's w3 -> w2.
  const Matrix gate_before = w.gate;
  apply_norm_mapping_scales(w, rep.norm.scales, opt.router);
  for (int64_t e = 0; e < shape.experts; ++e) apply_w3_w2_scales(w, int(e), rep.w2[size_t(e)].scales);

  // Routing after smoothing, with and without the gate compensation.
  const Matrix x_after = rms_norm(hidden, w.norm, opt.rms_norm_eps);
  Matrix gate_comp = gate_before;
  scale_balance_columns(gate_comp, rep.norm.scales, StoreAs::F32);
  rep.routing_change_compensated =
      routing_change_rate(routing, route_sigmoid_topk(x_after, gate_comp, w.bias, opt.top_k));
  rep.routing_change_uncompensated =
      routing_change_rate(routing, route_sigmoid_topk(x_after, gate_before, w.bias, opt.top_k));
  return rep;
}

}  // namespace mixq::calib
