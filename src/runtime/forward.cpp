// The forward pass (minimax-m2.md §3), fp32 throughout. Numerics follow the fp32 reference of
// golden/README.md: RMSNorm as x * rsqrt(mean(x^2) + eps) * w; RoPE cos/sin of fp32 angles
// pos * inv_freq; router logits, sigmoid and top-k in fp32; expert outputs summed per token in
// ascending expert order. Threading: every Linear splits its output rows over the pool; the MoE
// splits (expert, row-chunk) tasks so a decode step costs two pool dispatches for all k experts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "runtime/model.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace mixq {

void rms_norm(const float* x, const float* w, int64_t rows, int64_t n, double eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * double(xr[i]);
    const float inv = 1.0f / std::sqrt(float(ss / double(n)) + float(eps));
    for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * inv) * w[i];
  }
}

namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// NeoX rotate-half on the first 2*half dims of each of `heads` heads of width d.
void apply_rope(float* x, int64_t T, int64_t heads, int64_t d, int64_t pos0, const std::vector<float>& inv_freq) {
  const int64_t half = int64_t(inv_freq.size());
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t j = 0; j < half; ++j) {
      const float a = float(pos0 + t) * inv_freq[size_t(j)];
      c[size_t(j)] = float(std::cos(double(a)));
      s[size_t(j)] = float(std::sin(double(a)));
    }
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * d;
      for (int64_t j = 0; j < half; ++j) {
        const float a = v[j], b = v[j + half];
        v[j] = a * c[size_t(j)] - b * s[size_t(j)];
        v[j + half] = b * c[size_t(j)] + a * s[size_t(j)];
      }
    }
  }
}

// Splits `tasks` independent work items over the pool, one at a time (they are coarse).
void run_tasks(size_t tasks, const std::function<void(size_t)>& fn) {
  ThreadPool::global().parallel_for(tasks, 1, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i) fn(i);
  });
}

int64_t round_up4(int64_t x) { return (x + 3) / 4 * 4; }

}  // namespace

void Model::embed(const int32_t* tokens, int64_t T, float* hidden) const {
  const int64_t H = cfg_.hidden_size;
  for (int64_t t = 0; t < T; ++t) {
    const int64_t id = tokens[t];
    if (id < 0 || id >= cfg_.vocab_size) fail("token id {} is outside the vocabulary [0, {})", id, cfg_.vocab_size);
    float* h = hidden + t * H;
    const uint8_t* row = embed_.data + size_t(id * H) * dtype_size(embed_.dtype);
    for (int64_t i = 0; i < H; ++i) {
      switch (embed_.dtype) {
        case DType::BF16: { uint16_t u; std::memcpy(&u, row + 2 * i, 2); h[i] = bf16_to_f32(u); break; }
        case DType::F16: { uint16_t u; std::memcpy(&u, row + 2 * i, 2); h[i] = f16_to_f32(u); break; }
        default: std::memcpy(&h[i], row + 4 * i, 4); break;
      }
    }
  }
}

void Model::attention_block(int l, const float* x, int64_t T, int64_t pos0, KvCache* cache, float* out,
                            LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t Q = cfg_.q_width(), KV = cfg_.kv_width(), d = cfg_.head_dim;
  std::vector<float> q(static_cast<size_t>(T * Q)), k(static_cast<size_t>(T * KV)), v(static_cast<size_t>(T * KV)), attn(static_cast<size_t>(T * Q));
  // q, k and v in one pool dispatch over their stacked output rows (a chunk may span two of them):
  // one wake-up instead of three, and both threads stay busy across the k/v tails.
  {
    const Linear* lin[3] = {&L.q, &L.k, &L.v};
    float* dst[3] = {q.data(), k.data(), v.data()};
    const int64_t end[3] = {Q, Q + KV, Q + 2 * KV};
    const int64_t threads = int64_t(ThreadPool::global().size());
    kernels::parallel_rows(end[2], std::max<int64_t>(16, end[2] / (threads * 4)), [&](int64_t b, int64_t e) {
      for (int i = 0; i < 3; ++i) {
        const int64_t lo = i == 0 ? 0 : end[i - 1];
        const int64_t s = std::max<int64_t>(b, lo), t = std::min<int64_t>(e, end[i]);
        if (s < t) lin[i]->rows(x, T, lin[i]->in(), dst[i], lin[i]->out(), s - lo, t - lo);
      }
    });
  }
  // QK-norm over the whole projection (all heads together), before the head split.
  rms_norm(q.data(), L.q_norm.data(), T, Q, cfg_.rms_norm_eps, q.data());
  rms_norm(k.data(), L.k_norm.data(), T, KV, cfg_.rms_norm_eps, k.data());
  apply_rope(q.data(), T, cfg_.num_attention_heads, d, pos0, inv_freq_);
  apply_rope(k.data(), T, cfg_.num_key_value_heads, d, pos0, inv_freq_);
  kernels::KvRows kv;
  int64_t apos0 = pos0;
  if (cache) {
    cache->store(l, pos0, T, k.data(), KV, v.data(), KV);
    kv = cache->rows(l);
  } else {
    MIXQ_ASSERT(pos0 == 0);  // without a cache the T rows are one whole sequence
    kv = {k.data(), v.data(), kernels::KvType::F32, KV};
    apos0 = 0;
  }
  const kernels::AttentionShape shape{cfg_.num_attention_heads, cfg_.num_key_value_heads, d,
                                      float(1.0 / std::sqrt(double(d)))};
  const size_t items = size_t(T * cfg_.num_attention_heads);
  ThreadPool::global().parallel_for(items, 4, [&](size_t b, size_t e, size_t) {
    kernels::attention(q.data(), Q, shape, apos0, kv, attn.data(), Q, int64_t(b), int64_t(e));
  });
  if (obs) obs->o_proj_input(l, attn.data(), T, Q);
  L.o.forward(attn.data(), T, out);
}

