// Seeded generator of MiniMax-M2-shaped checkpoints of any size (`mixq synth`), as BF16 or as an
// FP8-block release exactly like the official one (F8_E4M3 weights + F32 weight_scale_inv 128x128,
// F32 router gate and bias, quantization_config quant_method fp8). Weights carry realistic
// statistics (a few outlier input channels per layer, per-channel scale spread) so quantization
// algorithms have something real to fix. Written through the streaming writer: memory stays
// bounded by the largest tensor whatever the model size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/minimax_m2_config.h"

namespace mixq {

struct SynthOptions {
  MiniMaxM2Config config;           // every architecture field (defaults: a small model)
  bool fp8 = false;                 // FP8-block release instead of BF16
  uint64_t seed = 0;
  uint64_t max_shard_bytes = 2'000'000'000ull;
  int outlier_channels = 4;         // per layer, on the post-attention norm input side
  float outlier_scale = 20.0f;
};

// A valid small default config (hidden 256, 4 layers, 8 experts top-2, vocab 4096, ...).
MiniMaxM2Config default_synth_config();
// Writes config.json + safetensors (+ index when sharded) into `dir` (created if needed).
void write_synthetic_model(const SynthOptions& opt, const std::string& dir);

// The hidden channels of `layer` that carry outliers: post_attention_layernorm.weight is
// `outlier_scale` times larger there and the matching input columns of the router gate and every
// expert's w1/w3 are `outlier_scale` times smaller (the layer computes the same function, but the
// activations entering the experts have K large channels, as in real MoE models). Sorted.
std::vector<int64_t> synth_outlier_channels(const SynthOptions& opt, int layer);

}  // namespace mixq
