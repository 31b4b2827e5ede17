// The forward pass (minimax-m2.md §3), fp32 throughout. Numerics follow the fp32 reference of
// golden/README.md: RMSNorm as x * rsqrt(mean(x^2) + eps) * w; RoPE cos/sin of fp32 angles
// pos * inv_freq; router logits, sigmoid and top-k in fp32; expert outputs summed per token in
// ascending expert order. Threading: every Linear splits its output rows over the pool (small ones,
// like the router, run on the calling thread); the MoE runs all k experts' (expert, row-chunk)
// tasks, both phases, in one pool dispatch per layer; attention over a short context runs
// inline. Scratch buffers come from per-thread workspaces (runtime/workspace.h): no allocation
// per decoded token.
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <utility>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "runtime/model.h"
#include "runtime/workspace.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace mixq {

void rms_norm(const float* x, const float* w, int64_t rows, int64_t n, double eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    // Sum of squares in double, over 8 independent partial sums: one chain of n dependent double
    // adds cost ~4 cycles each (7 us for the 6144-wide q-norm, a serial gap in every decode layer
    // while the other threads wait); 8 chains vectorize and overlap.
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
#pragma GCC unroll 8  // fully: otherwise part[] lives on the stack (a store-forward per add)
      for (int k = 0; k < 8; ++k) part[k] += double(xr[i + k]) * double(xr[i + k]);
    for (; i < n; ++i) part[0] += double(xr[i]) * double(xr[i]);
    const double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    const float inv = 1.0f / std::sqrt(float(ss / double(n)) + float(eps));
    for (i = 0; i < n; ++i) yr[i] = (xr[i] * inv) * w[i];
  }
}

namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// cos and sin of the RoPE angles (pos0 + t) * inv_freq[j], fp32 angles evaluated in double, for
// T positions: [t][j]. Every layer rotates the same positions, so the table of the last call is
// kept (per thread) and reused: computed once per forward pass, not twice per layer.
struct RopeTable {
  int64_t pos0 = -1, T = 0;
  std::vector<float> freq;  // a copy, compared by value: a pointer could be reused by another model
  std::vector<float> c, s;
};
const RopeTable& rope_table(int64_t pos0, int64_t T, const std::vector<float>& inv_freq) {
  thread_local RopeTable tab;
  const int64_t half = int64_t(inv_freq.size());
  if (tab.pos0 != pos0 || tab.T != T || tab.freq != inv_freq) {
    tab.c.resize(size_t(T * half));
    tab.s.resize(size_t(T * half));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < half; ++j) {
        const float a = float(pos0 + t) * inv_freq[size_t(j)];
        tab.c[size_t(t * half + j)] = float(std::cos(double(a)));
        tab.s[size_t(t * half + j)] = float(std::sin(double(a)));
      }
    tab.pos0 = pos0;
    tab.T = T;
    tab.freq = inv_freq;
  }
  return tab;
}

// NeoX rotate-half on the first 2*half dims of each of `heads` heads of width d.
void apply_rope(float* x, int64_t T, int64_t heads, int64_t d, const RopeTable& tab) {
  const int64_t half = int64_t(tab.freq.size());
  for (int64_t t = 0; t < T; ++t) {
    const float* c = tab.c.data() + t * half;
    const float* s = tab.s.data() + t * half;
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * d;
      for (int64_t j = 0; j < half; ++j) {
        const float a = v[j], b = v[j + half];
        v[j] = a * c[j] - b * s[j];
        v[j + half] = b * c[j] + a * s[j];
      }
    }
  }
}

// Splits `tasks` work items over the pool, one claim per item (they are coarse; a guided first
// chunk of several would make B tasks wait for the last A task in it, see moe_block).
void run_tasks(size_t tasks, const std::function<void(size_t)>& fn) {
  ThreadPool::global().parallel_for(
      tasks, 1,
      [&](size_t b, size_t e, size_t) {
        for (size_t i = b; i < e; ++i) fn(i);
      },
      ThreadPool::Chunking::Fixed);
}

// Row chunks on a multiple of 16: the INT4 rows16 tile (kernels/cpu/matmul_int4_rows16.h).
int64_t round_up16(int64_t x) { return (x + 15) / 16 * 16; }

