// W4A16 INT4 group-32 decode GEMV (M = 1): the split-activation VNNI kernel
// (kernels/cpu/matmul_int4_vnni.h), the same on the 16-row interleaved copy that --no-mmap makes
// (kernels/cpu/matmul_int4_rows16.h) and the exact fp32-activation kernel, side by side in one run,
// as GB/s of weights (packed nibbles + bf16 scales) and as a fraction of the read bandwidth
// measured in the same run (kernels::measure_read_bandwidth, 2 threads over 512 MiB, best of 5).
//   MIXQ_THREADS=2 build-X/int4_gemv_bench --benchmark_min_time=0.5
// Threads: the global pool, one parallel_rows dispatch per matrix (as the runtime does), the split
// kernel's activations prepared once per matrix before it.
// BM_Experts/<kernel>/<out>/<in>: E distinct expert matrices of one shape (w1/w3 1536x3072, w2
// 3072x1536), ~170 MB in all, so every pass streams from DRAM (the ggml Q4_0 side-by-side shapes).
// BM_ExpertsWhole/<kernel>/<out>/<in>: the same experts, each matrix whole on one thread, one
// dispatch for all (the engine's MoE task shape).
// BM_Gemv/<kernel>: one 12288x3072 matrix (21 MB). kernel 0 = split (VNNI), 1 = exact, 2 = rows16.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_int4_rows16.h"
#include "kernels/cpu/matmul_int4_vnni.h"
#include "util/dtype.h"
#include "util/huge_page_buffer.h"
#include "util/thread_pool.h"

