// GPT-2's byte <-> printable-character map used by byte-level BPE: every byte becomes one
// visible code point ("Ġ" for space, "Ċ" for newline) so a vocabulary of strings covers bytes.
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace mixq::text {

struct ByteLevelMap {
  std::array<std::string, 256> byte_to_utf8;  // byte -> UTF-8 of its visible character
  std::array<int, 512> char_to_byte;          // code point (< 512) -> byte, or -1
  static const ByteLevelMap& get();
};

// Maps every byte of `s` to its visible character.
std::string byte_level_encode(std::string_view s);
// Inverse of byte_level_encode for one token; false (and `out` untouched) when some character is
// outside the map, in which case HF keeps the token's own bytes.
bool byte_level_decode(std::string_view token, std::string& out);

}  // namespace mixq::text