// The PhaseTimes of the forward call running on this thread (ForwardOptions::phases), or null.
// Thread-local rather than a parameter of every layer function: the layer-level API (calibration
// calls decoder_layer directly) stays unchanged and is simply not timed.
thread_local PhaseTimes* t_phases = nullptr;
thread_local uint64_t* t_expert_bytes = nullptr;  // ForwardOptions::expert_bytes, the same way

// Points t_phases and t_expert_bytes at a forward call's ForwardOptions and restores them on
// exit (exceptions included), so a nested or later call never writes to a stale one.
struct OptionsScope {
  PhaseTimes* saved_phases;
  uint64_t* saved_bytes;
  explicit OptionsScope(const ForwardOptions& o)
      : saved_phases(std::exchange(t_phases, o.phases)), saved_bytes(std::exchange(t_expert_bytes, o.expert_bytes)) {}
  ~OptionsScope() {
    t_phases = saved_phases;
    t_expert_bytes = saved_bytes;
  }
};

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
  const AttnSegment seg{0, T, pos0, cache};
  attention_segments(l, x, T, &seg, 1, out, obs);
}

void Model::attention_segments(int l, const float* x, int64_t T, const AttnSegment* segs, size_t nsegs, float* out,
                               LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t Q = cfg_.q_width(), KV = cfg_.kv_width(), d = cfg_.head_dim;
  struct Ws { std::vector<float> q, k, v, attn; std::vector<int32_t> seg_of; std::vector<kernels::KvRows> kv; };
  Lease<Ws> ws;
  float* q = sized(ws->q, size_t(T * Q));
  float* k = sized(ws->k, size_t(T * KV));
  float* v = sized(ws->v, size_t(T * KV));
  float* attn = sized(ws->attn, size_t(T * Q));
  // q, k and v in one pool dispatch over their stacked output rows (a chunk may span two of them):
  // one wake-up instead of three, and both threads stay busy across the k/v tails.
  {
    PhaseTimer timer(t_phases, Phase::QkvProj);
    const Linear* lin[3] = {&L.q, &L.k, &L.v};
    float* dst[3] = {q, k, v};
    const int64_t end[3] = {Q, Q + KV, Q + 2 * KV};
    const int64_t threads = int64_t(ThreadPool::global().size());
    kernels::parallel_rows(end[2], std::max<int64_t>(32, end[2] / (threads * 32)), [&](int64_t b, int64_t e) {
      for (int i = 0; i < 3; ++i) {
        const int64_t lo = i == 0 ? 0 : end[i - 1];
        const int64_t s = std::max<int64_t>(b, lo), t = std::min<int64_t>(e, end[i]);
        if (s < t) lin[i]->rows(x, T, lin[i]->in(), dst[i], lin[i]->out(), s - lo, t - lo);
      }
    });
  }
  std::optional<PhaseTimer> attn_timer(std::in_place, t_phases, Phase::Attention);
  // QK-norm over the whole projection (all heads together), before the head split.
  rms_norm(q, L.q_norm.data(), T, Q, cfg_.rms_norm_eps, q);
  rms_norm(k, L.k_norm.data(), T, KV, cfg_.rms_norm_eps, k);
  // Per sequence: RoPE at its own positions, K/V into its own cache. The rows of a batch step are
  // the sequences' rows stacked in segment order.
  int32_t* seg_of = sized(ws->seg_of, size_t(T));
  ws->kv.resize(nsegs);
  int64_t work = 0;
  for (size_t si = 0; si < nsegs; ++si) {
    const AttnSegment& sg = segs[si];
    float* qs = q + sg.row0 * Q;
    float* ks = k + sg.row0 * KV;
    const float* vs = v + sg.row0 * KV;
    const RopeTable& rope = rope_table(sg.pos0, sg.T, inv_freq_);
    apply_rope(qs, sg.T, cfg_.num_attention_heads, d, rope);
    apply_rope(ks, sg.T, cfg_.num_key_value_heads, d, rope);
    if (sg.kv) {
      sg.kv->store(l, sg.pos0, sg.T, ks, KV, vs, KV);
      ws->kv[si] = sg.kv->rows(l);
    } else {
      MIXQ_ASSERT(sg.pos0 == 0);  // without a cache the rows are one whole sequence
      ws->kv[si] = {ks, vs, kernels::KvType::F32, KV};
    }
    for (int64_t t = 0; t < sg.T; ++t) seg_of[sg.row0 + t] = int32_t(si);
    // About T x heads x context x head_dim multiply-adds (scores and values).
    work += sg.T * cfg_.num_attention_heads * (sg.pos0 + sg.T) * d;
  }
  const kernels::AttentionShape shape{cfg_.num_attention_heads, cfg_.num_key_value_heads, d,
                                      float(1.0 / std::sqrt(double(d)))};
  // Work is split into (row, KV head) units: the query heads sharing a KV head run together
  // in the kernel, reading each K/V row once for all of them.
  const int64_t nkv = cfg_.num_key_value_heads, group = cfg_.num_attention_heads / nkv;
  const size_t units = size_t(T * nkv);
  auto heads = [&](size_t b, size_t e, size_t) {
    for (size_t u = b; u < e;) {
      const int64_t row = int64_t(u) / nkv;
      const AttnSegment& sg = segs[size_t(seg_of[row])];
      const int64_t t = row - sg.row0, h0 = int64_t(u) % nkv;
      // The units of this row in [b, e): one kernel call over their heads.
      const int64_t h1 = std::min<int64_t>(nkv, h0 + int64_t(e - u));
      kernels::attention(q + sg.row0 * Q, Q, shape, sg.pos0, ws->kv[size_t(seg_of[row])], attn + sg.row0 * Q, Q,
                         t * cfg_.num_attention_heads + h0 * group, t * cfg_.num_attention_heads + h1 * group);
      u += size_t(h1 - h0);
    }
  };
  // Below ~256k multiply-adds (a short decode context) a pool dispatch costs more than it saves.
  if (work < (int64_t(1) << 18)) heads(0, units, 0);
  else ThreadPool::global().parallel_for(units, 1, heads);
  attn_timer.reset();
  if (obs) obs->o_proj_input(l, attn, T, Q);
  PhaseTimer timer(t_phases, Phase::OProj);
  L.o.forward(attn, T, out);
}