void Model::moe_block(int l, const float* x, int64_t T, float* out, LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size, E = cfg_.num_local_experts, K = cfg_.num_experts_per_tok;

  // Router: fp32 logits, sigmoid, top-k on (sigmoid + bias), unbiased weights renormalized.
  std::vector<float> logits(static_cast<size_t>(T * E));
  L.gate.forward(x, T, logits.data());
  std::vector<int32_t> sel(static_cast<size_t>(T * K));
  std::vector<float> wsel(static_cast<size_t>(T * K));
  {
    std::vector<float> s(static_cast<size_t>(E)), biased(static_cast<size_t>(E));
    std::vector<int32_t> idx(static_cast<size_t>(E));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t e = 0; e < E; ++e) {
        s[size_t(e)] = sigmoid(logits[size_t(t * E + e)]);
        biased[size_t(e)] = s[size_t(e)] + L.correction_bias[size_t(e)];
      }
      std::iota(idx.begin(), idx.end(), 0);
      std::partial_sort(idx.begin(), idx.begin() + K, idx.end(), [&](int32_t a, int32_t b) {
        return biased[size_t(a)] > biased[size_t(b)] || (biased[size_t(a)] == biased[size_t(b)] && a < b);
      });
      std::sort(idx.begin(), idx.begin() + K);  // ascending expert id: the summation order
      float sum = 0.f;
      for (int64_t j = 0; j < K; ++j) sum += s[size_t(idx[size_t(j)])];
      for (int64_t j = 0; j < K; ++j) {
        sel[size_t(t * K + j)] = idx[size_t(j)];
        wsel[size_t(t * K + j)] = s[size_t(idx[size_t(j)])] / sum;
      }
    }
  }
  if (obs) obs->router(l, logits.data(), T, E, RouterChoice{sel.data(), wsel.data(), K});

  // Group tokens by expert (prefill: each expert's weights stream once for all its tokens).
  const bool all = obs && obs->all_experts();
  std::vector<std::vector<int32_t>> tok(static_cast<size_t>(E));
  std::vector<int64_t> row_of(static_cast<size_t>(T * K));  // (t, j) -> row in the stacked expert buffers
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < K; ++j) tok[size_t(sel[size_t(t * K + j)])].push_back(int32_t(t));
  if (all)
    for (auto& v : tok) {
      v.resize(size_t(T));
      std::iota(v.begin(), v.end(), 0);
    }
  std::vector<int32_t> active;
  std::vector<int64_t> base(static_cast<size_t>(E), 0);
  int64_t rows = 0;
  for (int64_t e = 0; e < E; ++e)
    if (!tok[size_t(e)].empty()) {
      active.push_back(int32_t(e));
      base[size_t(e)] = rows;
      rows += int64_t(tok[size_t(e)].size());
    }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < K; ++j) {
      const auto& v = tok[size_t(sel[size_t(t * K + j)])];
      row_of[size_t(t * K + j)] = base[size_t(sel[size_t(t * K + j)])] +
                                  (std::lower_bound(v.begin(), v.end(), int32_t(t)) - v.begin());
    }
  std::vector<float> xs(static_cast<size_t>(rows * H)), g1(static_cast<size_t>(rows * I)), g3(static_cast<size_t>(rows * I)), ys(static_cast<size_t>(rows * H));
  for (int32_t e : active) {
    const auto& v = tok[size_t(e)];
    for (size_t i = 0; i < v.size(); ++i)
      std::memcpy(&xs[size_t((base[size_t(e)] + int64_t(i)) * H)], x + int64_t(v[i]) * H, size_t(H) * 4);
    if (obs) obs->expert_input(l, e, v.data(), &xs[size_t(base[size_t(e)] * H)], int64_t(v.size()), H);
  }

  // (expert, row-chunk) tasks; about two per thread, never below 16 rows.
  const int64_t threads = int64_t(ThreadPool::global().size());
  auto chunk_rows = [&](int64_t n) {
    const int64_t per_expert = std::max<int64_t>(1, (threads * 2 + int64_t(active.size()) - 1) / int64_t(active.size()));
    return std::max<int64_t>(16, round_up4((n + per_expert - 1) / per_expert));
  };
  struct Task { int32_t e; int64_t r0, r1; };
  auto make_tasks = [&](int64_t n) {
    std::vector<Task> ts;
    const int64_t c = chunk_rows(n);
    for (int32_t e : active)
      for (int64_t r = 0; r < n; r += c) ts.push_back({e, r, std::min(n, r + c)});
    return ts;
  };
  // Phase A: h = silu(x W1^T) * (x W3^T) for each expert's rows.
  auto ta = make_tasks(I);
  run_tasks(ta.size(), [&](size_t i) {
    const Task& tk = ta[i];
    const int64_t n = int64_t(tok[size_t(tk.e)].size()), b = base[size_t(tk.e)];
    const float* xe = &xs[size_t(b * H)];
    L.w1[size_t(tk.e)].rows(xe, n, H, &g1[size_t(b * I)], I, tk.r0, tk.r1);
    L.w3[size_t(tk.e)].rows(xe, n, H, &g3[size_t(b * I)], I, tk.r0, tk.r1);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = tk.r0; c < tk.r1; ++c) {
        float& a = g1[size_t((b + r) * I + c)];
        a = a * sigmoid(a) * g3[size_t((b + r) * I + c)];
      }
  });
  if (obs)
    for (int32_t e : active)
      obs->expert_down_input(l, e, tok[size_t(e)].data(), &g1[size_t(base[size_t(e)] * I)], int64_t(tok[size_t(e)].size()), I);
  // Phase B: y = h W2^T.
  auto tb = make_tasks(H);
  run_tasks(tb.size(), [&](size_t i) {
    const Task& tk = tb[i];
    const int64_t n = int64_t(tok[size_t(tk.e)].size()), b = base[size_t(tk.e)];
    L.w2[size_t(tk.e)].rows(&g1[size_t(b * I)], n, I, &ys[size_t(b * H)], H, tk.r0, tk.r1);
  });
  // Phase C: weighted sum per token in ascending expert order.
  for (int64_t t = 0; t < T; ++t) {
    float* o = out + t * H;
    std::fill(o, o + H, 0.f);
    for (int64_t j = 0; j < K; ++j) {
      const float w = wsel[size_t(t * K + j)];
      const float* y = &ys[size_t(row_of[size_t(t * K + j)] * H)];
      for (int64_t i = 0; i < H; ++i) o[i] += w * y[i];
    }
  }
}

