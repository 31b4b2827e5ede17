// Decode-shaped GEMV (batch 1) and prefill-shaped GEMM for each weight format at MiniMax-M2 expert
// widths, reported as bytes/s of weights streamed and as a fraction of the read bandwidth
// measured in the same run (kernels/cpu/bandwidth.h), plus GFLOP/s for the prefill shape.
//   build-engine/engine_kernels_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/matmul.h"
#include "util/dtype.h"

namespace {
using namespace mixq::kernels;

constexpr int64_t N = 1536 * 8, K = 3072;  // 8 experts' w1 rows: 37.7M weights

double bandwidth() {
  static double bw = measure_read_bandwidth(256ull << 20, 3).bytes_per_second;
  return bw;
}

struct Data {
  std::vector<uint16_t> bf16;
  std::vector<uint32_t> packed;
  std::vector<uint16_t> scales;
  std::vector<float> x;
  Data() : bf16(size_t(N * K)), packed(size_t(N * K / 8)), scales(size_t(N * K / 32)), x(size_t(64 * K)) {
    std::mt19937 g(1);
    std::normal_distribution<float> nd(0, 0.02f);
    for (auto& w : bf16) w = mixq::f32_to_bf16(nd(g));
    for (auto& w : packed) w = uint32_t(g());
    for (auto& s : scales) s = mixq::f32_to_bf16(0.01f);
    for (auto& v : x) v = nd(g);
  }
};
Data& data() {
  static Data d;
  return d;
}

void report(benchmark::State& st, double bytes, int64_t M) {
  st.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(N) * double(K) * double(M), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["bw_measured_GB/s"] = bandwidth() / 1e9;
}

void BM_Bf16(benchmark::State& st) {
  auto& d = data();
  const int64_t M = st.range(0);
  std::vector<float> y(size_t(M * N));
  bandwidth();
  for (auto _ : st) parallel_rows(N, 64, [&](int64_t b, int64_t e) { matmul_bf16(d.bf16.data(), K, d.x.data(), M, K, y.data(), N, b, e); });
  report(st, double(N * K * 2), M);
}
void BM_Int4(benchmark::State& st) {
  auto& d = data();
  const int64_t M = st.range(0);
  Int4Matrix W{d.packed.data(), d.scales.data(), ScaleType::BF16, N, K, 32};
  std::vector<float> y(size_t(M * N));
  bandwidth();
  for (auto _ : st) parallel_rows(N, 64, [&](int64_t b, int64_t e) { matmul_int4(W, d.x.data(), M, K, y.data(), N, b, e); });
  report(st, double(N * K / 2 + N * K / 32 * 2), M);
}
BENCHMARK(BM_Bf16)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Int4)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
