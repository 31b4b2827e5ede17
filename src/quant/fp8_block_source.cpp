#pragma GCC optimize("O3")
#include "quant/fp8_block_source.h"

#include <algorithm>

#include "util/dtype.h"
#include "util/thread_pool.h"

namespace mixq {

template <typename Out, typename Conv>
static void run(const uint8_t* w, const float* sc, int64_t out, int64_t in, int64_t bn, int64_t bk, int64_t r0, int64_t r1, Out* dst,
                Conv conv) {
  const int64_t sc_cols = (in + bk - 1) / bk;
  ThreadPool::global().parallel_for(size_t(r1 - r0), size_t(std::max<int64_t>(1, 32768 / std::max<int64_t>(1, in))),
                                    [&](size_t b, size_t e, size_t) {
    for (int64_t r = r0 + int64_t(b); r < r0 + int64_t(e); ++r) {
      const uint8_t* src = w + r * in;
      const float* srow = sc + (r / bn) * sc_cols;
      Out* d = dst + (r - r0) * in;
      for (int64_t c0 = 0; c0 < in; c0 += bk) {
        const float s = srow[c0 / bk];
        const int64_t c1 = std::min(in, c0 + bk);
        for (int64_t c = c0; c < c1; ++c) d[c] = conv(kFp8E4M3ToF32[src[c]] * s);
      }
    }
  });
}

void dequantize_fp8_block_rows(const uint8_t* w, const float* sc, int64_t out, int64_t in, int64_t bn, int64_t bk, int64_t r0, int64_t r1,
                               float* dst) {
  run(w, sc, out, in, bn, bk, r0, r1, dst, [](float x) { return round_bf16(x); });
}

void dequantize_fp8_block_rows_bf16(const uint8_t* w, const float* sc, int64_t out, int64_t in, int64_t bn, int64_t bk, int64_t r0,
                                    int64_t r1, uint16_t* dst) {
  run(w, sc, out, in, bn, bk, r0, r1, dst, [](float x) { return f32_to_bf16(x); });
}

}  // namespace mixq
