// Per-layer AWQ cost of one MiniMax-M2 MoE layer at the REAL widths (hidden 3072, expert
// intermediate 1536, top-8 sigmoid routing with correction bias), measured at a few (experts E,
// calibration tokens N) points and extrapolated to the real layer (E = 256, N = 65536) and to the
// 62-layer model. docs/awq.md §3 "Compute per layer" holds the results and the exact commands.
//
// A synthetic layer (bf16-valued experts, fp32 router, residual-stream activations with a few
// outlier channels) goes through the same steps as calib::awq_smooth_moe_layer, timed one phase at
// a time with the same library calls (H = 3072, I = 1536, K = 8; an FMA counts 2 flops):
//   router   4 route_sigmoid_topk calls (calibration, 2 routing-change checks, propagation): N*E*H*2
//   norm     the norm -> {gate, w1, w3} search: 21 MoE-block forwards (N*K*6*H*I each) and
//            20 x 2E trial weights (QDQ, timed inside the parent); "other" = w_mean + the bf16 loss
//   w2in     every expert's w2 input over ALL tokens (all-experts mode): E*N*4*H*I
//   w2       w3 -> w2 search per expert, exact loss: 21 w2 forwards over N tokens (N*2*H*I each)
//   gram     the same with the Gram loss (--awq-w2-gram): G = h^T h (N*2*I^2) + 20 evaluations
//            tr(dW G dW^T) (2*H*I^2 each, independent of N); run on the first --gram-experts
//            experts only (each expert's cost is the same) and scaled to E
//   apply    applying the scales to the 3E expert matrices
//   prop     propagation: one MoE-block forward with the smoothed weights
// Then (--real-call, first point only) the real awq_smooth_moe_layer runs on a freshly built copy
// of the layer: its time checks the phase sum and its grid choices must equal the phases'.
// --real-gram 1 adds the library call with w2_gram_loss (E x ~290 GFLOP: off by default).
//
// Each point runs in its own process (this binary re-executed with --single), so its peak RSS
// (getrusage ru_maxrss) is that point's alone. The parent measures the fp32 FMA peak and a plain
// fp32 GEMM peer at the same widths (before and after the points, best of both), prints per-point
// tables, the measured scaling between points, and the extrapolation: per phase t = a * (per-expert
// units) + b * work, fitted over the points where a phase has an N-independent per-expert part and
// the fit is sane, else t = work / (rate at the largest point).
//
// Memory of one point: the layer's weights (3*E*H*I values + the gate), the hidden states and the
// norm output (N*H fp32 each), and the search's transients (model in mem_model()).
//
// Run (the defaults take ~12 min on the 2-core dev box; cost grows with N and E, see docs/awq.md):
//   awq_layer_bench [--points 16:128,32:128,16:512] [--gram-experts 1] [--real-call 1]
//                   [--real-gram 0] [--target 256:65536] [--layers 62] [--gflops 1000,5000,...]
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "calib/awq_gram.h"
#include "calib/awq_moe_layer.h"
#include "calib/awq_parents.h"
#include "calib/awq_search.h"
#include "calib/awq_smoothing.h"
#include "calib/awq_stats.h"
#include "calib/moe_reference.h"
#include "calib/router_safe_smoothing.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/peak.h"
#include "util/dtype.h"
#include "util/thread_pool.h"

using namespace mixq;
using namespace mixq::calib;

namespace {

constexpr int64_t kH = 3072, kI = 1536, kK = 8, kSeq = 2048, kEvals = 21, kGrid = 20;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// splitmix64 stream; normal values approximated by a sum of 4 uniforms (variance 1/3, rescaled):
// the benchmark needs realistic magnitudes, not exact Gaussian tails, and this is ~10x faster.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
  float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};

Matrix random_matrix(int64_t r, int64_t c, float stddev, uint64_t seed, bool bf16) {
  Matrix m(r, c);
  Rng g{seed};
  for (auto& v : m.data) v = bf16 ? round_bf16(stddev * g.normal()) : stddev * g.normal();
  return m;
}

// The bench builds against either way of holding a layer's experts (MoeLayerWeights::w1's element
// type): fp32 Matrix (before the bf16 holding) or Bf16Matrix. These helpers are the only difference.
using ExpertStore = std::decay_t<decltype(MoeLayerWeights{}.w1)>::value_type;
constexpr double kWeightBytes = double(sizeof(std::decay_t<decltype(ExpertStore{}.data)>::value_type));

