// Arithmetic peak of this machine measured in the same run, the denominator of every
// compute-bound (prefill) efficiency figure: each pool thread runs independent chains of fp32
// vector FMAs held in registers (no memory traffic), enough chains to cover the FMA latency on
// every FMA pipe. The result is what fp32 FMA code can reach here, not a datasheet number.
#pragma once
#include <cstdint>

namespace mixq::kernels {

struct PeakResult {
  double flops_per_second = 0;  // fp32, an FMA counted as 2 flops, all pool threads together
  int threads = 0;
  int lanes = 0;  // fp32 lanes per vector of the dispatched target
};

// Best of `repeats` runs of about `seconds_per_run` each.
PeakResult measure_fma_peak(double seconds_per_run = 0.1, int repeats = 3);

// One thread: `iters` iterations of kChains independent vector FMAs; returns a value that
// depends on every chain (so the work cannot be dropped) and the lanes per vector.
float fma_chains(int64_t iters, int* lanes);

}  // namespace mixq::kernels
