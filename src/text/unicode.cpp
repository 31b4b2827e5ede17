#include "text/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include "text/utf8.h"
#include "util/error.h"

namespace mixq::text {

bool is_whitespace(char32_t c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }

bool is_alphanumeric(char32_t c) {
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) return true;
  int t = u_charType(c);
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

std::string normalize(std::string_view s, NormForm form) {
  // ASCII is invariant under every normalization form.
  bool ascii = true;
  for (unsigned char c : s) if (c >= 0x80) { ascii = false; break; }
  if (ascii) return std::string(s);
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormForm::NFC: n = icu::Normalizer2::getNFCInstance(st); break;
    case NormForm::NFD: n = icu::Normalizer2::getNFDInstance(st); break;
    case NormForm::NFKC: n = icu::Normalizer2::getNFKCInstance(st); break;
    case NormForm::NFKD: n = icu::Normalizer2::getNFKDInstance(st); break;
  }
  if (U_FAILURE(st)) fail("ICU normalizer unavailable: {}", u_errorName(st));
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
  icu::UnicodeString r = n->normalize(u, st);
  if (U_FAILURE(st)) fail("ICU normalization failed: {}", u_errorName(st));
  std::string out;
  r.toUTF8String(out);
  return out;
}

std::string to_lower(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s) if (c >= 0x80) { ascii = false; break; }
  if (ascii) {
    std::string out(s);
    for (char& c : out) if (c >= 'A' && c <= 'Z') c += 32;
    return out;
  }
  // Whole-string mapping: full case mapping (U+0130 -> "i\u0307") and the final-sigma rule, as
  // Rust's str::to_lowercase does.
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string strip_accents(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t st = i;
    char32_t c = utf8_next(s, i);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    out.append(s.substr(st, i - st));
  }
  return out;
}

}  // namespace mixq::text
