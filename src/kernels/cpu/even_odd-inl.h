// The even/odd order of the paired BF16 kernels, per target (Highway -inl.h: included after
// hwy/highway.h by each kernel file that uses it, once per compiled target).
// One full-width load of 2L bf16 values is L uint32 pairs: (pair << 16) is the even element as
// fp32 and (pair & 0xFFFF0000) the odd one, two ALU ops per 2L values and no cross-lane work. The
// fp32 operands they meet (activations, queries) and the fp32 results they produce (attention's
// p.V) are then in the even/odd order of each chunk of 2L values: o[b + j] = x[b + 2j],
// o[b + L + j] = x[b + 2j + 1].

// Per-target include guard (Highway's toggle idiom).
#if defined(MIXQ_KERNELS_CPU_EVEN_ODD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MIXQ_KERNELS_CPU_EVEN_ODD_INL_H_
#undef MIXQ_KERNELS_CPU_EVEN_ODD_INL_H_
#else
#define MIXQ_KERNELS_CPU_EVEN_ODD_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mixq::kernels {
namespace HWY_NAMESPACE {

// x[0, K) into even/odd order per whole chunk of 2L; the tail (K % 2L values) is copied as is.
HWY_INLINE void PermuteEvenOdd(const float* x, int64_t K, float* o) {
  namespace hn = hwy::HWY_NAMESPACE;
  const hn::ScalableTag<float> df;
  const int64_t L = int64_t(hn::Lanes(df));
  int64_t b = 0;
  for (; b + 2 * L <= K; b += 2 * L) {
#if HWY_TARGET == HWY_SCALAR
    o[b] = x[b];
    o[b + 1] = x[b + 1];
#else
    const auto a = hn::LoadU(df, x + b), c = hn::LoadU(df, x + b + L);
    hn::StoreU(hn::ConcatEven(df, c, a), df, o + b);
    hn::StoreU(hn::ConcatOdd(df, c, a), df, o + b + L);
#endif
  }
  for (; b < K; ++b) o[b] = x[b];
}

// The inverse, times `scale`, for K a multiple of 2L: o[b + 2j] = s * p[b + j],
// o[b + 2j + 1] = s * p[b + L + j].
HWY_INLINE void UnpermuteEvenOdd(const float* p, int64_t K, float scale, float* o) {
  const int64_t L = int64_t(hwy::HWY_NAMESPACE::Lanes(hwy::HWY_NAMESPACE::ScalableTag<float>()));
  for (int64_t b = 0; b < K; b += 2 * L)
    for (int64_t j = 0; j < L; ++j) {
      o[b + 2 * j] = p[b + j] * scale;
      o[b + 2 * j + 1] = p[b + L + j] * scale;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace mixq::kernels
HWY_AFTER_NAMESPACE();

#endif  // MIXQ_KERNELS_CPU_EVEN_ODD_INL_H_ toggle