namespace {
using namespace mixq::kernels;

constexpr uint64_t kStreamBytes = 170ull << 20;

double bandwidth() {
  static double bw = measure_read_bandwidth(512ull << 20, 5).bytes_per_second;
  return bw;
}

// The weights sit in 2 MB huge pages, as with `mixq bench --no-mmap` and as the bandwidth probe's
// buffer (util/huge_page_buffer.h); MIXQ_BENCH_SMALL_PAGES=1 puts them in ordinary 4 KB pages (what
// the ggml harness's malloc'd buffers get, for a like-for-like ratio).
struct Experts {
  int64_t out, in, E;
  uint64_t per;  // bytes per expert: nibbles + bf16 scales
  mixq::HugePageBuffer huge_packed, huge_scales;
  std::vector<uint32_t> small_packed;
  std::vector<uint16_t> small_scales;
  uint32_t* packed = nullptr;
  uint16_t* scales = nullptr;
  // The rows16 copy (same page kind), made on first use.
  mixq::HugePageBuffer huge_packed16, huge_scales16;
  std::vector<uint32_t> small_packed16;
  std::vector<uint16_t> small_scales16;
  uint32_t* packed16 = nullptr;
  uint16_t* scales16 = nullptr;
  std::vector<float> x, y;
  Experts(int64_t o, int64_t i, uint64_t total) : out(o), in(i) {
    per = uint64_t(out * in / 2 + out * in / 32 * 2);
    E = int64_t((total + per - 1) / per);
    std::mt19937 g(2);
    const size_t nw = size_t(E * out * in / 8), ns = size_t(E * out * in / 32);
    if (std::getenv("MIXQ_BENCH_SMALL_PAGES")) {
      small_packed.resize(nw);
      small_scales.resize(ns);
      packed = small_packed.data();
      scales = small_scales.data();
    } else {
      huge_packed = mixq::HugePageBuffer(nw * 4);
      huge_scales = mixq::HugePageBuffer(ns * 2);
      packed = reinterpret_cast<uint32_t*>(huge_packed.data());
      scales = reinterpret_cast<uint16_t*>(huge_scales.data());
    }
    for (size_t i = 0; i < nw; ++i) packed[i] = uint32_t(g());
    std::normal_distribution<float> nd(0.f, 1.f);
    for (size_t i = 0; i < ns; ++i) scales[i] = mixq::f32_to_bf16(0.01f + 0.001f * nd(g));
    x.resize(size_t(in));
    for (auto& v : x) v = nd(g);
    y.resize(size_t(out));
  }
  Int4Matrix matrix(int64_t e, bool rows16 = false) {
    if (rows16 && !packed16) interleave();
    return {(rows16 ? packed16 : packed) + e * out * in / 8, (rows16 ? scales16 : scales) + e * out * in / 32,
            ScaleType::BF16, out, in, 32, rows16};
  }
  void interleave() {
    const size_t nw = size_t(E * out * in / 8), ns = size_t(E * out * in / 32);
    if (small_packed.empty()) {
      huge_packed16 = mixq::HugePageBuffer(nw * 4);
      huge_scales16 = mixq::HugePageBuffer(ns * 2);
      packed16 = reinterpret_cast<uint32_t*>(huge_packed16.data());
      scales16 = reinterpret_cast<uint16_t*>(huge_scales16.data());
    } else {
      small_packed16.resize(nw);
      small_scales16.resize(ns);
      packed16 = small_packed16.data();
      scales16 = small_scales16.data();
    }
    std::copy(packed, packed + nw, packed16);
    std::copy(scales, scales + ns, scales16);
    for (int64_t e = 0; e < E; ++e)
      interleave_int4_rows16(packed16 + e * out * in / 8, scales16 + e * out * in / 32, ScaleType::BF16, out, in, 32);
  }
};

Experts& experts(int64_t out, int64_t in, uint64_t total) {
  static std::vector<std::unique_ptr<Experts>> cache;
  for (auto& e : cache)
    if (e->out == out && e->in == in && e->E == int64_t((total + e->per - 1) / e->per)) return *e;
  cache.push_back(std::make_unique<Experts>(out, in, total));
  return *cache.back();
}

// The split kernel's activations are prepared once per matrix on the calling thread, then the row
// chunks run on them (as Linear::forward does; ggml likewise quantizes x once per node).
void gemv(int kernel, const Int4Matrix& W, const float* x, float* y) {
  static Int4VnniActivations a;
  if (kernel != 1) a.prepare(x, 1, W.K, W.K);
  parallel_rows(W.N, 16, [&](int64_t b, int64_t e) {
    if (kernel != 1) matmul_int4_vnni_prepared(W, a, y, W.N, b, e);
    else matmul_int4_exact(W, x, 1, W.K, y, W.N, b, e);
  });
}

// GB/s of weights over the timed loop (mean) and of its fastest iteration (best, what the ggml
// harness reports next to its mean), the read bandwidth, and mean / bandwidth (of_bw).
void report(benchmark::State& st, double bytes, double seconds, double best) {
  const double bw = bandwidth(), rate = bytes * double(st.iterations()) / seconds;
  st.counters["GB/s"] = rate / 1e9;
  st.counters["best_GB/s"] = bytes / best / 1e9;
  st.counters["bw_GB/s"] = bw / 1e9;
  st.counters["of_bw"] = rate / bw;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void BM_Experts(benchmark::State& st) {
  const int kernel = int(st.range(0));
  if (kernel != 1 && !int4_vnni_cpu()) return st.SkipWithError("no AVX-512 VNNI");
  auto& d = experts(st.range(1), st.range(2), kStreamBytes);
  d.matrix(0, kernel == 2);  // the rows16 copy is made before the clock starts
  bandwidth();
  const double t0 = now();
  double best = 1e30;
  for (auto _ : st) {
    const double t1 = now();
    for (int64_t e = 0; e < d.E; ++e) gemv(kernel, d.matrix(e, kernel == 2), d.x.data(), d.y.data());
    best = std::min(best, now() - t1);
  }
  report(st, double(d.per) * double(d.E), now() - t0, best);
  st.counters["experts"] = double(d.E);
}
BENCHMARK(BM_Experts)
    ->ArgNames({"kernel", "out", "in"})
    ->Args({0, 1536, 3072})->Args({2, 1536, 3072})->Args({1, 1536, 3072})
    ->Args({0, 3072, 1536})->Args({2, 3072, 1536})->Args({1, 3072, 1536})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// BM_ExpertsWhole/<kernel>/<out>/<in>: the same experts, but each matrix whole on one thread (the
// threads claim experts one at a time, as the engine's MoE claims its (expert, rows) tasks), one
// pool dispatch for all of them: no per-matrix dispatch, row split or activation preparation.
void BM_ExpertsWhole(benchmark::State& st) {
  const int kernel = int(st.range(0));
  if (kernel != 1 && !int4_vnni_cpu()) return st.SkipWithError("no AVX-512 VNNI");
  auto& d = experts(st.range(1), st.range(2), kStreamBytes);
  d.matrix(0, kernel == 2);
  bandwidth();
  Int4VnniActivations a;
  a.prepare(d.x.data(), 1, d.in, d.in);
  std::vector<float> ys(size_t(d.E * d.out));
  const double t0 = now();
  double best = 1e30;
  for (auto _ : st) {
    const double t1 = now();
    mixq::ThreadPool::global().parallel_for(
        size_t(d.E), 1,
        [&](size_t b, size_t e, size_t) {
          for (size_t i = b; i < e; ++i) {
            const Int4Matrix W = d.matrix(int64_t(i), kernel == 2);
            float* y = ys.data() + i * size_t(d.out);
            if (kernel != 1) matmul_int4_vnni_prepared(W, a, y, W.N, 0, W.N);
            else matmul_int4_exact(W, d.x.data(), 1, W.K, y, W.N, 0, W.N);
          }
        },
        mixq::ThreadPool::Chunking::Fixed);
    best = std::min(best, now() - t1);
  }
  report(st, double(d.per) * double(d.E), now() - t0, best);
}
BENCHMARK(BM_ExpertsWhole)
    ->ArgNames({"kernel", "out", "in"})
    ->Args({0, 1536, 3072})->Args({2, 1536, 3072})
    ->Args({0, 3072, 1536})->Args({2, 3072, 1536})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Gemv(benchmark::State& st) {
  const int kernel = int(st.range(0));
  if (kernel != 1 && !int4_vnni_cpu()) return st.SkipWithError("no AVX-512 VNNI");
  auto& d = experts(12288, 3072, 1);  // one matrix
  const Int4Matrix W = d.matrix(0, kernel == 2);
  bandwidth();
  const double t0 = now();
  double best = 1e30;
  for (auto _ : st) {
    const double t1 = now();
    gemv(kernel, W, d.x.data(), d.y.data());
    best = std::min(best, now() - t1);
  }
  report(st, double(d.per), now() - t0, best);
}
BENCHMARK(BM_Gemv)->ArgName("kernel")->Arg(0)->Arg(2)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