void Model::moe_block(int l, const float* x, int64_t T, float* out, LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size, E = cfg_.num_local_experts, K = cfg_.num_experts_per_tok;
  struct Ws {
    std::vector<float> logits, wsel, s, biased, xs, g1, g3, ys;
    std::vector<int32_t> sel, idx, active;
    std::vector<int64_t> row_of, base;
    std::vector<std::vector<int32_t>> tok;
  };
  Lease<Ws> ws;

  // Router: fp32 logits, sigmoid, top-k on (sigmoid + bias), unbiased weights renormalized.
  std::optional<PhaseTimer> router_timer(std::in_place, t_phases, Phase::Router);
  float* logits = sized(ws->logits, size_t(T * E));
  L.gate.forward(x, T, logits);
  int32_t* sel = sized(ws->sel, size_t(T * K));
  float* wsel = sized(ws->wsel, size_t(T * K));
  {
    float* s = sized(ws->s, size_t(E));
    float* biased = sized(ws->biased, size_t(E));
    int32_t* idx = sized(ws->idx, size_t(E));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t e = 0; e < E; ++e) {
        s[e] = sigmoid(logits[t * E + e]);
        biased[e] = s[e] + L.correction_bias[size_t(e)];
      }
      std::iota(idx, idx + E, 0);
      std::partial_sort(idx, idx + K, idx + E, [&](int32_t a, int32_t b) {
        return biased[a] > biased[b] || (biased[a] == biased[b] && a < b);
      });
      std::sort(idx, idx + K);  // ascending expert id: the summation order
      float sum = 0.f;
      for (int64_t j = 0; j < K; ++j) sum += s[idx[j]];
      for (int64_t j = 0; j < K; ++j) {
        sel[t * K + j] = idx[j];
        wsel[t * K + j] = s[idx[j]] / sum;
      }
    }
  }
  router_timer.reset();
  if (obs) obs->router(l, logits, T, E, RouterChoice{sel, wsel, K});
  PhaseTimer experts_timer(t_phases, Phase::Experts);

  // Group tokens by expert (prefill: each expert's weights stream once for all its tokens).
  const bool all = obs && obs->all_experts();
  auto& tok = ws->tok;
  tok.resize(size_t(E));
  for (auto& v : tok) v.clear();
  int64_t* row_of = sized(ws->row_of, size_t(T * K));  // (t, j) -> row in the stacked expert buffers
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < K; ++j) tok[size_t(sel[t * K + j])].push_back(int32_t(t));
  if (all)
    for (auto& v : tok) {
      v.resize(size_t(T));
      std::iota(v.begin(), v.end(), 0);
    }
  auto& active = ws->active;
  active.clear();
  int64_t* base = sized(ws->base, size_t(E));
  int64_t rows = 0;
  for (int64_t e = 0; e < E; ++e) {
    base[e] = rows;
    if (!tok[size_t(e)].empty()) {
      active.push_back(int32_t(e));
      rows += int64_t(tok[size_t(e)].size());
    }
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < K; ++j) {
      const auto& v = tok[size_t(sel[t * K + j])];
      row_of[t * K + j] = base[sel[t * K + j]] + (std::lower_bound(v.begin(), v.end(), int32_t(t)) - v.begin());
    }
  if (t_expert_bytes)
    for (int32_t e : active) *t_expert_bytes += L.w1[size_t(e)].bytes() + L.w2[size_t(e)].bytes() + L.w3[size_t(e)].bytes();
  float* xs = sized(ws->xs, size_t(rows * H));
  float* g1 = sized(ws->g1, size_t(rows * I));
  float* g3 = sized(ws->g3, size_t(rows * I));
  float* ys = sized(ws->ys, size_t(rows * H));
  for (int32_t e : active) {
    const auto& v = tok[size_t(e)];
    for (size_t i = 0; i < v.size(); ++i) std::memcpy(&xs[(base[e] + int64_t(i)) * H], x + int64_t(v[i]) * H, size_t(H) * 4);
    if (obs) obs->expert_input(l, e, v.data(), &xs[base[e] * H], int64_t(v.size()), H);
  }

  // (expert, row-chunk) tasks, about 4 per thread in all (claimed one at a time, see run_tasks),
  // never below 16 rows. Fewer, longer tasks keep
  // each weight stream (and its prefetch) running longer and prepare the activations less often:
  // decode at 2 threads, top-8 (1 task per expert instead of 2), experts phase of `mixq bench`,
  // alternating runs: W4A16 41.2 / 38.5 GB/s vs 38.4 / 32.9 at 8 per thread (16: 35.4 / 33.4,
  // 32: 33.6 / 31.0); BF16 28.0 / 23.8 / 21.2 vs 20.8 / 19.3 / 19.9 (a noisy hour).
  const int64_t threads = int64_t(ThreadPool::global().size());
  struct Task { int32_t e; int64_t r0, r1; };
  auto make_tasks = [&](int64_t n) {
    std::vector<Task> ts;
    const int64_t na = int64_t(active.size());
    const int64_t per_expert = std::max<int64_t>(1, (threads * 4 + na - 1) / na);
    const int64_t c = std::max<int64_t>(16, round_up16((n + per_expert - 1) / per_expert));
    for (int32_t e : active)
      for (int64_t r = 0; r < n; r += c) ts.push_back({e, r, std::min(n, r + c)});
    return ts;
  };
  // Phase A: h = silu(x W1^T) * (x W3^T) for each expert's rows. Phase B: y = h W2^T.
  auto phase_a = [&](const Task& tk) {
    const int64_t n = int64_t(tok[size_t(tk.e)].size()), b = base[tk.e];
    const float* xe = &xs[b * H];
    const Linear &w1 = L.w1[size_t(tk.e)], &w3 = L.w3[size_t(tk.e)];
    if (w1.splits_activations(n) && w3.splits_activations(n)) {  // one split for both matrices
      Lease<kernels::Int4VnniActivations> a;
      a->prepare(xe, n, H, H);
      w1.rows(*a, &g1[b * I], I, tk.r0, tk.r1);
      w3.rows(*a, &g3[b * I], I, tk.r0, tk.r1);
    } else {
      w1.rows(xe, n, H, &g1[b * I], I, tk.r0, tk.r1);
      w3.rows(xe, n, H, &g3[b * I], I, tk.r0, tk.r1);
    }
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = tk.r0; c < tk.r1; ++c) {
        float& a = g1[(b + r) * I + c];
        a = a * sigmoid(a) * g3[(b + r) * I + c];
      }
  };
  auto phase_b = [&](const Task& tk) {
    const int64_t n = int64_t(tok[size_t(tk.e)].size()), b = base[tk.e];
    L.w2[size_t(tk.e)].rows(&g1[b * I], n, I, &ys[b * H], H, tk.r0, tk.r1);
  };
  const auto ta = make_tasks(I), tb = make_tasks(H);
  if (obs) {
    run_tasks(ta.size(), [&](size_t i) { phase_a(ta[i]); });
    for (int32_t e : active)
      obs->expert_down_input(l, e, tok[size_t(e)].data(), &g1[base[e] * I], int64_t(tok[size_t(e)].size()), I);
    run_tasks(tb.size(), [&](size_t i) { phase_b(tb[i]); });
  } else {
    // One dispatch for both phases: the A tasks come first in the task order, and a B task of
    // expert e waits only for e's own A tasks (a per-expert countdown), not for every expert:
    // one barrier fewer per layer. Chunks are claimed in task order, so when a B task of e is
    // claimed every A task of e is already claimed and running or done; A tasks never wait,
    // so this cannot deadlock. Inline (1 thread) the order alone suffices.
    std::unique_ptr<std::atomic<int>[]> a_left(new std::atomic<int>[size_t(E)]);
    for (int64_t e = 0; e < E; ++e) a_left[size_t(e)].store(0, std::memory_order_relaxed);
    for (const Task& tk : ta) a_left[size_t(tk.e)].fetch_add(1, std::memory_order_relaxed);
    std::atomic<bool> failed{false};  // an A task threw: waiting B tasks give up
    run_tasks(ta.size() + tb.size(), [&](size_t i) {
      if (i < ta.size()) {
        try {
          phase_a(ta[i]);
        } catch (...) {
          failed.store(true);
          throw;
        }
        a_left[size_t(ta[i].e)].fetch_sub(1, std::memory_order_release);
        return;
      }
      const Task& tk = tb[i - ta.size()];
      for (int spins = 0; a_left[size_t(tk.e)].load(std::memory_order_acquire) != 0; ++spins) {
        if (failed.load()) return;
        if (spins > 1000) std::this_thread::yield();  // the A task's thread may be descheduled
      }
      phase_b(tk);
    });
  }
  // Phase C: weighted sum per token in ascending expert order.
  for (int64_t t = 0; t < T; ++t) {
    float* o = out + t * H;
    std::fill(o, o + H, 0.f);
    for (int64_t j = 0; j < K; ++j) {
      const float w = wsel[t * K + j];
      const float* y = &ys[row_of[t * K + j] * H];
      for (int64_t i = 0; i < H; ++i) o[i] += w * y[i];
    }
  }
}

