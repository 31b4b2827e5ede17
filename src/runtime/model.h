// The MiniMax-M2 engine: a Model loaded straight from a checkpoint directory (BF16, the official
// FP8-block release, or compressed-tensors W4A16 / mixed FP8 + INT4 / BF16 carve-outs; every
// Linear is whatever its tensors say, see model/linear_weight.h) and the forward pass of
// minimax-m2.md §3 with an fp32 residual stream, fp32 activations and fp32 accumulation:
//   x = embed[ids]; per layer: x += Attn(RMSNorm(x)); x += MoE(RMSNorm(x)); logits = head(RMSNorm(x))
// Attention: full-width QK RMSNorm before the head split, partial NeoX RoPE on the first rotary_dim
// dims, GQA, causal softmax scaled by 1/sqrt(head_dim). MoE: fp32 router, sigmoid, top-k on
// sigmoid + e_score_correction_bias, unbiased weights renormalized, SwiGLU experts, summed in
// ascending expert order.
//
// Layer-level entry points (decoder_layer, attention_block, moe_block) take a batch of hidden
// states, so calibration can run one layer at a time over many sequences, with a LayerObserver.
// Memory: weights stay mmap'd; owned memory is the norms/biases (fp32), the workspace of the
// current chunk (O(chunk * (hidden + k * intermediate)) floats) and the caller's KV caches.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "runtime/kv_cache.h"
#include "runtime/layer_observer.h"
#include "runtime/linear.h"
#include "runtime/phase_times.h"

namespace mixq {

struct LayerWeights {
  std::vector<float> input_norm, post_attention_norm, q_norm, k_norm, correction_bias;
  Linear q, k, v, o, gate;
  std::vector<Linear> w1, w2, w3;  // per expert
};

// Rows [row0, row0 + T) of a batch step belong to one sequence at positions pos0 .. pos0 + T - 1
// whose K/V live in kv (null: calibration, one whole sequence at position 0, no cache).
struct AttnSegment {
  int64_t row0 = 0, T = 0, pos0 = 0;
  KvSeq* kv = nullptr;
};

// One sequence's share of a batched forward step (forward_batch): T new tokens at positions
// pos0 .. pos0 + T - 1; logits = whether the step returns the logits of its last token.
struct BatchSegment {
  const int32_t* tokens = nullptr;
  int64_t T = 0, pos0 = 0;
  KvSeq* kv = nullptr;
  bool logits = false;
};

struct ForwardOptions {
  int64_t prefill_chunk = 256;  // tokens per forward step while prefilling (bounds workspace)
  PhaseTimes* phases = nullptr;  // when set, each phase's wall time is added to it (phase_times.h)
  // When set, the bytes of every distinct expert the MoE layers ran are added to it (each expert
  // once per layer and call: what a batched step must read; the serving benchmark's roofline).
  uint64_t* expert_bytes = nullptr;
};

class Model {
 public:
  // A checkpoint directory with config.json. Residency::Ram (--no-mmap, or the CLI's automatic
  // choice, io/residency.h) reads the shards into huge-page RAM instead of mapping them: slower to
  // load, faster to decode (io/mapped_file.h). There the INT4 weights are also rewritten in place into the row-interleaved
  // layout of kernels/cpu/matmul_int4_rows16.h (where the CPU allows; MIXQ_INT4_NATIVE=1 keeps
  // the native one), and the shards are then made read-only.
  explicit Model(const std::string& dir, Residency residency = Residency::Mapped);
  int64_t int4_rows16_matrices() const { return int4_rows16_; }  // how many were interleaved

  const MiniMaxM2Config& config() const { return cfg_; }
  const Checkpoint& checkpoint() const { return *ck_; }
  const LayerWeights& layer(int l) const { return layers_[size_t(l)]; }
  const Linear& lm_head() const { return lm_head_; }
  int64_t vocab() const { return cfg_.vocab_size; }
  std::string describe() const;  // one line: formats of attention / experts / head

  // Bytes of weights read to decode one token (attention + router + k experts per layer + head;
  // embedding row and norms ignored): the numerator of the bandwidth roofline.
  uint64_t decode_weight_bytes() const;
  // The same bytes split by the phase that reads them (attention and router weights, k experts,
  // head); the phases that read no weights get 0. Sums to decode_weight_bytes().
  std::array<uint64_t, kPhaseCount> decode_phase_bytes() const;

  // Runs `tokens` (appended at cache.length()) through the model in chunks; writes logits of every
  // position into all_logits ([T, vocab], when not null) and of the last position into last_logits.
  void forward(const int32_t* tokens, int64_t T, KvCache& cache, float* all_logits, float* last_logits,
               const ForwardOptions& opt = {}, LayerObserver* obs = nullptr) const;

  // One continuous-batching step over many sequences at different positions (runtime/scheduler.h):
  // every linear runs once on the stacked rows of all segments, the MoE groups all rows by expert
  // (each distinct expert's weights are read once per step), attention runs per sequence over its
  // own KV. Writes one row of logits per segment with logits = true, in segment order, [n, vocab].
  void forward_batch(const BatchSegment* segs, size_t nsegs, float* logits, const ForwardOptions& opt = {}) const;

  // --- layer-level API (hidden: [T, hidden] fp32, updated in place) ---
  void embed(const int32_t* tokens, int64_t T, float* hidden) const;
  // positions pos0 .. pos0+T-1. With a cache, K/V are stored at those positions and attention sees
  // the cache; without one (calibration), the T rows are one sequence starting at pos0 = 0.
  void decoder_layer(int l, float* hidden, int64_t T, int64_t pos0, KvCache* cache, LayerObserver* obs = nullptr) const;
  void attention_block(int l, const float* normed, int64_t T, int64_t pos0, KvCache* cache, float* out,
                       LayerObserver* obs = nullptr) const;  // out = o_proj(attn) [T, hidden]
  void moe_block(int l, const float* normed, int64_t T, float* out, LayerObserver* obs = nullptr) const;
  // The same over rows of several sequences (see AttnSegment).
  void decoder_layer_segments(int l, float* hidden, int64_t T, const AttnSegment* segs, size_t nsegs,
                              LayerObserver* obs = nullptr) const;
  void attention_segments(int l, const float* normed, int64_t T, const AttnSegment* segs, size_t nsegs, float* out,
                          LayerObserver* obs = nullptr) const;
  void final_logits(const float* hidden, int64_t T, float* logits) const;  // final norm + head

 private:
  std::unique_ptr<Checkpoint> ck_;
  MiniMaxM2Config cfg_;
  TensorView embed_;
  std::vector<float> final_norm_;
  int64_t int4_rows16_ = 0;
  Linear lm_head_;
  std::vector<LayerWeights> layers_;
  std::vector<float> inv_freq_;
};

// y = x * rsqrt(mean(x^2) + eps) * w over rows of n values (fp32).
void rms_norm(const float* x, const float* w, int64_t rows, int64_t n, double eps, float* y);

}  // namespace mixq
