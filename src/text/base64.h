// Base64 (RFC 4648) decoding, used by batch CLI modes that must carry arbitrary bytes.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mixq::text {
// nullopt on a character outside the alphabet; padding and whitespace are ignored.
std::optional<std::string> base64_decode(std::string_view in);
}  // namespace mixq::text
