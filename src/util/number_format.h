// Human-readable integers for reports: 155271743469 -> "155,271,743,469" or "155.27 B".
#pragma once
#include <cstdint>
#include <string>

namespace mixq {

std::string with_commas(uint64_t v);
// A parameter count in the largest unit that keeps it >= 1: "14.57 M", "229.87 B" (never "0.01 B").
std::string short_count(uint64_t v);

}  // namespace mixq