template <class V>
V to_store(const Matrix& m) {
  if constexpr (std::is_same_v<V, Matrix>) return m;
  else return V::from(m);
}
template <class M, class B = BalanceLayer>
B balance_of(const M& m, bool quantized) {
  B b;
  b.quantized = quantized;
  if constexpr (std::is_same_v<M, Matrix>) b.weight = &m;
  else b.bf16 = &m;
  return b;
}
template <class M>
Matrix to_fp32(const M& m) {
  if constexpr (std::is_same_v<M, Matrix>) return m;
  else return m.to_matrix();
}

// The layer and its input: experts bf16-valued N(0, 1/sqrt(fan_in)); router fp32 (logits ~ N(0,1)),
// correction bias N(0, 0.05); norm weight U[0.5, 1.5] (bf16); residual stream N(0, 1) per token times
// a per-channel gain U[0.5, 2], with 8 outlier channels of gain 20..60 (the channels AWQ exists for).
struct Layer {
  MoeLayerWeights w;
  Matrix hidden;
};

Layer build_layer(int64_t E, int64_t N, uint64_t seed) {
  Layer l;
  Rng g{seed};
  l.w.norm.resize(size_t(kH));
  for (auto& v : l.w.norm) v = round_bf16(0.5f + g.uniform());
  l.w.gate = random_matrix(E, kH, 1.0f / std::sqrt(float(kH)), seed + 1, false);
  l.w.bias.resize(size_t(E));
  for (auto& v : l.w.bias) v = 0.05f * g.normal();
  for (int64_t e = 0; e < E; ++e) {
    const float sh = 1.0f / std::sqrt(float(kH)), si = 1.0f / std::sqrt(float(kI));
    l.w.w1.push_back(to_store<ExpertStore>(random_matrix(kI, kH, sh, seed + 100 + 3 * uint64_t(e), true)));
    l.w.w3.push_back(to_store<ExpertStore>(random_matrix(kI, kH, sh, seed + 101 + 3 * uint64_t(e), true)));
    l.w.w2.push_back(to_store<ExpertStore>(random_matrix(kH, kI, si, seed + 102 + 3 * uint64_t(e), true)));
  }
  std::vector<float> gain(static_cast<size_t>(kH));
  for (auto& v : gain) v = 0.5f + 1.5f * g.uniform();
  for (int i = 0; i < 8; ++i) gain[size_t(g.next() % uint64_t(kH))] = 20.0f + 40.0f * g.uniform();
  l.hidden = random_matrix(N, kH, 1.0f, seed + 2, false);
  for (int64_t t = 0; t < N; ++t)
    for (int64_t c = 0; c < kH; ++c) l.hidden.at(t, c) *= gain[size_t(c)];
  return l;
}

// The pipeline's options (AwqPipeline::run_layer with the recipe defaults): n_grid 20, duo on,
// group 32, one loss batch per calibration sample (samples of kSeq tokens here), router compensation.
MoeAwqOptions pipeline_options(int64_t N, bool gram) {
  MoeAwqOptions mo;
  mo.search.n_grid = 20;
  mo.search.duo = DuoScaling::On;
  mo.search.group = 32;
  for (int64_t t = 0; t < N; t += kSeq) mo.search.batch_numel.push_back(std::min(kSeq, N - t) * kH);
  mo.router = RouterCompensation::On;
  mo.rms_norm_eps = 1e-6f;
  mo.top_k = int(kK);
  mo.w2_gram_loss = gram;
  return mo;
}

// Wraps the weights a parent forward sees and adds the time spent materializing trial weights (QDQ).
class TimedWeights final : public BalanceWeights {
 public:
  TimedWeights(const BalanceWeights& inner, double* qdq_s) : inner_(inner), qdq_s_(qdq_s) {}
  size_t size() const override { return inner_.size(); }
  const float* get(size_t i, std::vector<float>& scratch) const override {
    const double t0 = now();
    const float* p = inner_.get(i, scratch);
    *qdq_s_ += now() - t0;
    return p;
  }

 private:
  const BalanceWeights& inner_;
  double* qdq_s_;
};

struct ParentTimes {
  double parent = 0, qdq = 0;  // time inside the parent forward (QDQ included), and its QDQ part
};

ParentForward timed(const ParentForward& p, ParentTimes* t) {
  return [p, t](const BalanceWeights& bw, std::vector<float>& out) {
    const double t0 = now();
    p(TimedWeights(bw, &t->qdq), out);
    t->parent += now() - t0;
  };
}

