// The AWQ grid of candidate smoothing scales (spec §5.5, llm-compressor >= 0.11
// `_get_grid_search_params` + the scale formula of `_compute_best_scale`).
#pragma once
#include <span>
#include <vector>

namespace mixq::calib {

enum class DuoScaling { Off, On, Both };

struct GridPoint {
  double ratio = 0.0;  // exponent r of x_mean (a Python float in llm-compressor)
  bool use_duo = false;
};

// duo On  : (0, no duo) first = identity scales, then (k/(n_grid-2), duo) for k = 0..n_grid-2.
// duo Off : (k/(n_grid-1), no duo) for k = 0..n_grid-1.
// duo Both: n = n_grid/2; for k in 0..n-1: (k/(n-1), no duo), (k/(n-1), duo).
// n_grid must be >= 2 (>= 4 for Both) — checked, InputError naming `n_grid`.
std::vector<GridPoint> awq_grid_points(int n_grid, DuoScaling duo);

// Scales for one grid point, per input channel:
//   duo   : s = max(x_mean^r / (w_mean^(1-r) + 1e-4), 1e-4)   x_mean^r in fp32, the rest in fp64
//   no duo: s = max(x_mean^r, 1e-4)                            all fp32
//   then s /= sqrt(max(s) * min(s)) (same precision) and inf/nan -> 1.
// Returned in double; non-duo values are exactly the fp32 results.
std::vector<double> awq_scales(std::span<const float> x_mean, std::span<const double> w_mean, GridPoint p);

}  // namespace mixq::calib
