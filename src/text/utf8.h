// UTF-8 helpers shared by the tokenizer, the Jinja interpreter and the output parsers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mixq::text {

// Length of the UTF-8 sequence that starts with lead byte `b` (1 for invalid lead bytes).
inline int utf8_seq_len(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes one code point at s[i] (assumed valid UTF-8) and advances i.
char32_t utf8_next(std::string_view s, size_t& i);
void utf8_append(std::string& out, char32_t cp);
std::u32string utf8_to_u32(std::string_view s);
std::string u32_to_utf8(std::u32string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool utf8_valid(std::string_view s);

// Replaces every ill-formed subsequence with U+FFFD using the "maximal subpart" rule, which is
// what Rust's String::from_utf8_lossy, WHATWG TextDecoder and Python's errors="replace" all do;
// HF tokenizers only ever sees text that went through one of them.
std::string utf8_sanitize(std::string_view s);

// Number of leading bytes of `s` that form complete characters: a trailing sequence that is a
// valid-so-far prefix of a character is excluded (streaming must not cut a character in half).
size_t utf8_complete_prefix(std::string_view s);

// Number of code points.
size_t utf8_length(std::string_view s);

}  // namespace mixq::text
