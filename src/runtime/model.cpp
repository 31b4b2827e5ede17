// Model loading: every tensor is looked up through the model/ tensor table names and checked
// against the config; Linear storage is detected per module (see model/linear_weight.h).
#include <fmt/format.h>

#include <cmath>
#include <map>

#include "model/tensor_table.h"
#include "runtime/model.h"
#include "util/error.h"

namespace mixq {

namespace {

// FP8 block shape: the official release's weight_block_size, or a compressed-tensors group's
// block_structure ("strategy": "block"); 128x128 otherwise.
std::pair<int64_t, int64_t> fp8_block_of(const MiniMaxM2Config& c) {
  if (c.quant == CheckpointQuant::Fp8Block) return {c.fp8.block_n, c.fp8.block_k};
  if (c.quant == CheckpointQuant::CompressedTensors && c.quantization_config.contains("config_groups")) {
    for (const auto& [name, g] : c.quantization_config["config_groups"].items()) {
      if (!g.contains("weights") || !g["weights"].is_object()) continue;
      const auto& w = g["weights"];
      if (w.value("strategy", "") == "block" && w.contains("block_structure") && w["block_structure"].is_array() &&
          w["block_structure"].size() == 2)
        return {w["block_structure"][0].get<int64_t>(), w["block_structure"][1].get<int64_t>()};
    }
  }
  return {128, 128};
}

std::vector<float> load_vector(const Checkpoint& ck, const std::string& name, int64_t n) {
  if (!ck.has(name)) fail("{}: tensor '{}' is missing", ck.dir(), name);
  auto v = ck.view(name);
  if (!dtype_is_float(v.dtype) || v.numel() != n)
    fail("{}: '{}' is {} {}, expected {} float values", ck.dir(), name, dtype_name(v.dtype), shape_str(v.shape), n);
  return v.to_f32();
}

}  // namespace

Model::Model(const std::string& dir, Residency residency) {
  ck_ = std::make_unique<Checkpoint>(dir, residency);
  if (!ck_->has_config()) fail("{}: no config.json", dir);
  cfg_ = load_minimax_m2_config(ck_->config_path());
  const auto& c = cfg_;
  if (c.scoring_func != "sigmoid") fail("{}: scoring_func '{}' is not supported (sigmoid only)", dir, c.scoring_func);
  if (c.tie_word_embeddings) fail("{}: tie_word_embeddings=true is not supported", dir);
  const int64_t H = c.hidden_size, Q = c.q_width(), KV = c.kv_width(), I = c.intermediate_size;
  const auto [bn, bk] = fp8_block_of(c);
  auto linear = [&](const std::string& m, int64_t out, int64_t in) {
    Shape s{out, in};
    Linear lin(load_linear(*ck_, m, &s, bn, bk));
    // Residency::Ram: the RAM copy is ours, so INT4 weights take the interleaved layout in place
    if (residency == Residency::Ram && lin.interleave_in_place(*ck_)) ++int4_rows16_;
    return lin;
  };

  const std::string emb = std::string(names::kEmbed) + ".weight";
  if (!ck_->has(emb)) fail("{}: tensor '{}' is missing", dir, emb);
  embed_ = ck_->view(emb);
  if (embed_.shape != Shape{c.vocab_size, H} ||
      (embed_.dtype != DType::BF16 && embed_.dtype != DType::F32 && embed_.dtype != DType::F16))
    fail("{}: '{}' is {} {}, expected BF16/F16/F32 [{}, {}]", dir, emb, dtype_name(embed_.dtype), shape_str(embed_.shape),
         c.vocab_size, H);
  final_norm_ = load_vector(*ck_, std::string(names::kFinalNorm) + ".weight", H);
  lm_head_ = linear(names::kLmHead, c.vocab_size, H);

  layers_.resize(size_t(c.num_hidden_layers));
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    auto& L = layers_[size_t(l)];
    L.input_norm = load_vector(*ck_, names::input_norm(l) + ".weight", H);
    L.post_attention_norm = load_vector(*ck_, names::post_attention_norm(l) + ".weight", H);
    L.q_norm = load_vector(*ck_, names::attn(l, "q_norm") + ".weight", Q);
    L.k_norm = load_vector(*ck_, names::attn(l, "k_norm") + ".weight", KV);
    L.q = linear(names::attn(l, "q_proj"), Q, H);
    L.k = linear(names::attn(l, "k_proj"), KV, H);
    L.v = linear(names::attn(l, "v_proj"), KV, H);
    L.o = linear(names::attn(l, "o_proj"), H, Q);
    L.gate = linear(names::router_gate(l), c.num_local_experts, H);
    if (c.use_routing_bias) L.correction_bias = load_vector(*ck_, names::correction_bias(l), c.num_local_experts);
    else L.correction_bias.assign(size_t(c.num_local_experts), 0.f);
    for (int e = 0; e < int(c.num_local_experts); ++e) {
      L.w1.push_back(linear(names::expert(l, e, 1), I, H));
      L.w2.push_back(linear(names::expert(l, e, 2), H, I));
      L.w3.push_back(linear(names::expert(l, e, 3), I, H));
    }
  }
  ck_->seal();
  // RoPE inverse frequencies, fp32 as in HF: 1 / theta^(2j / rotary_dim).
  const int64_t rot = c.rotary_dim > 0 ? c.rotary_dim : c.head_dim;
  if (rot % 2 || rot > c.head_dim) fail("{}: rotary_dim {} must be even and <= head_dim {}", dir, rot, c.head_dim);
  for (int64_t j = 0; j < rot / 2; ++j) {
    const float e = float(2 * j) / float(rot);
    inv_freq_.push_back(1.0f / float(std::pow(double(float(c.rope_theta)), double(e))));
  }
}

std::string Model::describe() const {
  const auto& L = layers_.at(0);
  auto lbl = [](const Linear& x) { return std::string(format_name(x.format())); };
  return fmt::format("{} layers, hidden {}, {} experts (top-{}); attention {}, experts {}, router {}, lm_head {}",
                     cfg_.num_hidden_layers, cfg_.hidden_size, cfg_.num_local_experts, cfg_.num_experts_per_tok, lbl(L.q),
                     lbl(L.w1.at(0)), lbl(L.gate), lbl(lm_head_));
}

std::array<uint64_t, kPhaseCount> Model::decode_phase_bytes() const {
  std::array<uint64_t, kPhaseCount> b{};
  auto at = [&](Phase p) -> uint64_t& { return b[size_t(p)]; };
  at(Phase::LmHead) = lm_head_.bytes();
  for (const auto& L : layers_) {
    at(Phase::QkvProj) += L.q.bytes() + L.k.bytes() + L.v.bytes();
    at(Phase::OProj) += L.o.bytes();
    at(Phase::Router) += L.gate.bytes();
    // k experts: use the mean expert size (experts of one layer share one format in practice).
    uint64_t all = 0;
    for (size_t e = 0; e < L.w1.size(); ++e) all += L.w1[e].bytes() + L.w2[e].bytes() + L.w3[e].bytes();
    at(Phase::Experts) += all / L.w1.size() * uint64_t(cfg_.num_experts_per_tok);
  }
  return b;
}

uint64_t Model::decode_weight_bytes() const {
  uint64_t b = 0;
  for (uint64_t x : decode_phase_bytes()) b += x;
  return b;
}

}  // namespace mixq
