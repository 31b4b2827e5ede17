#include "kernels/cpu/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "util/thread_pool.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/bandwidth.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float StreamSum(const float* p, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t L = int64_t(hn::Lanes(df));
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 = hn::Add(a0, hn::LoadU(df, p + i));
    a1 = hn::Add(a1, hn::LoadU(df, p + i + L));
    a2 = hn::Add(a2, hn::LoadU(df, p + i + 2 * L));
    a3 = hn::Add(a3, hn::LoadU(df, p + i + 3 * L));
  }
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
  for (; i < n; ++i) s += p[i];
  return s;
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
HWY_EXPORT(StreamSum);

float stream_sum(const float* p, int64_t n) { return HWY_DYNAMIC_DISPATCH(StreamSum)(p, n); }

ReadBandwidthProbe::ReadBandwidthProbe(uint64_t bytes)
    : bytes_(bytes / 4 * 4), buf_(size_t(bytes / 4), 1.0f) {}  // touched: pages resident before timing

double ReadBandwidthProbe::pass() {
  const int64_t n = int64_t(buf_.size());
  auto& pool = ThreadPool::global();
  const size_t parts = pool.size();
  std::vector<float> partial(parts, 0.f);
  std::vector<size_t> ran_on(parts, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pool.parallel_for(parts, 1, [&](size_t b, size_t e, size_t tid) {
    for (size_t p = b; p < e; ++p) {
      const int64_t lo = n * int64_t(p) / int64_t(parts), hi = n * int64_t(p + 1) / int64_t(parts);
      partial[p] = stream_sum(buf_.data() + lo, hi - lo);
      ran_on[p] = tid;
    }
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile float sink = 0;
  for (float x : partial) sink = sink + x;
  std::sort(ran_on.begin(), ran_on.end());
  last_threads_ = int(std::unique(ran_on.begin(), ran_on.end()) - ran_on.begin());
  return double(bytes_) / s;
}

BandwidthResult measure_read_bandwidth(uint64_t bytes, int repeats) {
  ReadBandwidthProbe probe(bytes);
  double best = 0;
  for (int r = 0; r < repeats; ++r) best = std::max(best, probe.pass());
  return {best, probe.bytes(), repeats};
}

}  // namespace mixq::kernels
#endif
