// Memory read bandwidth measured on this machine, the denominator of every decode roofline: the
// pool's threads each stream a disjoint slice of a buffer far larger than the caches, summing it
// with vector loads in kStreamsPerThread sub-streams (what a bandwidth-bound GEMV does with its
// row streams, minus the arithmetic).
#pragma once
#include <cstdint>

#include "util/huge_page_buffer.h"

namespace mixq::kernels {

struct BandwidthResult {
  double bytes_per_second = 0;
  uint64_t buffer_bytes = 0;
  int repeats = 0;
};

// Best of `repeats` passes over a buffer of `bytes` (allocated, touched, freed inside).
BandwidthResult measure_read_bandwidth(uint64_t bytes = 1ull << 29, int repeats = 5);

// A buffer kept between passes, so that single passes can be interleaved with other work (mixq
// bench times one pass right before each decoded token: numerator and denominator of the roofline
// then see the same contention). Memory: `bytes` (resident from construction on).
class ReadBandwidthProbe {
 public:
  explicit ReadBandwidthProbe(uint64_t bytes);
  double pass();  // one timed pass over the whole buffer, split over the pool threads: bytes/s
  uint64_t bytes() const { return bytes_; }
  size_t huge_page_bytes() const { return buf_.huge_page_bytes(); }
  // How many pool threads the last pass actually ran on. The pool hands parts to whichever thread
  // is free, so on a loaded machine one thread may stream every part: that pass measures
  // single-thread bandwidth and must not be paired with a two-thread decode.
  int last_pass_threads() const { return last_threads_; }

 private:
  uint64_t bytes_;
  int last_threads_ = 0;
  HugePageBuffer buf_;  // huge pages, as the weights with --no-mmap: one page walk per 2 MB
  const float* data() const { return reinterpret_cast<const float*>(buf_.data()); }
};

// Read streams per thread in a pass: the sub-slices read side by side (bandwidth.cpp says why 4).
inline constexpr int kStreamsPerThread = 4;

// Sum of n floats with vector loads, kStreamsPerThread sub-slices side by side (exposed for the
// measurement and its test).
float stream_sum(const float* p, int64_t n);

}  // namespace mixq::kernels