void Model::decoder_layer(int l, float* hidden, int64_t T, int64_t pos0, KvCache* cache, LayerObserver* obs) const {
  const AttnSegment seg{0, T, pos0, cache};
  decoder_layer_segments(l, hidden, T, &seg, 1, obs);
}

void Model::decoder_layer_segments(int l, float* hidden, int64_t T, const AttnSegment* segs, size_t nsegs,
                                   LayerObserver* obs) const {
  const auto& L = layers_[size_t(l)];
  const int64_t H = cfg_.hidden_size;
  struct Ws { std::vector<float> normed, delta; };
  Lease<Ws> ws;
  float* normed = sized(ws->normed, size_t(T * H));
  float* delta = sized(ws->delta, size_t(T * H));
  rms_norm(hidden, L.input_norm.data(), T, H, cfg_.rms_norm_eps, normed);
  if (obs) obs->attention_input(l, normed, T, H);
  attention_segments(l, normed, T, segs, nsegs, delta, obs);
  for (int64_t i = 0; i < T * H; ++i) hidden[i] += delta[i];
  rms_norm(hidden, L.post_attention_norm.data(), T, H, cfg_.rms_norm_eps, normed);
  if (obs) obs->moe_input(l, normed, T, H);
  moe_block(l, normed, T, delta, obs);
  for (int64_t i = 0; i < T * H; ++i) hidden[i] += delta[i];
}

