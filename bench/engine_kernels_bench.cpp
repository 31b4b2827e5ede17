// Decode-shaped GEMV (batch 1) and prefill-shaped GEMM for each weight format at MiniMax-M2 expert
// widths, reported as bytes/s of weights streamed and as a fraction of the read bandwidth
// measured in the same run (kernels/cpu/bandwidth.h), plus GFLOP/s against the fp32 FMA peak
// measured in the same run (kernels/cpu/peak.h).
//   build-perf/engine_kernels_bench --benchmark_min_time=0.5
// BM_*Experts: E independent expert matrices of one shape (w1/w3: 1536x3072, w2: 3072x1536), one
// pool dispatch per matrix as in the decode MoE, E large enough (~170 MB) to stream from DRAM —
// the shapes and bytes of the llama.cpp Q4_0 side-by-side in docs/perf-engine.md.
// BM_Memcpy: plain memcpy of the same ~170 MB split over the pool (GB/s of bytes read).
// BM_*PerCpuSecond: the same work timed in CPU time of the calling thread, not wall time. Run with
// MIXQ_THREADS=1 (everything then runs on that thread): bytes or flops per CPU-second, which time
// spent descheduled does not dilute, so kernels can be compared on a loaded machine. Memory
// stalls still count (the core is busy waiting), so a bandwidth-bound kernel is compared with
// BM_StreamSumPerCpuSecond, the loop the bench's bandwidth measurement runs.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/peak.h"
#include "util/dtype.h"
#include "util/huge_page_buffer.h"
#include "util/thread_pool.h"

namespace {
using namespace mixq::kernels;

constexpr int64_t N = 1536 * 8, K = 3072;  // 8 experts' w1 rows: 37.7M weights

double bandwidth() {
  static double bw = measure_read_bandwidth(256ull << 20, 3).bytes_per_second;
  return bw;
}
double peak() {
  static double p = measure_fma_peak().flops_per_second;
  return p;
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

void report(benchmark::State& st, double bytes, double flops) {
  st.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["bw_measured_GB/s"] = bandwidth() / 1e9;
  st.counters["peak_GFLOP/s"] = peak() / 1e9;
}

void BM_Bf16(benchmark::State& st) {
  auto& d = data();
  const int64_t M = st.range(0);
  std::vector<float> y(size_t(M * N));
  bandwidth();
  peak();
  for (auto _ : st) parallel_rows(N, 64, [&](int64_t b, int64_t e) { matmul_bf16(d.bf16.data(), K, d.x.data(), M, K, y.data(), N, b, e); });
  report(st, double(N * K * 2), 2.0 * double(N) * double(K) * double(M));
}
void BM_Int4(benchmark::State& st) {
  auto& d = data();
  const int64_t M = st.range(0);
  Int4Matrix W{d.packed.data(), d.scales.data(), ScaleType::BF16, N, K, 32};
  std::vector<float> y(size_t(M * N));
  bandwidth();
  peak();
  for (auto _ : st) parallel_rows(N, 64, [&](int64_t b, int64_t e) { matmul_int4(W, d.x.data(), M, K, y.data(), N, b, e); });
  report(st, double(N * K / 2 + N * K / 32 * 2), 2.0 * double(N) * double(K) * double(M));
}
BENCHMARK(BM_Bf16)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Int4)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- expert streams (decode GEMV over many distinct matrices) --------------------------------
constexpr uint64_t kStreamBytes = 170ull << 20;

void BM_Int4Experts(benchmark::State& st) {
  const int64_t out = st.range(0), in = st.range(1);
  const uint64_t per = uint64_t(out * in / 2 + out * in / 32 * 2);
  const int64_t E = int64_t((kStreamBytes + per - 1) / per);
  std::mt19937 g(2);
  std::vector<uint32_t> packed(size_t(E * out * in / 8));
  for (auto& w : packed) w = uint32_t(g());
  std::vector<uint16_t> scales(size_t(E * out * in / 32), mixq::f32_to_bf16(0.01f));
  std::vector<float> x(static_cast<size_t>(in), 0.5f), y(static_cast<size_t>(out));
  std::vector<Int4Matrix> W;
  for (int64_t e = 0; e < E; ++e)
    W.push_back({packed.data() + e * out * in / 8, scales.data() + e * out * in / 32, ScaleType::BF16, out, in, 32});
  bandwidth();
  for (auto _ : st)
    for (const auto& w : W)
      parallel_rows(out, 16, [&](int64_t b, int64_t e) { matmul_int4(w, x.data(), 1, in, y.data(), out, b, e); });
  report(st, double(per) * double(E), 2.0 * double(out * in) * double(E));
  st.counters["experts"] = double(E);
}
void BM_Bf16Experts(benchmark::State& st) {
  const int64_t out = st.range(0), in = st.range(1);
  const uint64_t per = uint64_t(out * in * 2);
  const int64_t E = int64_t((kStreamBytes + per - 1) / per);
  std::vector<uint16_t> w(size_t(E * out * in), mixq::f32_to_bf16(0.01f));
  std::vector<float> x(static_cast<size_t>(in), 0.5f), y(static_cast<size_t>(out));
  bandwidth();
  for (auto _ : st)
    for (int64_t e = 0; e < E; ++e)
      parallel_rows(out, 16, [&](int64_t b, int64_t en) {
        matmul_bf16(w.data() + e * out * in, in, x.data(), 1, in, y.data(), out, b, en);
      });
  report(st, double(per) * double(E), 2.0 * double(out * in) * double(E));
  st.counters["experts"] = double(E);
}
BENCHMARK(BM_Int4Experts)->Args({1536, 3072})->Args({3072, 1536})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bf16Experts)->Args({1536, 3072})->Args({3072, 1536})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Memcpy(benchmark::State& st) {
  std::vector<uint8_t> a(kStreamBytes, 1), b(kStreamBytes, 0);
  auto& pool = mixq::ThreadPool::global();
  const size_t parts = pool.size();
  bandwidth();
  for (auto _ : st) {
    pool.parallel_for(parts, 1, [&](size_t lo, size_t hi, size_t) {
      for (size_t p = lo; p < hi; ++p) {
        const size_t s = kStreamBytes * p / parts, e = kStreamBytes * (p + 1) / parts;
        std::memcpy(b.data() + s, a.data() + s, e - s);
      }
    });
    benchmark::DoNotOptimize(b.data());
  }
  report(st, double(kStreamBytes), 0);
}
BENCHMARK(BM_Memcpy)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- per CPU-second (see the header) -------------------------------------------------------
constexpr int64_t kCpuRows = 32768;  // x 3072 bf16 = 201 MB: streamed from DRAM

