// The two costs of AWQ's grid search at MiniMax-M2 widths (hidden 3072, expert intermediate 1536):
//   trial weights bf16(QDQ(bf16(W*s))/s) of one expert matrix: bytes moved vs measured read bandwidth
//   one expert's SwiGLU forward over calibration tokens: GFLOP/s vs a plain fp32 GEMM of the same
//   size measured in the same run (the kernels' achievable peak on this machine).
// docs/awq.md turns these into a per-layer estimate. Run:
//   build/awq_search_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <random>

#include "calib/awq_gram.h"
#include "calib/awq_parents.h"
#include "calib/awq_search.h"
#include "calib/moe_reference.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/matmul.h"
#include "util/dtype.h"

using namespace mixq;
using namespace mixq::calib;

namespace {

constexpr int64_t kHidden = 3072, kInter = 1536;

Matrix random_bf16(int64_t r, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  Matrix m(r, c);
  for (auto& v : m.data) v = round_bf16(nd(rng));
  return m;
}

double read_bandwidth() {
  static double bw = kernels::measure_read_bandwidth(1ull << 28, 3).bytes_per_second;
  return bw;
}

void BM_TrialWeightExpertMatrix(benchmark::State& st) {
  Matrix w = random_bf16(kInter, kHidden, 1);
  std::vector<double> s(static_cast<size_t>(kHidden));
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(0.5, 2.0);
  for (auto& v : s) v = u(rng);
  std::vector<float> out(w.data.size());
  for (auto _ : st) {
    awq_trial_weight(w, s, 32, nullptr, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // Minimum traffic: read W (fp32 here) and write the trial matrix, once each.
  const double bytes = double(w.data.size()) * 8.0;
  st.counters["GB/s"] = benchmark::Counter(bytes * double(st.iterations()), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  st.counters["read_bw_GB/s"] = read_bandwidth() / 1e9;
  st.counters["s_at_bw_limit_ms"] = bytes / read_bandwidth() * 1e3;
}
BENCHMARK(BM_TrialWeightExpertMatrix)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ExpertForward(benchmark::State& st) {
  const int64_t T = st.range(0);
  Matrix w1 = random_bf16(kInter, kHidden, 3), w3 = random_bf16(kInter, kHidden, 4), w2 = random_bf16(kHidden, kInter, 5);
  Matrix x = random_bf16(T, kHidden, 6);
  std::vector<float> y(size_t(T * kHidden));
  MoeShape shape{kHidden, kInter, 1};
  for (auto _ : st) {
    swiglu_expert_forward(x.data.data(), T, w1.data.data(), w3.data.data(), w2.data.data(), shape, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 3.0 * 2.0 * double(T) * double(kHidden) * double(kInter);
  st.counters["GFLOP/s"] = benchmark::Counter(flops * double(st.iterations()), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_ExpertForward)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

// The peer: one plain fp32 GEMM [T, 3072] x [1536, 3072]^T through the same kernel, no SwiGLU glue.
void BM_PlainGemmPeer(benchmark::State& st) {
  const int64_t T = st.range(0);
  Matrix w = random_bf16(kInter, kHidden, 7), x = random_bf16(T, kHidden, 8);
  std::vector<float> y(size_t(T * kInter));
  for (auto _ : st) {
    kernels::parallel_rows(kInter, 16, [&](int64_t n0, int64_t n1) {
      kernels::matmul_f32(w.data.data(), kHidden, x.data.data(), T, kHidden, y.data(), kInter, n0, n1);
    });
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * double(T) * double(kHidden) * double(kInter);
  st.counters["GFLOP/s"] = benchmark::Counter(flops * double(st.iterations()), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_PlainGemmPeer)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

// One w3 -> w2 grid-point evaluation at real width: the direct loss runs w2 on T tokens
// ([T, 1536] x [3072, 1536]^T); the Gram loss is tr(dW G dW^T) with G [1536, 1536], independent of T.
void BM_W2LossDirect(benchmark::State& st) {
  const int64_t T = st.range(0);
  Matrix w = random_bf16(kHidden, kInter, 9), h = random_bf16(T, kInter, 10);
  ParentForward parent = linear_parent(h, kHidden);
  struct Orig final : BalanceWeights {
    const Matrix* w;
    size_t size() const override { return 1; }
    const float* get(size_t, std::vector<float>&) const override { return w->data.data(); }
  } bw;
  bw.w = &w;
  std::vector<float> out;
  for (auto _ : st) {
    parent(bw, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_W2LossDirect)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_W2LossGram(benchmark::State& st) {
  Matrix w = random_bf16(kHidden, kInter, 9), h = random_bf16(256, kInter, 10), trial = w;
  for (auto& v : trial.data) v = round_bf16(v * 1.01f);
  GramAccumulator g(kInter);
  g.add(h);
  for (auto _ : st) benchmark::DoNotOptimize(linear_mse_from_gram(w, trial.data.data(), g));
}
BENCHMARK(BM_W2LossGram)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
