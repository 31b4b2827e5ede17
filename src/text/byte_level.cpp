#include "text/byte_level.h"

#include "text/utf8.h"

namespace mixq::text {

const ByteLevelMap& ByteLevelMap::get() {
  static const ByteLevelMap m = [] {
    ByteLevelMap r;
    r.char_to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      int cp = printable ? b : next++;
      r.byte_to_utf8[b].clear();
      utf8_append(r.byte_to_utf8[b], static_cast<char32_t>(cp));
      r.char_to_byte[cp] = b;
    }
    return r;
  }();
  return m;
}

std::string byte_level_encode(std::string_view s) {
  const auto& m = ByteLevelMap::get();
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char b : s) out += m.byte_to_utf8[b];
  return out;
}

bool byte_level_decode(std::string_view token, std::string& out) {
  const auto& m = ByteLevelMap::get();
  std::string tmp;
  tmp.reserve(token.size());
  for (size_t i = 0; i < token.size();) {
    char32_t c = utf8_next(token, i);
    if (c >= 512 || m.char_to_byte[c] < 0) return false;
    tmp += static_cast<char>(m.char_to_byte[c]);
  }
  out += tmp;
  return true;
}

}  // namespace mixq::text
