// Hooks into one decoder layer's forward pass, for calibration (AWQ needs the inputs of every
// Linear), routing statistics and debugging. Pointers are valid only during the call; rows are
// fp32, densely packed. The default implementation observes nothing.
#pragma once
#include <cstdint>

namespace mixq {

struct RouterChoice {
  const int32_t* experts;  // [T, k] selected expert ids, ascending per token
  const float* weights;    // [T, k] renormalized unbiased sigmoid scores, same order
  int64_t k;
};

class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  // input_layernorm output: the input of q_proj / k_proj / v_proj. [T, hidden]
  virtual void attention_input(int layer, const float* x, int64_t T, int64_t width) {}
  // concatenated attention heads: the input of o_proj. [T, nh * head_dim]
  virtual void o_proj_input(int layer, const float* x, int64_t T, int64_t width) {}
  // post_attention_layernorm output: the input of the router and of every expert's w1 / w3.
  virtual void moe_input(int layer, const float* x, int64_t T, int64_t width) {}
  // fp32 router logits [T, E] (before sigmoid) and the routing decision.
  virtual void router(int layer, const float* logits, int64_t T, int64_t E, const RouterChoice& choice) {}
  // Rows (token indices `tokens`, n of them) that expert e processes: its w1/w3 input and its w2
  // input silu(w1 x) * (w3 x). With all_experts(), every expert sees every token (llm-compressor's
  // all-experts calibration); the layer's output still uses only the routed experts.
  virtual void expert_input(int layer, int expert, const int32_t* tokens, const float* x, int64_t n, int64_t width) {}
  virtual void expert_down_input(int layer, int expert, const int32_t* tokens, const float* x, int64_t n, int64_t width) {}
  virtual bool all_experts() const { return false; }
};

}  // namespace mixq
