#include "cli/command_suggest.h"

#include <algorithm>

namespace mixq::cli {

int edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = int(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = int(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  int best_d = 3;
  for (const auto& n : names) {
    const int dist = edit_distance(word, n);
    const bool prefix = word.size() >= 3 && (n.rfind(word, 0) == 0 || word.rfind(n, 0) == 0);
    if (dist < best_d || (prefix && best.empty())) {
      best = n;
      best_d = std::min(dist, best_d);
    }
  }
  return best;
}

}  // namespace mixq::cli
