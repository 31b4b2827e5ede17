// The bandwidth probe's read loop must read every element exactly once whatever n is (whole
// four-stream steps, the tail after them, sizes below one step), on every compiled target; and a
// pass must report a positive rate and the threads it ran on.
#include <gtest/gtest.h>

#include <vector>

#include "hwy/targets.h"
#include "kernels/cpu/bandwidth.h"
#include "util/thread_pool.h"

namespace mixq::kernels {
namespace {

TEST(Bandwidth, StreamSumReadsEveryElementOnce) {
  for (int64_t tgt : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(tgt);
    for (int64_t n : {0, 1, 7, 31, 127, 128, 129, 1000, 4096, 4099, 65537}) {
      // Element i holds i % 7 + 1: small integers, so the fp32 sum is exact and a skipped or
      // doubled element shows.
      std::vector<float> x(static_cast<size_t>(n));
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want += (x[size_t(i)] = float(i % 7 + 1));
      EXPECT_EQ(double(stream_sum(x.data(), n)), want) << "n " << n << " target " << hwy::TargetName(tgt);
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(Bandwidth, ProbePassReportsRateAndThreads) {
  ReadBandwidthProbe probe(8 << 20);
  EXPECT_EQ(probe.bytes(), uint64_t(8) << 20);
  EXPECT_GT(probe.pass(), 0.0);
  EXPECT_GE(probe.last_pass_threads(), 1);
  EXPECT_LE(probe.last_pass_threads(), int(ThreadPool::global().size()));
  const BandwidthResult r = measure_read_bandwidth(4 << 20, 2);
  EXPECT_GT(r.bytes_per_second, 0.0);
  EXPECT_EQ(r.repeats, 2);
}

}  // namespace
}  // namespace mixq::kernels