// fp32 GEMM peer: [M, 3072] x [1536, 3072]^T through the kernels' matmul_f32, the same kernel and
// threading as the MoE forwards. Best of `reps` (GFLOP/s).
double gemm_peer_gflops(int64_t M, int reps) {
  Matrix w = random_matrix(kI, kH, 0.02f, 7, true), x = random_matrix(M, kH, 1.0f, 8, false);
  std::vector<float> y(size_t(M * kI));
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    kernels::parallel_rows(kI, 16, [&](int64_t n0, int64_t n1) {
      kernels::matmul_f32(w.data.data(), kH, x.data.data(), M, kH, y.data(), kI, n0, n1);
    });
    best = std::min(best, now() - t0);
  }
  return 2.0 * double(M) * double(kH) * double(kI) / best / 1e9;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // kB on Linux
}

// Analytic peak memory (bytes) of the per-layer AWQ as implemented: weights + hidden + norm output +
// routing, plus the larger of the norm search's and the w3 -> w2 search's transients.
//   norm search: reference + trial output (N*H each), moe_block_forward's per-slot outputs (N*K*H) and
//                its result (N*H), one expert's gathered in/out (2*n_e*H) and SwiGLU temps (2*n_e*I),
//                two trial matrices (2*I*H)
//   w3 -> w2:    the expert's w2 input and SwiGLU temp (2*N*I), reference + trial output (2*N*H),
//                one trial matrix (H*I)
struct MemModel {
  double weights, acts, norm_transient, w2_transient, total;
};
MemModel mem_model(double E, double N, double n_e_max, double weight_bytes) {
  MemModel m{};
  m.weights = 3 * E * kH * kI * weight_bytes + E * kH * 4;
  m.acts = 2 * N * kH * 4 + N * kK * 8 + N * E * 4;
  // moe_block_forward: out + the largest expert's routed rows in and out (no per-(token, k) buffer
  // since it accumulates expert by expert).
  m.norm_transient = (3 * N * kH + 2 * n_e_max * (kH + kI) + 2 * double(kI) * kH) * 4;
  m.w2_transient = (2 * N * kI + 2 * N * kH + double(kH) * kI) * 4;
  m.total = m.weights + m.acts + std::max(m.norm_transient, m.w2_transient);
  return m;
}

// Analytic flops (an FMA = 2) and QDQ'd matrix elements per phase, as functions of (E, N).
// router: 4 calls (calibration, the two routing-change checks, propagation); elems: the rms_norms,
// x_mean and residual add (N*H elements each, 3 passes); apply: the 3*E expert matrices smoothed.
struct Work {
  double router, elems, norm_fwd, norm_qdq, w2in, w2_fwd, w2_qdq, gram_acc, gram_eval, gram_qdq, apply, prop;
};
Work work(double E, double N) {
  const double HI = double(kH) * kI, route = N * E * kH * 2, moe = N * kK * 6 * HI;
  return Work{4 * route,
              3 * N * kH,
              kEvals * moe,
              kGrid * 2 * E * HI,
              E * N * 4 * HI,
              E * kEvals * N * 2 * HI,
              E * kGrid * HI,
              E * N * 2 * double(kI) * kI,
              E * kGrid * 2 * double(kH) * kI * kI,
              E * kGrid * HI,
              3 * E * HI,
              moe};
}

using Result = std::map<std::string, double>;

void emit(const char* k, double v) { std::printf("R %s %.9g\n", k, v); }

