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

// The weights one MoE decoder layer's expert mappings touch. Experts are held as bf16 (the values
// AWQ works on): 3 x E x I x H x 2 B, 7.2 GB at MiniMax-M2's real size (fp32 would be 14.5 GB).
struct MoeLayerWeights {
  std::vector<float> norm;               // post_attention_layernorm.weight [hidden]
  Matrix gate;                           // block_sparse_moe.gate.weight [experts, hidden], fp32
  std::vector<float> bias;               // e_score_correction_bias [experts], fp32
  std::vector<Bf16Matrix> w1, w3, w2;    // per expert: [I,H], [I,H], [H,I]
};

enum class RouterCompensation { On, Off };

// norm /= s; w1, w3 columns *= s (bf16); gate columns *= s in fp32 when compensating.
void apply_norm_mapping_scales(MoeLayerWeights& l, std::span<const double> s, RouterCompensation comp,
                               StoreAs norm_store = StoreAs::BF16);

// w3_e rows /= s; w2_e columns *= s (the w3 -> w2 mapping of expert e; bf16).
void apply_w3_w2_scales(MoeLayerWeights& l, int expert, std::span<const double> s);

// Both mappings' smoothing of ONE expert matrix, on a row-major buffer of its bf16 values, in
// llm-compressor's order: part 1 (w1) / 3 (w3): columns *= s_norm; then part 3: rows /= s_w2;
// part 2 (w2): columns *= s_w2. Each step stored bf16. An empty span = that mapping did not run.
// The same bits as apply_norm_mapping_scales followed by apply_w3_w2_scales.
void smooth_expert_matrix(float* w, int64_t rows, int64_t cols, int part, std::span<const double> s_norm,
                          std::span<const double> s_w2);

}  // namespace mixq::calib
