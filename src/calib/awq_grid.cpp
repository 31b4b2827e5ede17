#include "calib/awq_grid.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace mixq::calib {

std::vector<GridPoint> awq_grid_points(int n_grid, DuoScaling duo) {
  std::vector<GridPoint> pts;
  switch (duo) {
    case DuoScaling::On:
      if (n_grid < 3) fail("awq: n_grid must be >= 3 with duo_scaling: true (got {})", n_grid);
      pts.push_back({0.0, false});
      for (int k = 0; k <= n_grid - 2; ++k) pts.push_back({double(k) / double(n_grid - 2), true});
      break;
    case DuoScaling::Off:
      if (n_grid < 2) fail("awq: n_grid must be >= 2 with duo_scaling: false (got {})", n_grid);
      for (int k = 0; k <= n_grid - 1; ++k) pts.push_back({double(k) / double(n_grid - 1), false});
      break;
    case DuoScaling::Both: {
      const int n = n_grid / 2;
      if (n < 2) fail("awq: n_grid must be >= 4 with duo_scaling: both (got {})", n_grid);
      for (int k = 0; k < n; ++k) {
        pts.push_back({double(k) / double(n - 1), false});
        pts.push_back({double(k) / double(n - 1), true});
      }
      break;
    }
  }
  return pts;
}

namespace {

template <typename T>
void normalize_scales(std::vector<T>& s) {
  // torch.max/min propagate NaN: one NaN scale makes every scale NaN, and then 1.
  T mx = s[0], mn = s[0];
  bool nan = false;
  for (T v : s) { mx = std::max(mx, v); mn = std::min(mn, v); nan |= std::isnan(v); }
  const T d = nan ? std::numeric_limits<T>::quiet_NaN() : std::sqrt(mx * mn);
  for (T& v : s) {
    v = v / d;
    if (!std::isfinite(v)) v = T(1);
  }
}

}  // namespace

std::vector<double> awq_scales(std::span<const float> x_mean, std::span<const double> w_mean, GridPoint p) {
  const size_t n = x_mean.size();
  MIXQ_ASSERT(n > 0);
  std::vector<double> out(n);
  // x_mean.pow(ratio): fp32 tensor ** Python float computes in fp32.
  const float rf = float(p.ratio);
  if (p.use_duo) {
    MIXQ_ASSERT(w_mean.size() == n);
    std::vector<double> s(n);
    for (size_t c = 0; c < n; ++c) {
      const double xr = double(std::pow(x_mean[c], rf));
      const double wr = std::pow(w_mean[c], 1.0 - p.ratio);
      s[c] = std::max(xr / (wr + 1e-4), 1e-4);
    }
    normalize_scales(s);
    out = std::move(s);
  } else {
    std::vector<float> s(n);
    for (size_t c = 0; c < n; ++c) s[c] = std::max(std::pow(x_mean[c], rf), 1e-4f);
    normalize_scales(s);
    for (size_t c = 0; c < n; ++c) out[c] = double(s[c]);
  }
  return out;
}

}  // namespace mixq::calib

