// Router-safe smoothing of the MoE norm mapping (issue 6 item 5). The post-attention RMSNorm feeds
// both the experts and the router gate; dividing the norm weight by s divides the router input by s.
// Compensation multiplies the gate's columns by s (the gate stays fp32, unquantized), so the router
// logits are unchanged up to the bf16 rounding of the stored norm weight, and with them the top-k
// selection (up to near-ties). Without it (public MiniMax recipes omit the gate from the mapping)
// routing changes; routing_change_rate (calib/moe_reference.h) measures how much.
#pragma once
#include <span>
#include <vector>

#include "calib/awq_smoothing.h"
#include "calib/matrix.h"

namespace mixq::calib {

// The weights one MoE decoder layer's expert mappings touch.
struct MoeLayerWeights {
  std::vector<float> norm;           // post_attention_layernorm.weight [hidden]
  Matrix gate;                       // block_sparse_moe.gate.weight [experts, hidden], fp32
  std::vector<float> bias;           // e_score_correction_bias [experts], fp32
  std::vector<Matrix> w1, w3, w2;    // per expert: [I,H], [I,H], [H,I]
};

enum class RouterCompensation { On, Off };

// norm /= s; w1, w3 columns *= s (stored as `experts`); gate columns *= s in fp32 when compensating.
void apply_norm_mapping_scales(MoeLayerWeights& l, std::span<const double> s, RouterCompensation comp,
                               StoreAs norm_store = StoreAs::BF16, StoreAs experts = StoreAs::BF16);

// w3_e rows /= s; w2_e columns *= s (the w3 -> w2 mapping of expert e).
void apply_w3_w2_scales(MoeLayerWeights& l, int expert, std::span<const double> s, StoreAs as = StoreAs::BF16);

}  // namespace mixq::calib
