#include "kernels/cpu/peak.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "util/thread_pool.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/peak.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 16 chains: 2 FMA pipes x 4-5 cycles latency need >= 10 in flight; 16 leaves margin and fits in
// the 32 (AVX-512) / 16 (AVX2) vector registers together with the two operands.
constexpr int kChains = 16;

float FmaChains(int64_t iters, int* lanes) {
  const hn::ScalableTag<float> df;
  *lanes = int(hn::Lanes(df));
  hn::Vec<decltype(df)> acc[kChains];
  // Fully unrolled (the pragmas): at -O2 GCC otherwise keeps acc[] on the stack and every FMA
  // waits for a store-forward round trip, which measured about half the real peak.
#pragma GCC unroll 16
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(df, float(c) * 1e-3f);
  // a * b + acc with a*b slightly below 1 keeps values bounded and normal for any iteration count.
  const auto a = hn::Set(df, 0.999f), b = hn::Set(df, 1e-3f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], a, b);
  }
  auto s = acc[0];
#pragma GCC unroll 16
  for (int c = 1; c < kChains; ++c) s = hn::Add(s, acc[c]);
  return hn::GetLane(hn::SumOfLanes(df, s));
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
HWY_EXPORT(FmaChains);

float fma_chains(int64_t iters, int* lanes) { return HWY_DYNAMIC_DISPATCH(FmaChains)(iters, lanes); }

PeakResult measure_fma_peak(double seconds_per_run, int repeats) {
  using clock = std::chrono::steady_clock;
  auto& pool = ThreadPool::global();
  const size_t threads = pool.size();
  int lanes = 0;
  // Calibrate the iteration count on one thread so a run lasts about seconds_per_run.
  int64_t iters = 1 << 16;
  for (;;) {
    auto t0 = clock::now();
    volatile float sink = fma_chains(iters, &lanes);
    (void)sink;
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s > seconds_per_run / 4 || iters > (int64_t(1) << 40)) {
      iters = std::max<int64_t>(1, int64_t(double(iters) * seconds_per_run / std::max(s, 1e-9)));
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<float> out(threads, 0.f);
    auto t0 = clock::now();
    pool.parallel_for(threads, 1, [&](size_t b, size_t e, size_t) {
      int l = 0;
      for (size_t p = b; p < e; ++p) out[p] = fma_chains(iters, &l);
    });
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    volatile float sink = 0;
    for (float x : out) sink = sink + x;
    // 16 chains (kChains) x lanes x 2 flops per iteration and thread.
    best = std::max(best, double(threads) * double(iters) * 16.0 * double(lanes) * 2.0 / s);
  }
  return {best, int(threads), lanes};
}

}  // namespace mixq::kernels
#endif
