// Simple, correct fp32 reference of MiniMax-M2's sparse MoE block (spec minimax-m2.md, router
// steps 1-6): router logits x @ Wg^T in fp32, sigmoid, top-k of (sigmoid + correction bias), combine
// weights = unbiased sigmoid of the chosen experts renormalized to 1, experts SwiGLU
// y = W2 (silu(W1 x) * (W3 x)). Used by the AWQ tests and as the parent forward until the runtime's
// engine provides a fast one; multi-threaded inside each expert's GEMMs, deterministic for any thread count.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "calib/matrix.h"

namespace mixq::calib {

// RMSNorm without offset: y = x / sqrt(mean(x^2) + eps) * w  (fp32; mean accumulated in fp32).
Matrix rms_norm(const Matrix& x, std::span<const float> w, float eps);

struct Routing {
  int64_t tokens = 0;
  int top_k = 0;
  std::vector<int32_t> expert;   // [tokens, top_k], by descending biased score (ties: lower index)
  std::vector<float> weight;     // [tokens, top_k], renormalized unbiased sigmoid scores
  std::vector<float> biased;     // [tokens, experts] sigmoid(logit) + bias, kept for tie analysis
  int64_t experts = 0;
};

// gate: [experts, hidden] fp32; bias: [experts] (empty = no correction bias).
Routing route_sigmoid_topk(const Matrix& x, const Matrix& gate, std::span<const float> bias, int top_k);

// Fraction of tokens whose SET of selected experts differs between two routings of the same tokens.
double routing_change_rate(const Routing& a, const Routing& b);

// Weights of expert e, part 0 = w1 [I,H], 1 = w3 [I,H], 2 = w2 [H,I]; may fill `scratch` (trial
// weights) and return its data. Called from the calling thread only (it may use the thread pool).
using ExpertWeightFn = std::function<const float*(int expert, int part, std::vector<float>& scratch)>;

struct MoeShape {
  int64_t hidden = 0, intermediate = 0, experts = 0;
};

// One expert on the rows of x: out[t] = W2 (silu(W1 x_t) * (W3 x_t)); out is [tokens, hidden]. fp32
// GEMMs from kernels/cpu (they differ from a plain k-order sum only in summation order), parallel over
// output rows; call from outside thread-pool regions.
void swiglu_expert_forward(const float* x, int64_t tokens, const float* w1, const float* w3, const float* w2,
                           const MoeShape& shape, float* out);

// The block output for the given routing: out[t] = sum_k weight[t,k] * expert_{e[t,k]}(x_t), summed in
// ascending expert id (HF's order, and the engine's). Each expert runs only on its routed tokens.
// out: [tokens, hidden]; no buffer of tokens x top_k x hidden (moe_reference.cpp).
void moe_block_forward(const Matrix& x, const Routing& routing, const MoeShape& shape,
                       const ExpertWeightFn& weights, Matrix& out);

// Convenience: weights held in Matrices.
ExpertWeightFn expert_weights_of(std::span<const Matrix> w1, std::span<const Matrix> w3, std::span<const Matrix> w2);
// Weights held as bf16: each decoded into the caller's scratch when asked (one expert in flight).
ExpertWeightFn expert_weights_of(std::span<const Bf16Matrix> w1, std::span<const Bf16Matrix> w3,
                                 std::span<const Bf16Matrix> w2);

}  // namespace mixq::calib
