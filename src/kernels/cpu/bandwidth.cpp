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

// Four sub-slices read side by side, two vectors each per step. One sequential stream per core
// under-reads this machine's memory: in one quiet minute (14:25, 2 threads, 512 MiB) 1 stream per
// thread gave 62-74 GB/s, 2 streams 79-82, 4 streams 82-88, 8 streams 71-82, 16 streams 65-69 (a
// GEMV reads 4-8 row streams, so the old single-stream probe made its roofline fractions look
// up to 1.5x better than they were). Four is the best of these everywhere we measured.
float StreamSum(const float* p, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t L = int64_t(hn::Lanes(df));
  constexpr int kStreams = kStreamsPerThread;
  static_assert(kStreams == 4, "the loop below reads four sub-slices");
  const int64_t per = n / (kStreams * 2 * L) * (2 * L);  // whole steps per sub-slice
  const float* s0 = p;
  const float* s1 = p + per;
  const float* s2 = p + 2 * per;
  const float* s3 = p + 3 * per;
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  auto b0 = hn::Zero(df), b1 = hn::Zero(df), b2 = hn::Zero(df), b3 = hn::Zero(df);
  for (int64_t i = 0; i < per; i += 2 * L) {
    a0 = hn::Add(a0, hn::LoadU(df, s0 + i));
    a1 = hn::Add(a1, hn::LoadU(df, s1 + i));
    a2 = hn::Add(a2, hn::LoadU(df, s2 + i));
    a3 = hn::Add(a3, hn::LoadU(df, s3 + i));
    b0 = hn::Add(b0, hn::LoadU(df, s0 + i + L));
    b1 = hn::Add(b1, hn::LoadU(df, s1 + i + L));
    b2 = hn::Add(b2, hn::LoadU(df, s2 + i + L));
    b3 = hn::Add(b3, hn::LoadU(df, s3 + i + L));
  }
  const auto a = hn::Add(hn::Add(a0, a1), hn::Add(a2, a3));
  const auto b = hn::Add(hn::Add(b0, b1), hn::Add(b2, b3));
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(a, b)));
  for (int64_t i = kStreams * per; i < n; ++i) s += p[i];
  return s;
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mixq::kernels {
HWY_EXPORT(StreamSum);

float stream_sum(const float* p, int64_t n) { return HWY_DYNAMIC_DISPATCH(StreamSum)(p, n); }

ReadBandwidthProbe::ReadBandwidthProbe(uint64_t bytes) : bytes_(bytes / 4 * 4), buf_(size_t(bytes / 4 * 4)) {
  float* f = reinterpret_cast<float*>(buf_.data());
  std::fill(f, f + bytes_ / 4, 1.0f);  // touched: pages resident before timing
}

double ReadBandwidthProbe::pass() {
  const int64_t n = int64_t(bytes_ / 4);
  auto& pool = ThreadPool::global();
  const size_t parts = pool.size();
  std::vector<float> partial(parts, 0.f);
  std::vector<size_t> ran_on(parts, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pool.parallel_for(parts, 1, [&](size_t b, size_t e, size_t tid) {
    for (size_t p = b; p < e; ++p) {
      const int64_t lo = n * int64_t(p) / int64_t(parts), hi = n * int64_t(p + 1) / int64_t(parts);
      partial[p] = stream_sum(data() + lo, hi - lo);
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
