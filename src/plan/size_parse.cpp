#include "plan/size_parse.h"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "util/error.h"

namespace mixq {
namespace {

struct Unit {
  const char* name;
  uint64_t factor;
};
constexpr std::array<Unit, 9> kUnits{{{"B", 1},
                                       {"KB", 1000ull},
                                       {"MB", 1000ull * 1000},
                                       {"GB", 1000ull * 1000 * 1000},
                                       {"TB", 1000ull * 1000 * 1000 * 1000},
                                       {"KiB", 1ull << 10},
                                       {"MiB", 1ull << 20},
                                       {"GiB", 1ull << 30},
                                       {"TiB", 1ull << 40}}};

// Exact value of "<digits>[.<digits>]<unit>" as a numerator over 10^frac_digits, in 128-bit so
// that "1.5TiB" or "0.000001TB" stay exact; returns {bytes, remainder != 0}.
std::pair<unsigned __int128, bool> exact_bytes(const std::string& text, const std::string& what, const std::string& kind) {
  size_t i = 0;
  unsigned __int128 mant = 0, den = 1;
  int int_digits = 0, frac_digits = 0;
  auto bad = [&]() { fail("{}: '{}' is not a {} (expected e.g. 128GiB, 120GB, 1.5TiB)", what, text, kind); };
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    mant = mant * 10 + unsigned(text[i] - '0');
    if (++int_digits > 20) bad();
    ++i;
  }
  if (int_digits == 0) bad();
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      mant = mant * 10 + unsigned(text[i] - '0');
      den *= 10;
      if (++frac_digits > 12) bad();
      ++i;
    }
    if (frac_digits == 0) bad();
  }
  std::string unit = text.substr(i);
  uint64_t factor = 0;
  if (unit.empty() && frac_digits == 0) factor = 1;
  for (const auto& u : kUnits)
    if (unit == u.name) factor = u.factor;
  if (factor == 0) bad();
  unsigned __int128 num = mant * factor;
  return {num / den, num % den != 0};
}

}  // namespace

uint64_t parse_size(const std::string& text, const std::string& what) {
  auto [bytes, frac] = exact_bytes(text, what, "size");
  if (frac) fail("{}: '{}' is not a whole number of bytes", what, text);
  if (bytes > (unsigned __int128)(UINT64_MAX)) fail("{}: '{}' is too large", what, text);
  if (bytes == 0) fail("{}: '{}' must be greater than zero", what, text);
  return uint64_t(bytes);
}

double parse_bandwidth(const std::string& text, const std::string& what) {
  if (text.size() < 3 || text.compare(text.size() - 2, 2, "/s") != 0)
    fail("{}: '{}' is not a bandwidth (expected e.g. 256GB/s, 3.35TB/s)", what, text);
  std::string size = text.substr(0, text.size() - 2);
  auto [bytes, frac] = exact_bytes(size, what, "bandwidth");
  (void)frac;  // a fractional byte per second is meaningless but harmless
  if (bytes == 0) fail("{}: '{}' must be greater than zero", what, text);
  return double(bytes);
}

std::string format_gib(uint64_t bytes) { return fmt::format("{:.2f} GiB", double(bytes) / double(kGiB)); }
std::string format_gb(uint64_t bytes) { return fmt::format("{:.2f} GB", double(bytes) / 1e9); }

}  // namespace mixq
