// Unicode properties and transforms (ICU) with the meaning Rust's `char` methods give them,
// since HF tokenizers is written in Rust.
#pragma once
#include <string>
#include <string_view>

namespace mixq::text {

bool is_whitespace(char32_t c);    // Rust char::is_whitespace (White_Space property)
bool is_alphanumeric(char32_t c);  // Rust char::is_alphanumeric (Alphabetic or N*)

enum class NormForm { NFC, NFD, NFKC, NFKD };
std::string normalize(std::string_view s, NormForm form);
std::string to_lower(std::string_view s);  // full Unicode lowercase, locale-independent
std::string strip_accents(std::string_view s);  // drops combining marks (Mn)

}  // namespace mixq::text
