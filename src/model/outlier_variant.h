// A function-preserving "outlier variant" of a BF16 MiniMax-M2 checkpoint (issue 6 acceptance):
// for K hidden channels c per decoder layer, post_attention_layernorm.weight[c] *= alpha_c and the
// matching input columns of the router gate and of every expert's w1 / w3 are divided by alpha_c.
// RMSNorm's output is linear in its weight, so gate / w1 / w3 see exactly the same products and the
// model computes the same function up to the storage rounding (bf16 norm and experts, fp32 gate).
// The activations entering the experts then carry K large channels, which is what AWQ is for.
//
// alpha_c is uniform in [lo, hi], the channels distinct and uniform; both from a splitmix64 stream
// seeded by (seed, layer), so the output is deterministic. Every other tensor is copied byte for
// byte, and every non-safetensors file of the input (config, tokenizer, chat template...) too.
// Memory: one tensor at a time (the largest expert matrix as fp32), streamed through the writer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixq {

struct OutlierVariantOptions {
  int channels = 4;                  // K per layer
  float scale_lo = 10.0f, scale_hi = 50.0f;
  uint64_t seed = 0;
};

struct OutlierLayerChoice {
  std::vector<int64_t> channels;     // sorted
  std::vector<float> alpha;          // same order
};

// The channels and gains of one layer (what write_outlier_variant applies).
OutlierLayerChoice outlier_choice(const OutlierVariantOptions& opt, int layer, int64_t hidden);

// Reads the BF16 checkpoint `from`, writes the variant into `dir` (created). FP8 experts are an
// InputError (their columns cannot be rescaled without requantizing).
void write_outlier_variant(const std::string& from, const std::string& dir, const OutlierVariantOptions& opt);

}  // namespace mixq
