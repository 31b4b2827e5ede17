#include "calib/awq_moe_layer.h"

#include "calib/awq_gram.h"
#include "calib/awq_parents.h"
#include "calib/awq_stats.h"

namespace mixq::calib {

namespace {

bool flag(const std::vector<uint8_t>& v, int64_t e) { return v.empty() || v[size_t(e)] != 0; }

}  // namespace

MoeAwqReport awq_smooth_moe_layer(MoeLayerWeights& w, const Matrix& hidden, const MoeShape& shape,
                                  const MoeAwqOptions& opt, const std::string& layer_name) {
  MIXQ_ASSERT(hidden.cols == shape.hidden && int64_t(w.w1.size()) == shape.experts);
  const int64_t E = shape.experts;
  for (const auto* v : {&opt.w3_w2, &opt.w1_quantized, &opt.w3_quantized, &opt.w2_quantized})
    MIXQ_ASSERT(v->empty() || int64_t(v->size()) == E);
  MoeAwqReport rep;
  rep.tokens = hidden.rows;

  // Calibration pass over the original weights.
  const Matrix x = rms_norm(hidden, w.norm, opt.rms_norm_eps);
  const Routing routing = route_sigmoid_topk(x, w.gate, w.bias, opt.top_k);
  rep.routed_tokens.assign(size_t(E), 0);
  for (int32_t e : routing.expert) ++rep.routed_tokens[size_t(e)];

  // Norm mapping: balance = [gate, w1_0..E-1, w3_0..E-1], parent = MoE block with the real routing.
  // The gate is unquantized, so the search neither QDQs it nor puts it in w_mean: listing it changes
  // no result whether or not it is compensated afterwards (that is decided when applying).
  rep.norm_run = opt.norm_mapping;
  if (rep.norm_run) {
    XMeanAccumulator norm_stats(shape.hidden);
    norm_stats.add(x);
    std::vector<BalanceLayer> bl{{&w.gate, false}};
    for (int64_t e = 0; e < E; ++e) bl.push_back({nullptr, flag(opt.w1_quantized, e), &w.w1[size_t(e)]});
    for (int64_t e = 0; e < E; ++e) bl.push_back({nullptr, flag(opt.w3_quantized, e), &w.w3[size_t(e)]});
    const ParentForward parent = moe_block_parent(x, routing, shape, w.w2);
    rep.norm = awq_search_best_scales(layer_name + ".post_attention_layernorm", bl, norm_stats.mean(),
                                      norm_stats.tokens(), parent, opt.search);
  }

  // w3 -> w2 per expert over all tokens; w2 inputs from the original w1/w3 (cached before smoothing).
  // w2's output is [N, hidden] like the block's, so the per-sample batch sizes are the same.
  rep.w2_run.assign(size_t(E), 0);
  for (int64_t e = 0; e < E; ++e) {
    rep.w2_run[size_t(e)] = flag(opt.w3_w2, e);
    if (!rep.w2_run[size_t(e)]) {
      AwqSearchResult none;
      none.skipped = true;
      rep.w2.push_back(std::move(none));
      continue;
    }
    const Matrix h = swiglu_intermediate(x, w.w1[size_t(e)], w.w3[size_t(e)]);
    XMeanAccumulator st(h.cols);
    st.add(h);
    const bool q = flag(opt.w2_quantized, e);
    const std::string name = layer_name + ".block_sparse_moe.experts." + std::to_string(e) + ".w3";
    if (opt.w2_gram_loss) {
      GramAccumulator g(h.cols);
      g.add(h);
      const Matrix w2 = w.w2[size_t(e)].to_matrix();  // this expert's w2 only
      std::vector<BalanceLayer> bl{{&w2, q}};
      rep.w2.push_back(awq_search_best_scales_by_loss(name, bl, st.mean(), st.tokens(), gram_trial_loss(w2, g),
                                                      opt.search));
    } else {
      std::vector<BalanceLayer> bl{{nullptr, q, &w.w2[size_t(e)]}};
      rep.w2.push_back(awq_search_best_scales(name, bl, st.mean(), st.tokens(), linear_parent(h, shape.hidden),
                                              opt.search));
    }
  }

  // Apply: norm mapping first, then each expert's w3 -> w2, one expert matrix decoded at a time.
  const Matrix gate_before = w.gate;
  if (rep.norm_run) {
    smooth_norm_weight(w.norm, rep.norm.scales, StoreAs::BF16);
    if (opt.router == RouterCompensation::On) scale_balance_columns(w.gate, rep.norm.scales, StoreAs::F32);
  }
  std::vector<float> buf;
  for (int64_t e = 0; e < E; ++e)
    for (int part : {1, 3, 2}) {
      Bf16Matrix& m = part == 1 ? w.w1[size_t(e)] : part == 3 ? w.w3[size_t(e)] : w.w2[size_t(e)];
      if (part == 2 ? !rep.w2_run[size_t(e)] : (!rep.norm_run && (part == 1 || !rep.w2_run[size_t(e)]))) continue;
      m.decode(buf);
      smooth_expert_matrix(buf.data(), m.rows, m.cols, part, rep.norm_scales(), rep.w2_scales(e));
      m = Bf16Matrix::from(buf.data(), m.rows, m.cols);
    }

  // Routing after smoothing, with and without the gate compensation.
  if (rep.norm_run) {
    const Matrix x_after = rms_norm(hidden, w.norm, opt.rms_norm_eps);
    Matrix gate_comp = gate_before;
    scale_balance_columns(gate_comp, rep.norm.scales, StoreAs::F32);
    rep.routing_change_compensated =
        routing_change_rate(routing, route_sigmoid_topk(x_after, gate_comp, w.bias, opt.top_k));
    rep.routing_change_uncompensated =
        routing_change_rate(routing, route_sigmoid_topk(x_after, gate_before, w.bias, opt.top_k));
  }
  return rep;
}

}  // namespace mixq::calib
