#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/regex.h"

#include <pcre2.h>

#include "util/error.h"

namespace mixq::text {

namespace {
constexpr const char* kWhiteSpace =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

// One match-data block and JIT stack per thread so a const Regex can be shared across threads.
// The JIT stack grows to 64 MiB: long runs (a megabyte of spaces) backtrack deeply, and running
// out of stack must not silently turn into "no match".
struct MatchData {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  MatchData() {
    md = pcre2_match_data_create(32, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    if (stack && ctx) pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchData() {
    if (ctx) pcre2_match_context_free(ctx);
    if (stack) pcre2_jit_stack_free(stack);
    if (md) pcre2_match_data_free(md);
  }
};
thread_local MatchData tl_match;
}  // namespace

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is literal.
      if (i + 1 < p.size() && p[i + 1] == '^') { out += '^'; ++i; }
      if (i + 1 < p.size() && p[i + 1] == ']') { out += ']'; ++i; }
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() { if (code) pcre2_code_free(code); }
};

Regex::Regex(const std::string& pattern, const std::string& what)
    : pattern_(pattern), impl_(std::make_unique<Impl>()) {
  std::string p = onig_to_pcre2(pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    fail("{}: cannot compile regex at offset {}: {} (pattern: {})", what, off,
         reinterpret_cast<char*>(buf), pattern);
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;

bool Regex::find(std::string_view s, size_t from, size_t& start, size_t& end) const {
  auto subj = reinterpret_cast<PCRE2_SPTR>(s.data());
  int rc = PCRE2_ERROR_NOMATCH;
  if (impl_->jit) rc = pcre2_jit_match(impl_->code, subj, s.size(), from, 0, tl_match.md, tl_match.ctx);
  if (!impl_->jit || (rc < 0 && rc != PCRE2_ERROR_NOMATCH)) {
    // The interpreter keeps its backtracking frames on the heap: the fallback for JIT limits.
    rc = pcre2_match(impl_->code, subj, s.size(), from, PCRE2_NO_UTF_CHECK, tl_match.md, nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(rc, buf, sizeof buf);
    fail("regex match failed ({}) at offset {} of a {}-byte text", reinterpret_cast<char*>(buf), from, s.size());
  }
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(tl_match.md);
  start = ov[0];
  end = ov[1];
  return true;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view s) const {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0, st, en;
  while (pos <= s.size() && find(s, pos, st, en)) {
    out.emplace_back(st, en);
    if (en == st) {
      // Empty match: step over one whole character.
      if (en >= s.size()) break;
      unsigned char b = s[en];
      pos = en + (b < 0x80 ? 1 : (b >= 0xF0 ? 4 : (b >= 0xE0 ? 3 : 2)));
    } else {
      pos = en;
    }
  }
  return out;
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace mixq::text
