#include "eval/paired_stats.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace mixq::eval {

double accuracy_stderr(int64_t correct, int64_t n) {
  if (n < 2) return 0;
  double p = double(correct) / double(n);
  return std::sqrt(p * (1 - p) / double(n - 1));
}

double mcnemar_exact_p(int64_t b, int64_t c) {
  const int64_t n = b + c;
  if (n == 0) return 1.0;
  const int64_t k = std::min(b, c);
  // P[X <= k] for X ~ Binomial(n, 1/2). Binomial coefficients are exact in long double up to a
  // point and fit its range for n < 16000: C(n, i) built by the recurrence, scaled by 2^-n at the
  // end, so small cases reproduce the hand computation to the last bit. Beyond that, log space.
  if (n < 16000) {
    long double c = 1, sum = 0;
    for (int64_t i = 0; i <= k; ++i) {
      sum += c;
      c = c * (long double)(n - i) / (long double)(i + 1);
    }
    return double(std::min<long double>(1, 2 * std::ldexp(sum, -int(n))));
  }
  double cdf = 0;
  for (int64_t i = 0; i <= k; ++i)
    cdf += std::exp(std::lgamma(double(n + 1)) - std::lgamma(double(i + 1)) - std::lgamma(double(n - i + 1)) -
                    double(n) * std::log(2.0));
  return std::min(1.0, 2 * cdf);
}

BootstrapCi paired_bootstrap_ci(const std::vector<bool>& a, const std::vector<bool>& b, int resamples, uint64_t seed,
                                double level) {
  BootstrapCi ci;
  const size_t n = std::min(a.size(), b.size());
  if (n == 0 || resamples <= 0) return ci;
  // Per item: +1 when only B is right, -1 when only A is, 0 otherwise.
  std::vector<int> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = int(b[i]) - int(a[i]);
  std::mt19937_64 rng(seed);
  std::vector<double> diffs(static_cast<size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    int64_t s = 0;
    for (size_t i = 0; i < n; ++i) s += d[rng() % n];  // plain modulo: the same on every library
    diffs[size_t(r)] = double(s) / double(n);
  }
  std::sort(diffs.begin(), diffs.end());
  auto at = [&](double q) {
    size_t i = size_t(std::clamp(std::floor(q * double(resamples - 1) + 0.5), 0.0, double(resamples - 1)));
    return diffs[i];
  };
  ci.lo = at((1 - level) / 2);
  ci.hi = at(1 - (1 - level) / 2);
  return ci;
}

}  // namespace mixq::eval
