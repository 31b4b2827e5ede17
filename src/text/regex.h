// PCRE2 (JIT) regular expressions with the semantics HF tokenizers gets from Oniguruma:
// UTF-8, Unicode properties, Unicode-aware classes. Subject strings must be valid UTF-8.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mixq::text {

class Regex {
 public:
  // Throws InputError (naming `what`) when the pattern does not compile.
  explicit Regex(const std::string& pattern, const std::string& what = "regex");
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All non-overlapping matches, left to right, as byte [start, end) pairs. An empty match
  // advances by one character, as Oniguruma's iterator does.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view s) const;
  // Calls f(start, end) for each match, without building a list (the encode hot path).
  template <typename F>
  void for_each_match(std::string_view s, F&& f) const {
    size_t pos = 0, st, en;
    while (pos <= s.size() && find(s, pos, st, en)) {
      f(st, en);
      if (en == st) {
        if (en >= s.size()) break;
        unsigned char b = s[en];
        pos = en + (b < 0x80 ? 1 : (b >= 0xF0 ? 4 : (b >= 0xE0 ? 3 : 2)));
      } else {
        pos = en;
      }
    }
  }
  // First match at or after `from`; false if none.
  bool find(std::string_view s, size_t from, size_t& start, size_t& end) const;

  const std::string& pattern() const { return pattern_; }

  // Escapes a literal for use inside a pattern.
  static std::string escape(std::string_view literal);

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

// Rewrites Oniguruma-isms PCRE2 10.42 reads differently: `\s`/`\S` become the explicit
// Unicode White_Space set (PCRE2 < 10.43 leaves out U+0085 under UCP).
std::string onig_to_pcre2(std::string_view pattern);

}  // namespace mixq::text
