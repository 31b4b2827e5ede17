// Statistics for comparing two runs on the same items (docs: ../shared/docs/eval-tasks.md §4):
//  - accuracy stderr: lm-eval's closed form for a mean, stddev(ddof=1) / sqrt(n);
//  - McNemar's exact test: b = items A got right and B wrong, c = the reverse; two-sided
//    Binomial(b + c, 1/2) (statsmodels' mcnemar(exact=True)), p = min(1, 2 P[X <= min(b, c)]);
//  - paired bootstrap of the accuracy difference: item indices resampled once per replicate and
//    applied to both runs (Koehn 2004), a fixed seed so the interval is reproducible.
#pragma once
#include <cstdint>
#include <vector>

namespace mixq::eval {

double accuracy_stderr(int64_t correct, int64_t n);
double mcnemar_exact_p(int64_t b, int64_t c);

struct BootstrapCi {
  double lo = 0, hi = 0;  // of accuracy(B) - accuracy(A), in [−1, 1]
};
BootstrapCi paired_bootstrap_ci(const std::vector<bool>& a, const std::vector<bool>& b, int resamples = 10000,
                                uint64_t seed = 1234, double level = 0.95);

}  // namespace mixq::eval