void Model::final_logits(const float* hidden, int64_t T, float* logits) const {
  struct Ws { std::vector<float> normed; };
  Lease<Ws> ws;
  PhaseTimer timer(t_phases, Phase::LmHead);
  float* normed = sized(ws->normed, size_t(T * cfg_.hidden_size));
  rms_norm(hidden, final_norm_.data(), T, cfg_.hidden_size, cfg_.rms_norm_eps, normed);
  lm_head_.forward(normed, T, logits);
}

void Model::forward(const int32_t* tokens, int64_t T, KvCache& cache, float* all_logits, float* last_logits,
                    const ForwardOptions& opt, LayerObserver* obs) const {
  if (T <= 0) return;
  const int64_t pos = cache.length(), H = cfg_.hidden_size, V = cfg_.vocab_size;
  if (pos + T > cache.capacity())
    fail("context of {} tokens exceeds the KV cache capacity of {} tokens", pos + T, cache.capacity());
  const int64_t chunk = std::max<int64_t>(1, opt.prefill_chunk);
  const OptionsScope scope(opt);
  struct Ws { std::vector<float> hidden; };
  Lease<Ws> ws;
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t n = std::min(chunk, T - c0);
    float* hidden = sized(ws->hidden, size_t(n * H));
    embed(tokens + c0, n, hidden);
    for (int l = 0; l < int(cfg_.num_hidden_layers); ++l) decoder_layer(l, hidden, n, pos + c0, &cache, obs);
    cache.set_length(pos + c0 + n);
    if (all_logits) final_logits(hidden, n, all_logits + c0 * V);
    if (last_logits && c0 + n == T) {
      if (all_logits) std::memcpy(last_logits, all_logits + (T - 1) * V, size_t(V) * 4);
      else final_logits(hidden + (n - 1) * H, 1, last_logits);
    }
  }
}