std::vector<uint16_t>& cpu_weights() {
  static std::vector<uint16_t> w = [] {
    std::vector<uint16_t> v(size_t(kCpuRows * K));
    for (size_t i = 0; i < v.size(); ++i) v[i] = mixq::f32_to_bf16(0.01f * float(int(i % 13) - 6));
    return v;
  }();
  return w;
}
void BM_Bf16PerCpuSecond(benchmark::State& st) {
  auto& w = cpu_weights();
  const int64_t M = st.range(0), rows = M == 1 ? kCpuRows : 4096;  // prefill: 25 MB, compute-bound
  std::vector<float> x(size_t(M * K), 0.25f), y(size_t(M * rows));
  for (auto _ : st)
    parallel_rows(rows, 64, [&](int64_t b, int64_t e) { matmul_bf16(w.data(), K, x.data(), M, K, y.data(), rows, b, e); });
  st.counters["GB/s"] = benchmark::Counter(double(rows * K * 2), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(rows * K * M), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
void BM_StreamSumPerCpuSecond(benchmark::State& st) {
  auto& w = cpu_weights();
  const auto* f = reinterpret_cast<const float*>(w.data());
  const int64_t n = kCpuRows * K / 2;
  auto& pool = mixq::ThreadPool::global();
  for (auto _ : st) {
    const size_t parts = pool.size();
    std::vector<float> part(parts);
    pool.parallel_for(parts, 1, [&](size_t b, size_t e, size_t) {
      for (size_t p = b; p < e; ++p) part[p] = stream_sum(f + n * int64_t(p) / int64_t(parts), n / int64_t(parts));
    });
    benchmark::DoNotOptimize(part.data());
  }
  st.counters["GB/s"] = benchmark::Counter(double(n * 4), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Bf16PerCpuSecond)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StreamSumPerCpuSecond)->Unit(benchmark::kMillisecond);

// Decode attention (one query row, MiniMax-M2 heads: 48 query / 8 KV heads x 128, BF16 cache)
// over a context of `ctx` positions, on the calling thread, in the KvCache's head-major layout:
// time per layer and GB/s of KV read. cold=1 evicts the caches before each call, as the weights
// streaming through between two layers' attention do in decode.
void BM_AttentionDecode(benchmark::State& st) {
  const AttentionShape s{48, 8, 128, 0.088388f};
  const int64_t n = st.range(0), width = s.nkv * s.d;
  // In 2 MB pages, as the engine's KvCache (util/huge_page_buffer.h).
  mixq::HugePageBuffer kb(size_t(n * width) * 2), vb(size_t(n * width) * 2);
  auto* k = reinterpret_cast<uint16_t*>(kb.data());
  auto* v = reinterpret_cast<uint16_t*>(vb.data());
  std::vector<float> q(size_t(s.nh * s.d)), out(q.size());
  std::mt19937 g(3);
  std::normal_distribution<float> nd(0, 1);
  for (int64_t i = 0; i < n * width; ++i) k[i] = mixq::f32_to_bf16(nd(g));
  for (int64_t i = 0; i < n * width; ++i) v[i] = mixq::f32_to_bf16(nd(g));
  for (auto& x : q) x = nd(g);
  const KvRows kv{k, v, KvType::BF16, s.d, n * s.d};
  std::vector<float> flush(st.range(1) ? size_t(16) << 20 : 0);  // 64 MB: evicts L2 and L3
  for (auto _ : st) {
    if (st.range(1)) {
      st.PauseTiming();
      float sum = 0;  // reads only, as the weights do: evicted lines are clean
      for (size_t i = 0; i < flush.size(); i += 16) sum += flush[i];
      benchmark::DoNotOptimize(sum);
      st.ResumeTiming();
    }
    attention(q.data(), s.nh * s.d, s, n - 1, kv, out.data(), s.nh * s.d, 0, s.nh);
    benchmark::DoNotOptimize(out.data());
  }
  st.counters["KV_GB/s"] = benchmark::Counter(double(4 * n * width), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_AttentionDecode)
    ->ArgNames({"ctx", "cold"})
    ->ArgsProduct({{144, 1024, 8192}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

void BM_FmaPeak(benchmark::State& st) {
  double flops = 0;
  for (auto _ : st) flops = measure_fma_peak(0.05, 1).flops_per_second;
  st.counters["peak_GFLOP/s"] = flops / 1e9;
}
BENCHMARK(BM_FmaPeak)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
