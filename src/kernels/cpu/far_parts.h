// Decode (one token) reads a thread's rows [n0, n1) as S contiguous, far-apart parts side by
// side, one row (or row tile) of each at a time. Each part is then one long sequential stream
// through memory. A tile of S adjacent rows would be S short streams that restart at every tile,
// and this machine's memory reads those slowly: two threads over cold BF16 matrices at the real
// widths, 51-58 GB/s for 16 adjacent rows against 64-78 for 5-7 far-apart parts and 73-85 for a
// 4-stream read (docs/perf-engine.md round 6). Used by the BF16 and FP8 decode
// (kernels/cpu/matmul.cpp), rows16 INT4 (matmul_int4_rows16.cpp) and native INT4
// (matmul_int4_vnni.cpp); each kernel keeps the same per-row arithmetic whatever part a row falls
// in, so results do not depend on the split.
#pragma once
#include <cstdint>
#include <type_traits>

namespace mixq::kernels {

// run(std::integral_constant<int, S>{}, first, per): the S parts of `per` rows that start at
// first, first + per, ..., first + (S - 1) * per; then run(std::integral_constant<int, 1>{},
// first, rest) for the rows left over (fewer than S), as one part. A call with no rows is skipped.
template <int S, class Run>
inline void for_far_parts(int64_t n0, int64_t n1, Run&& run) {
  const int64_t per = (n1 - n0) / S, rest0 = n0 + S * per;
  if (per > 0) run(std::integral_constant<int, S>{}, n0, per);
  if (rest0 < n1) run(std::integral_constant<int, 1>{}, rest0, n1 - rest0);
}

}  // namespace mixq::kernels