void Model::forward_batch(const BatchSegment* segs, size_t nsegs, float* logits, const ForwardOptions& opt) const {
  const int64_t H = cfg_.hidden_size;
  const OptionsScope scope(opt);
  struct Ws { std::vector<float> hidden, last; std::vector<int32_t> ids; std::vector<AttnSegment> attn; };
  Lease<Ws> ws;
  int64_t rows = 0, nlog = 0;
  ws->attn.resize(nsegs);
  for (size_t i = 0; i < nsegs; ++i) {
    const BatchSegment& b = segs[i];
    MIXQ_ASSERT(b.T > 0 && b.kv);
    ws->attn[i] = {rows, b.T, b.pos0, b.kv};
    rows += b.T;
    nlog += b.logits ? 1 : 0;
  }
  if (rows == 0) return;
  int32_t* ids = sized(ws->ids, size_t(rows));
  for (size_t i = 0; i < nsegs; ++i) std::copy_n(segs[i].tokens, segs[i].T, ids + ws->attn[i].row0);
  float* hidden = sized(ws->hidden, size_t(rows * H));
  embed(ids, rows, hidden);
  for (int l = 0; l < int(cfg_.num_hidden_layers); ++l) decoder_layer_segments(l, hidden, rows, ws->attn.data(), nsegs);
  if (nlog == 0 || !logits) return;
  // The head runs once over the last rows of the segments that want logits.
  float* last = sized(ws->last, size_t(nlog * H));
  int64_t j = 0;
  for (size_t i = 0; i < nsegs; ++i)
    if (segs[i].logits) std::memcpy(last + (j++) * H, hidden + (ws->attn[i].row0 + segs[i].T - 1) * H, size_t(H) * 4);
  final_logits(last, nlog, logits);
}

}  // namespace mixq
