// A small random MiniMax-M2-style MoE layer with outlier channels, for the calib tests.
#pragma once
#include <random>

#include "calib/router_safe_smoothing.h"
#include "calib/moe_reference.h"
#include "util/dtype.h"

namespace mixq::calib::testing {

struct TinyMoe {
  MoeShape shape;
  int top_k = 2;
  MoeLayerWeights w;
  Matrix hidden;  // residual stream entering post_attention_layernorm [tokens, H]
};

inline Matrix random_matrix(int64_t r, int64_t c, float stddev, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, stddev);
  Matrix m(r, c);
  for (auto& v : m.data) v = round_bf16(nd(rng));
  return m;
}

// Norm weights with a few large channels make the norm output (the experts' input) have outlier
// channels, the situation AWQ is for.
inline TinyMoe make_tiny_moe(uint32_t seed, int64_t tokens = 256, int64_t H = 64, int64_t I = 32,
                             int64_t E = 8, int top_k = 2) {
  std::mt19937 rng(seed);
  TinyMoe m;
  m.shape = {H, I, E};
  m.top_k = top_k;
  std::uniform_real_distribution<float> u(0.8f, 1.2f);
  m.w.norm.resize(size_t(H));
  for (auto& v : m.w.norm) v = round_bf16(u(rng));
  for (int64_t c : {3, 17, 40}) if (c < H) m.w.norm[size_t(c)] = 12.0f;
  m.w.gate = random_matrix(E, H, 0.15f, rng);
  for (auto& v : m.w.gate.data) v = v;  // fp32 router: any value
  std::normal_distribution<float> nb(0.0f, 0.02f);
  m.w.bias.resize(size_t(E));
  for (auto& v : m.w.bias) v = nb(rng);
  for (int64_t e = 0; e < E; ++e) {
    m.w.w1.push_back(Bf16Matrix::from(random_matrix(I, H, 0.1f, rng)));  // bf16-valued: exact
    m.w.w3.push_back(Bf16Matrix::from(random_matrix(I, H, 0.1f, rng)));
    m.w.w2.push_back(Bf16Matrix::from(random_matrix(H, I, 0.1f, rng)));
  }
  m.hidden = random_matrix(tokens, H, 1.0f, rng);
  return m;
}

struct MoeOutput {
  Matrix x;        // norm output
  Routing routing;
  Matrix y;        // block output
};

inline MoeOutput run_moe(const TinyMoe& m, const MoeLayerWeights& w) {
  MoeOutput o;
  o.x = rms_norm(m.hidden, w.norm, 1e-6f);
  o.routing = route_sigmoid_topk(o.x, w.gate, w.bias, m.top_k);
  moe_block_forward(o.x, o.routing, m.shape,
                    expert_weights_of(std::span<const Bf16Matrix>(w.w1), std::span<const Bf16Matrix>(w.w3),
                                      std::span<const Bf16Matrix>(w.w2)),
                    o.y);
  return o;
}

// The experts as fp32 matrices, for checks of the smoothing math without bf16 storage rounding.
struct Fp32Experts {
  std::vector<Matrix> w1, w3, w2;
  explicit Fp32Experts(const MoeLayerWeights& w) {
    for (const auto& m : w.w1) w1.push_back(m.to_matrix());
    for (const auto& m : w.w3) w3.push_back(m.to_matrix());
    for (const auto& m : w.w2) w2.push_back(m.to_matrix());
  }
};

inline MoeOutput run_moe_fp32(const TinyMoe& m, std::span<const float> norm, const Matrix& gate, const Fp32Experts& x) {
  MoeOutput o;
  o.x = rms_norm(m.hidden, norm, 1e-6f);
  o.routing = route_sigmoid_topk(o.x, gate, m.w.bias, m.top_k);
  moe_block_forward(o.x, o.routing, m.shape, expert_weights_of(x.w1, x.w3, x.w2), o.y);
  return o;
}

// The quantized expert matrices of a layer, for compute_w_mean.
inline std::vector<Matrix> fp32_of(const std::vector<Bf16Matrix>& a, const std::vector<Bf16Matrix>& b = {}) {
  std::vector<Matrix> v;
  for (const auto& m : a) v.push_back(m.to_matrix());
  for (const auto& m : b) v.push_back(m.to_matrix());
  return v;
}
inline std::vector<const Matrix*> ptrs(const std::vector<Matrix>& v) {
  std::vector<const Matrix*> p;
  for (const auto& m : v) p.push_back(&m);
  return p;
}

inline double rel_l2(const Matrix& a, const Matrix& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const double d = double(a.data[i]) - double(b.data[i]);
    num += d * d;
    den += double(a.data[i]) * double(a.data[i]);
  }
  return std::sqrt(num / den);
}

}  // namespace mixq::calib::testing
