#include "util/number_format.h"

#include <fmt/format.h>

namespace mixq {

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v), out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it, ++n) {
    if (n && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
  }
  return out;
}

std::string short_count(uint64_t v) {
  static const char* kUnit[] = {"", " K", " M", " B", " T"};
  double x = double(v);
  int u = 0;
  while (x >= 1000 && u < 4) {
    x /= 1000;
    ++u;
  }
  return u == 0 ? std::to_string(v) : fmt::format("{:.2f}{}", x, kUnit[u]);
}

}  // namespace mixq