// One (E, N) point: the timed phases, then the real library call(s). Prints "R key value" lines.
int run_single(int64_t E, int64_t N, int64_t gram_experts, bool real_call, bool real_gram) {
  const MoeShape shape{kH, kI, E};
  const MoeAwqOptions opt = pipeline_options(N, false);
  emit("peer_gflops", gemm_peer_gflops(std::max<int64_t>(64, N * kK / E), 3));
  double t0 = now();
  Layer L = build_layer(E, N, 1234);
  emit("build_s", now() - t0);

  // calib: the one calibration pass on the original weights. The router (a scalar dot per token and
  // expert) is timed on its own in every phase that calls it.
  double router_s = 0, elems_s = 0;
  auto route = [&](const Matrix& xx, const Matrix& gate) {
    const double t1 = now();
    Routing r = route_sigmoid_topk(xx, gate, L.w.bias, int(kK));
    router_s += now() - t1;
    return r;
  };
  t0 = now();
  const Matrix x = rms_norm(L.hidden, L.w.norm, opt.rms_norm_eps);
  XMeanAccumulator norm_stats(kH);
  norm_stats.add(x);
  elems_s += now() - t0;
  const Routing routing = route(x, L.w.gate);
  std::vector<int64_t> routed(size_t(E), 0);
  for (int32_t e : routing.expert) ++routed[size_t(e)];
  emit("routed_max", double(*std::max_element(routed.begin(), routed.end())));
  emit("routed_min", double(*std::min_element(routed.begin(), routed.end())));

  // norm mapping.
  ParentTimes nt;
  t0 = now();
  std::vector<BalanceLayer> bl{{&L.w.gate, false}};
  for (auto& m : L.w.w1) bl.push_back(balance_of(m, true));
  for (auto& m : L.w.w3) bl.push_back(balance_of(m, true));
  const AwqSearchResult norm = awq_search_best_scales("bench.norm", bl, norm_stats.mean(), norm_stats.tokens(),
                                                      timed(moe_block_parent(x, routing, shape, L.w.w2), &nt), opt.search);
  const double norm_s = now() - t0;
  emit("norm_s", norm_s);
  emit("norm_fwd_s", nt.parent - nt.qdq);
  emit("norm_qdq_s", nt.qdq);
  emit("norm_other_s", norm_s - nt.parent);
  emit("norm_best", norm.best_index);

  // w3 -> w2 per expert over all tokens: exact loss for every expert, Gram loss for the first few.
  double w2in_s = 0, w2_s = 0, gram_acc_s = 0, gram_s = 0;
  ParentTimes wt, gt;
  std::vector<AwqSearchResult> w2res;
  int gram_same = 0;
  for (int64_t e = 0; e < E; ++e) {
    t0 = now();
    const Matrix h = swiglu_intermediate(x, L.w.w1[size_t(e)], L.w.w3[size_t(e)]);
    XMeanAccumulator st(h.cols);
    st.add(h);
    w2in_s += now() - t0;
    std::vector<BalanceLayer> b2{balance_of(L.w.w2[size_t(e)], true)};
    t0 = now();
    w2res.push_back(awq_search_best_scales("bench.w2", b2, st.mean(), st.tokens(), timed(linear_parent(h, kH), &wt),
                                           opt.search));
    w2_s += now() - t0;
    if (e < gram_experts) {
      t0 = now();
      GramAccumulator g(h.cols);
      g.add(h);
      gram_acc_s += now() - t0;
      t0 = now();
      const Matrix w2 = to_fp32(L.w.w2[size_t(e)]);  // as awq_smooth_moe_layer's Gram path does
      const std::vector<BalanceLayer> bg{balance_of(w2, true)};
      const TrialLoss inner = gram_trial_loss(w2, g);
      const TrialLoss loss = [&](const BalanceWeights& bw) {
        const double t1 = now();
        const float v = inner(TimedWeights(bw, &gt.qdq));
        gt.parent += now() - t1;
        return v;
      };
      const AwqSearchResult r = awq_search_best_scales_by_loss("bench.w2g", bg, st.mean(), st.tokens(), loss, opt.search);
      gram_s += now() - t0;
      gram_same += r.best_index == w2res.back().best_index;
    }
  }
  emit("w2in_s", w2in_s);
  emit("w2_s", w2_s);
  emit("w2_fwd_s", wt.parent - wt.qdq);
  emit("w2_qdq_s", wt.qdq);
  emit("w2_other_s", w2_s - wt.parent);
  emit("gram_experts", double(std::min(gram_experts, E)));
  emit("gram_acc_s", gram_acc_s);
  emit("gram_s", gram_s);
  emit("gram_eval_s", gt.parent - gt.qdq);
  emit("gram_qdq_s", gt.qdq);
  emit("gram_other_s", gram_s - gt.parent);
  emit("gram_same_choice", gram_same);

  // apply, then the routing-change checks (as awq_smooth_moe_layer does).
  t0 = now();
  const Matrix gate_before = L.w.gate;
  apply_norm_mapping_scales(L.w, norm.scales, opt.router);
  for (int64_t e = 0; e < E; ++e) apply_w3_w2_scales(L.w, int(e), w2res[size_t(e)].scales);
  emit("apply_s", now() - t0);
  {
    t0 = now();
    const Matrix x_after = rms_norm(L.hidden, L.w.norm, opt.rms_norm_eps);
    Matrix gate_comp = gate_before;
    scale_balance_columns(gate_comp, norm.scales, StoreAs::F32);
    elems_s += now() - t0;
    emit("route_change_comp", routing_change_rate(routing, route(x_after, gate_comp)));
    emit("route_change_uncomp", routing_change_rate(routing, route(x_after, gate_before)));
  }

  // propagation with the smoothed, unquantized weights (AwqPipeline::run_layer step 3).
  {
    t0 = now();
    const Matrix xs = rms_norm(L.hidden, L.w.norm, opt.rms_norm_eps);
    elems_s += now() - t0;
    const Routing r = route(xs, L.w.gate);
    t0 = now();
    Matrix out;
    moe_block_forward(xs, r, shape, expert_weights_of(L.w.w1, L.w.w3, L.w.w2), out);
    emit("prop_s", now() - t0);
    t0 = now();
    for (size_t i = 0; i < out.data.size(); ++i) L.hidden.data[i] += out.data[i];
    elems_s += now() - t0;
  }
  emit("router_s", router_s);
  emit("elems_s", elems_s);
  emit("rss_phases_mib", peak_rss_mib());

  // The library call itself on a fresh copy of the layer: its time is the reference for the phase
  // sum, and it must choose the same grid points as the phases above.
  for (int pass = 0; pass < 2; ++pass) {
    const bool gram = pass == 1;
    if (!(gram ? real_gram : real_call)) continue;
    L = Layer{};
    L = build_layer(E, N, 1234);
    t0 = now();
    const MoeAwqReport rep = awq_smooth_moe_layer(L.w, L.hidden, shape, pipeline_options(N, gram), "bench");
    emit(gram ? "real_gram_s" : "real_s", now() - t0);
    int same = rep.norm.best_index == norm.best_index;
    for (int64_t e = 0; e < E; ++e) same += rep.w2[size_t(e)].best_index == w2res[size_t(e)].best_index;
    emit(gram ? "real_gram_same_choice" : "real_same_choice", double(same) / double(E + 1));
  }
  emit("weight_bytes", kWeightBytes);
  emit("rss_mib", peak_rss_mib());
  return 0;
}

