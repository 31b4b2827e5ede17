#include "util/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace mixq {

uint64_t parse_byte_size(const std::string& text, const std::string& what) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string num = text.substr(0, i), unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  char* end = nullptr;
  double v = num.empty() ? 0.0 : std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size())
    fail("{}: '{}' is not a byte size (e.g. 4194304, 4MiB, 5GB)", what, text);
  std::string u;
  for (char c : unit) u += char(std::toupper(static_cast<unsigned char>(c)));
  double mult;
  if (u.empty() || u == "B") mult = 1;
  else if (u == "KB") mult = 1e3;
  else if (u == "MB") mult = 1e6;
  else if (u == "GB") mult = 1e9;
  else if (u == "TB") mult = 1e12;
  else if (u == "K" || u == "KIB") mult = 1024.0;
  else if (u == "M" || u == "MIB") mult = 1024.0 * 1024;
  else if (u == "G" || u == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (u == "T" || u == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else fail("{}: unknown unit '{}' in '{}' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", what, unit, text);
  double bytes = std::floor(v * mult);
  if (!(bytes >= 1) || bytes > 1.8e19) fail("{}: '{}' must be a positive byte size", what, text);
  return uint64_t(bytes);
}

}  // namespace mixq