void Model::decoder_layer(int l, float* hidden, int64_t T, int64_t pos0, KvCache* cache, LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t H = cfg_.hidden_size;
  std::vector<float> normed(static_cast<size_t>(T * H)), delta(static_cast<size_t>(T * H));
  rms_norm(hidden, L.input_norm.data(), T, H, cfg_.rms_norm_eps, normed.data());
  if (obs) obs->attention_input(l, normed.data(), T, H);
  attention_block(l, normed.data(), T, pos0, cache, delta.data(), obs);
  for (int64_t i = 0; i < T * H; ++i) hidden[i] += delta[size_t(i)];
  rms_norm(hidden, L.post_attention_norm.data(), T, H, cfg_.rms_norm_eps, normed.data());
  if (obs) obs->moe_input(l, normed.data(), T, H);
  moe_block(l, normed.data(), T, delta.data(), obs);
  for (int64_t i = 0; i < T * H; ++i) hidden[i] += delta[size_t(i)];
}

void Model::final_logits(const float* hidden, int64_t T, float* logits) const {
  std::vector<float> normed(static_cast<size_t>(T * cfg_.hidden_size));
  rms_norm(hidden, final_norm_.data(), T, cfg_.hidden_size, cfg_.rms_norm_eps, normed.data());
  lm_head_.forward(normed.data(), T, logits);
}

void Model::forward(const int32_t* tokens, int64_t T, KvCache& cache, float* all_logits, float* last_logits,
                    const ForwardOptions& opt, LayerObserver* obs) const {
  if (T <= 0) return;
  const int64_t pos = cache.length(), H = cfg_.hidden_size, V = cfg_.vocab_size;
  if (pos + T > cache.capacity())
    fail("context of {} tokens exceeds the KV cache capacity of {} tokens", pos + T, cache.capacity());
  const int64_t chunk = std::max<int64_t>(1, opt.prefill_chunk);
  std::vector<float> hidden;
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t n = std::min(chunk, T - c0);
    hidden.assign(size_t(n * H), 0.f);
    embed(tokens + c0, n, hidden.data());
    for (int l = 0; l < int(cfg_.num_hidden_layers); ++l) decoder_layer(l, hidden.data(), n, pos + c0, &cache, obs);
    cache.set_length(pos + c0 + n);
    if (all_logits) final_logits(hidden.data(), n, all_logits + c0 * V);
    if (last_logits && c0 + n == T) {
      if (all_logits) std::memcpy(last_logits, all_logits + (T - 1) * V, size_t(V) * 4);
      else final_logits(hidden.data() + (n - 1) * H, 1, last_logits);
    }
  }
}

}  // namespace mixq