Result run_point(const std::string& self, int64_t E, int64_t N, int64_t gram_experts, bool real_call, bool real_gram) {
  const std::string cmd = fmt::format("'{}' --single {} {} --gram-experts {} --real-call {} --real-gram {}", self, E, N,
                                      gram_experts, int(real_call), int(real_gram));
  std::fprintf(stderr, "point E=%lld N=%lld: %s\n", (long long)E, (long long)N, cmd.c_str());
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  Result r;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    char key[128];
    double v;
    if (std::sscanf(line, "R %127s %lf", key, &v) == 2) r[key] = v;
  }
  if (pclose(p) != 0) throw std::runtime_error("point E=" + std::to_string(E) + " N=" + std::to_string(N) + " failed");
  r["E"] = double(E);
  r["N"] = double(N);
  return r;
}

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> v;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    v.push_back(std::stod(s.substr(i, j - i)));
    i = j + 1;
  }
  return v;
}

std::string hms(double s) {
  if (s < 120) return fmt::format("{:.1f} s", s);
  if (s < 2 * 3600) return fmt::format("{:.1f} min", s / 60);
  if (s < 2 * 86400) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} d", s / 86400);
}

// kind: 'n' norm search, 'w' exact w3 -> w2, 'g' Gram w3 -> w2 (no output loss, w_mean only).
double other_units(double E, double N, char kind) {
  // w_mean reads every quantized balance element once; the bf16 loss reads 2 x N x H per evaluation.
  const double HI = double(kH) * kI;
  if (kind == 'n') return 2 * E * HI + kEvals * N * kH * 2;
  if (kind == 'g') return E * HI;
  return E * (HI + kEvals * N * kH * 2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string points = "16:128,32:128,16:512", target = "256:65536", gflops = "1000,5000,50000,400000";
  int64_t gram_experts = 1, layers = 62;
  bool real_call = true, real_gram = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + ": missing value");
      return argv[++i];
    };
    if (a == "--single") {
      const int64_t E = std::stoll(next()), N = std::stoll(next());
      for (int j = i + 1; j + 1 < argc; j += 2) {
        const std::string k = argv[j];
        if (k == "--gram-experts") gram_experts = std::stoll(argv[j + 1]);
        if (k == "--real-call") real_call = std::stoi(argv[j + 1]) != 0;
        if (k == "--real-gram") real_gram = std::stoi(argv[j + 1]) != 0;
      }
      return run_single(E, N, gram_experts, real_call, real_gram);
    }
    if (a == "--points") points = next();
    else if (a == "--gram-experts") gram_experts = std::stoll(next());
    else if (a == "--real-call") real_call = std::stoi(next()) != 0;
    else if (a == "--real-gram") real_gram = std::stoi(next()) != 0;
    else if (a == "--target") target = next();
    else if (a == "--layers") layers = std::stoll(next());
    else if (a == "--gflops") gflops = next();
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 2;
  self[n] = 0;

  // Measured ceilings, before and after the points (best of both: on a shared machine the load
  // varies); the parent holds no layer, so its RSS stays small.
  // Short runs, best of many, for both: under load the best time slice is the machine's capability.
  double peak_gflops = 0, peer64 = 0, peer512 = 0, peer2048 = 0, peer8192 = 0;
  auto ceilings = [&] {
    peak_gflops = std::max(peak_gflops, kernels::measure_fma_peak(0.05, 20).flops_per_second / 1e9);
    peer64 = std::max(peer64, gemm_peer_gflops(64, 5));
    peer512 = std::max(peer512, gemm_peer_gflops(512, 3));
    peer2048 = std::max(peer2048, gemm_peer_gflops(2048, 2));
    peer8192 = std::max(peer8192, gemm_peer_gflops(8192, 1));
  };
  ceilings();
  fmt::print("threads {}, matmul target {}\n", ThreadPool::global().size(), kernels::matmul_target_name());

  std::vector<Result> res;
  {
    std::vector<double> pl;
    std::string s = points;
    for (char& c : s)
      if (c == ':') c = ',';
    pl = parse_list(s);
    for (size_t i = 0; i + 1 < pl.size(); i += 2)
      res.push_back(run_point(self, int64_t(pl[i]), int64_t(pl[i + 1]), gram_experts, real_call && i == 0,
                              real_gram && i == 0));
  }

  ceilings();
  fmt::print("fp32 FMA peak (measure_fma_peak, best before/after): {:.1f} GFLOP/s\n", peak_gflops);
  fmt::print("fp32 GEMM peer [M,3072]x[1536,3072]^T (matmul_f32, best before/after): M=64 {:.1f}, M=512 {:.1f}, "
             "M=2048 {:.1f}, M=8192 {:.1f} GFLOP/s\n\n",
             peer64, peer512, peer2048, peer8192);

  // Per point: each phase's time, work and rate.
  struct Row {
    const char* name;
    const char* key;
    double Work::*w;
    bool qdq;
    // Per-expert work that does not grow with N (decoding bf16 weights, per-expert GEMM set-up, the
    // Gram's fp64 accumulation): units per point, or nullptr when the phase has none.
    double (*fixed)(double E, double N) = nullptr;
  };
  auto per_expert = [](double E, double) { return E; };
  auto per_expert_run = [](double E, double) { return E * double(kEvals); };
  const Row rows[] = {{"router, 4 calls (calibration, 2 routing checks, propagation)", "router_s", &Work::router, false},
                      {"rms_norm x3, x_mean, residual add", "elems_s", &Work::elems, true},
                      {"norm search: MoE forwards", "norm_fwd_s", &Work::norm_fwd, false, per_expert_run},
                      {"norm search: trial weights (QDQ)", "norm_qdq_s", &Work::norm_qdq, true},
                      {"norm search: w_mean + loss", "norm_other_s", nullptr, false},
                      {"w2 inputs, all experts x all tokens", "w2in_s", &Work::w2in, false, per_expert},
                      {"w3->w2 exact: w2 forwards", "w2_fwd_s", &Work::w2_fwd, false, per_expert_run},
                      {"w3->w2 exact: trial weights (QDQ)", "w2_qdq_s", &Work::w2_qdq, true},
                      {"w3->w2 exact: w_mean + loss", "w2_other_s", nullptr, false},
                      {"w3->w2 Gram: G accumulation", "gram_acc_s", &Work::gram_acc, false, per_expert},
                      {"w3->w2 Gram: tr(dW G dW^T) evals", "gram_eval_s", &Work::gram_eval, false},
                      {"w3->w2 Gram: trial weights (QDQ)", "gram_qdq_s", &Work::gram_qdq, true},
                      {"w3->w2 Gram: w_mean", "gram_other_s", nullptr, false},
                      {"apply the scales (3E matrices)", "apply_s", &Work::apply, true},
                      {"propagation: MoE forward", "prop_s", &Work::prop, false, per_expert}};
  // The Gram rows ran on `gram_experts` experts only: scale their work to the measured subset.
  auto experts_of = [](const Row& r, const Result& p) {
    return std::strncmp(r.key, "gram", 4) == 0 ? p.at("gram_experts") : p.at("E");
  };
  auto work_of = [&](const Row& r, const Result& p) {
    const double E = p.at("E"), N = p.at("N");
    const bool gram = std::strncmp(r.key, "gram", 4) == 0;
    const double Em = gram ? p.at("gram_experts") : E;
    if (!r.w) return other_units(Em, N, r.key[0] == 'g' ? 'g' : r.key[0]);
    return work(Em, N).*r.w;
  };
  for (const auto& p : res) {
    const double E = p.at("E"), N = p.at("N");
    fmt::print("## E={} experts, N={} tokens ({:.0f} routed tokens per expert on average, min {:.0f} max {:.0f})\n", E, N,
               N * kK / E, p.at("routed_min"), p.at("routed_max"));
    fmt::print("| phase | time | work | rate |\n|---|---|---|---|\n");
    double sum_exact = 0;
    for (const auto& r : rows) {
      const double t = p.at(r.key), w = work_of(r, p);
      if (std::strncmp(r.key, "gram", 4) != 0) sum_exact += t;
      if (!r.w)
        fmt::print("| {} | {:.2f} s | {:.3g} elements | {:.2f} G elements/s |\n", r.name, t, w, w / t / 1e9);
      else if (r.qdq)
        fmt::print("| {} | {:.2f} s | {:.3g} elements | {:.1f} ns/element |\n", r.name, t, w, t / w * 1e9);
      else
        fmt::print("| {} | {:.2f} s | {:.1f} GFLOP | {:.2f} GFLOP/s |\n", r.name, t, w / 1e9, w / t / 1e9);
    }
    fmt::print("sum of the phases, exact w3->w2 (default): {:.1f} s (propagation included); Gram rows on {:.0f} of {:.0f} "
               "experts\n",
               sum_exact, p.at("gram_experts"), E);
    if (p.count("real_s"))
      fmt::print("awq_smooth_moe_layer (default options): {:.1f} s vs the phases' {:.1f} s (less the propagation's MoE "
                 "forward); same grid "
                 "choices: {:.0f}%\n",
                 p.at("real_s"), sum_exact - p.at("prop_s"), 100 * p.at("real_same_choice"));
    if (p.count("real_gram_s"))
      fmt::print("awq_smooth_moe_layer (w2_gram_loss): {:.1f} s; same grid choices as the exact loss: {:.0f}%\n",
                 p.at("real_gram_s"), 100 * p.at("real_gram_same_choice"));
    const MemModel m = mem_model(E, N, p.at("routed_max"), p.at("weight_bytes"));
    fmt::print("peak RSS {:.0f} MiB (after the phases {:.0f} MiB); model {:.0f} MiB (weights {:.0f}, activations {:.0f}, "
               "transient {:.0f}); fp32 GEMM peer at M={:.0f}: {:.1f} GFLOP/s; routing change {:.4f} (uncompensated "
               "{:.4f})\n\n",
               p.at("rss_mib"), p.at("rss_phases_mib"), m.total / 1048576, m.weights / 1048576, m.acts / 1048576,
               std::max(m.norm_transient, m.w2_transient) / 1048576, std::max(64.0, N * kK / E), p.at("peer_gflops"),
               p.at("route_change_comp"), p.at("route_change_uncomp"));
  }

  // Scaling check: measured time ratio of each phase between points vs its work ratio.
  if (res.size() >= 2) {
    fmt::print("## Scaling: measured time ratio vs work ratio, point i / point 1\n| phase |");
    for (size_t i = 1; i < res.size(); ++i) fmt::print(" E={:.0f} N={:.0f} |", res[i].at("E"), res[i].at("N"));
    fmt::print("\n|---|");
    for (size_t i = 1; i < res.size(); ++i) fmt::print("---|");
    fmt::print("\n");
    for (const auto& r : rows) {
      fmt::print("| {} |", r.name);
      for (size_t i = 1; i < res.size(); ++i)
        fmt::print(" {:.2f} (work {:.2f}) |", res[i].at(r.key) / res[0].at(r.key), work_of(r, res[i]) / work_of(r, res[0]));
      fmt::print("\n");
    }
    fmt::print("\n");
  }

  // Extrapolation from the last point (most tokens per expert of the defaults): each phase's work at
  // the target divided by the rate measured there.
  const auto tv = parse_list([&] {
    std::string s = target;
    std::replace(s.begin(), s.end(), ':', ',');
    return s;
  }());
  const double TE = tv.at(0), TN = tv.at(1);
  const Result& base = res.back();
  double t_exact = 0, t_gram = 0, f_exact = 0, f_gram = 0;
  fmt::print("## Extrapolation to E={:.0f}, N={:.0f} (largest point: E={:.0f} N={:.0f})\n", TE, TN, base.at("E"),
             base.at("N"));
  fmt::print("| phase | work at target | time model | time per layer | x{} layers |\n|---|---|---|---|---|\n", layers);
  const double peer_max = std::max({peer64, peer512, peer2048, peer8192});
  for (const auto& r : rows) {
    // Time model t = a * fixed units + b * work, least squares over the points when the phase has a
    // per-expert fixed part and both coefficients come out positive; else t = b * work through the
    // largest point.
    double a = 0, b = base.at(r.key) / work_of(r, base);
    std::string how = r.w && !r.qdq ? fmt::format("{:.1f} GFLOP/s at the largest point", 1e-9 / b)
                                    : fmt::format("{:.2f} ns/el. at the largest point", b * 1e9);
    if (r.fixed && res.size() >= 2) {
      double suu = 0, suv = 0, svv = 0, sut = 0, svt = 0;
      for (const auto& p : res) {
        const double u = r.fixed(experts_of(r, p), p.at("N")), v = work_of(r, p), t = p.at(r.key);
        suu += u * u, suv += u * v, svv += v * v, sut += u * t, svt += v * t;
      }
      const double det = suu * svv - suv * suv;
      if (det > 1e-9 * suu * svv) {
        const double fa = (sut * svv - svt * suv) / det, fb = (svt * suu - sut * suv) / det;
        // A flop rate above the fastest GEMM measured here means the points cannot separate the
        // two parts (noise); then the single-term model is used.
        const bool flops = r.w && !r.qdq;
        if (fa > 0 && fb > 0 && (!flops || 1e-9 / fb <= peer_max)) {
          a = fa, b = fb;
          how = fmt::format("fit: {:.3f} s per expert{} + {:.1f} GFLOP/s", a, r.fixed == +per_expert ? "" : "-run",
                            1e-9 / b);
        }
      }
    }
    const double w = r.w ? work(TE, TN).*r.w : other_units(TE, TN, r.key[0]);
    const double t = a * (r.fixed ? r.fixed(TE, TN) : 0.0) + b * w;
    const bool gram = std::strncmp(r.key, "gram", 4) == 0, exact = std::strncmp(r.key, "w2_", 3) == 0;
    if (!exact) t_gram += t;
    if (!gram) t_exact += t;
    if (r.w && !r.qdq) {
      if (!exact) f_gram += w;
      if (!gram) f_exact += w;
    }
    fmt::print("| {} | {} | {} | {} | {} |\n", r.name,
               r.w && !r.qdq ? fmt::format("{:.1f} TFLOP", w / 1e12) : fmt::format("{:.3g} el.", w), how, hms(t),
               hms(t * double(layers)));
  }
  fmt::print("| **total, exact w3->w2 loss (default)** | {:.0f} TFLOP | | {} | {} |\n", f_exact / 1e12, hms(t_exact),
             hms(t_exact * double(layers)));
  fmt::print("| **total, --awq-w2-gram** | {:.0f} TFLOP | | {} | {} |\n\n", f_gram / 1e12, hms(t_gram),
             hms(t_gram * double(layers)));
  const double peer = std::max({peer64, peer512, peer2048, peer8192});
  fmt::print("Compute-bound time of the flops alone at P GFLOP/s (this machine: {:.1f} FMA peak, {:.1f} GEMM peer):\n",
             peak_gflops, peer);
  fmt::print("| P GFLOP/s | exact: per layer | exact: x{} | Gram: per layer | Gram: x{} |\n|---|---|---|---|---|\n", layers,
             layers);
  std::vector<double> ps{peer, peak_gflops};
  for (double g : parse_list(gflops)) ps.push_back(g);
  for (double P : ps)
    fmt::print("| {:.0f} | {} | {} | {} | {} |\n", P, hms(f_exact / P / 1e9), hms(f_exact / P / 1e9 * double(layers)),
               hms(f_gram / P / 1e9), hms(f_gram / P / 1e9 * double(layers)));

  fmt::print("\n## Memory model at E={:.0f}, N={:.0f} (per layer; layers are processed one at a time)\n", TE, TN);
  fmt::print("| weights held as | weights | activations (hidden, x, routing) | norm-search transient | w3->w2 transient | "
             "peak |\n|---|---|---|---|---|---|\n");
  const double routed_max = 2.0 * TN * kK / TE;  // routing imbalance bound: 2x the average
  for (double wb : {4.0, 2.0}) {
    const MemModel m = mem_model(TE, TN, routed_max, wb);
    fmt::print("| {} | {:.1f} GiB | {:.1f} GiB | {:.1f} GiB | {:.1f} GiB | **{:.1f} GiB** |\n", wb == 4 ? "fp32" : "bf16",
               m.weights / 1073741824, m.acts / 1073741824, m.norm_transient / 1073741824, m.w2_transient / 1073741824,
               m.total / 1073741824);
  }
  fmt::print("(this build holds the layer's expert weights as {}-byte values)\n", base.at("weight_bytes"));
  return 0;
}
