// Human-readable integers for reports: 155271743469 -> "155,271,743,469".
#pragma once
#include <cstdint>
#include <string>

namespace mixq {

std::string with_commas(uint64_t v);

}  // namespace mixq
