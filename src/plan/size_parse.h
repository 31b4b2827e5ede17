// Strict parsing and printing of byte sizes ("128GiB", "120GB", "1.5TiB") and bandwidths
// ("256GB/s", "3.35TB/s"). Decimal units are powers of 1000, binary units powers of 1024; a bare
// integer is bytes. Anything else (spaces, signs, lowercase units, "1.2.3", fractions of a byte)
// is the user's error: InputError naming `what` (the option) and the text.
#pragma once
#include "util/number_format.h"  // with_commas
#include <cstdint>
#include <string>

namespace mixq {

uint64_t parse_size(const std::string& text, const std::string& what);
// Bytes per second; the text must end in "/s" ("256GB/s", "1.5TiB/s").
double parse_bandwidth(const std::string& text, const std::string& what);

std::string format_gib(uint64_t bytes);     // "46.50 GiB"
std::string format_gb(uint64_t bytes);      // "49.93 GB"
inline constexpr uint64_t kGiB = 1ull << 30;

}  // namespace mixq
