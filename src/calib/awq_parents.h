// Parent forwards for the two MiniMax-M2 expert mappings (spec §5.3), as ParentForward callbacks for
// awq_search_best_scales. Balance-layer order follows llm-compressor's resolution (pattern order):
//   norm -> [gate, experts.0..E-1.w1, experts.0..E-1.w3]   parent = the whole MoE block, real routing
//   w3_e -> [experts.e.w2]                                  parent = that w2 Linear
// These use the fp32 reference MoE (calib/moe_reference.h); the runtime engine's fast block replaces
// them in the pipeline through the same callback type.
#pragma once
#include <span>

#include "calib/awq_search.h"
#include "calib/moe_reference.h"

namespace mixq::calib {

// The MoE block on cached inputs x [tokens, hidden] with a FIXED routing (the router's input and
// weights are unchanged during the search, so routing is too). w2 is not a balance layer here.
// w2 is held as bf16 and decoded per expert per run.
ParentForward moe_block_parent(const Matrix& x, const Routing& routing, const MoeShape& shape,
                               std::span<const Bf16Matrix> w2);

// A single Linear on its cached inputs x [tokens, in]: out = x W^T, balance layer 0 = W.
ParentForward linear_parent(const Matrix& x, int64_t out_features);

// The SwiGLU intermediate of one expert, h = silu(x W1^T) * (x W3^T): the cached input of its w2.
Matrix swiglu_intermediate(const Matrix& x, const Matrix& w1, const Matrix& w3);
Matrix swiglu_intermediate(const Matrix& x, const Bf16Matrix& w1, const Bf16Matrix& w3);  // decodes both

}  // namespace mixq::calib
