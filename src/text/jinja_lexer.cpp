#include "text/jinja_lexer.h"

#include "text/jinja_value.h"
#include "text/utf8.h"

namespace mixq::text::jinja {

void line_col(std::string_view src, size_t pos, int& line, int& col) {
  line = 1;
  col = 1;
  for (size_t i = 0; i < pos && i < src.size(); ++i) {
    if (src[i] == '\n') { ++line; col = 1; }
    else if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) ++col;
  }
}

namespace {

// Text plus, for every byte, where it came from in the original source.
struct Mapped {
  std::string s;
  std::vector<size_t> at;
  void push(char c, size_t p) { s += c; at.push_back(p); }
};

bool starts(const Mapped& m, size_t i, std::string_view w) {
  return m.s.compare(i, w.size(), w) == 0;
}

// JS /\s/ at byte i of s; sets n to the character length.
bool js_space_at(const std::string& s, size_t i, size_t& n) {
  size_t k = i;
  char32_t c = utf8_next(s, k);
  n = k - i;
  return js_space(c);
}

bool js_line_terminator_before(const std::string& s, size_t i) {
  if (i == 0) return true;
  char p = s[i - 1];
  if (p == '\n' || p == '\r') return true;
  // U+2028 / U+2029 end with E2 80 A8 / A9.
  return i >= 3 && static_cast<unsigned char>(s[i - 3]) == 0xE2 && static_cast<unsigned char>(s[i - 2]) == 0x80 &&
         (static_cast<unsigned char>(s[i - 1]) == 0xA8 || static_cast<unsigned char>(s[i - 1]) == 0xA9);
}

Mapped preprocess(std::string_view src) {
  Mapped m;
  for (size_t i = 0; i < src.size(); ++i) m.push(src[i], i);
  if (!m.s.empty() && m.s.back() == '\n') { m.s.pop_back(); m.at.pop_back(); }

  // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"
  Mapped a;
  for (size_t i = 0; i < m.s.size();) {
    if (js_line_terminator_before(m.s, i)) {
      size_t j = i;
      while (j < m.s.size() && (m.s[j] == ' ' || m.s[j] == '\t')) ++j;
      if (j + 1 < m.s.size() && m.s[j] == '{' && (m.s[j + 1] == '#' || m.s[j + 1] == '%' || m.s[j + 1] == '-')) {
        i = j;  // drop the indentation
      }
    }
    // Copy up to and including the next line terminator.
    a.push(m.s[i], m.at[i]);
    ++i;
    while (i < m.s.size() && !js_line_terminator_before(m.s, i)) { a.push(m.s[i], m.at[i]); ++i; }
  }

  // trim_blocks: /([#%-]})\n/g -> "$1"
  Mapped b;
  for (size_t i = 0; i < a.s.size(); ++i) {
    b.push(a.s[i], a.at[i]);
    if (a.s[i] == '}' && i > 0 && (a.s[i - 1] == '#' || a.s[i - 1] == '%' || a.s[i - 1] == '-') &&
        i + 1 < a.s.size() && a.s[i + 1] == '\n' && b.s.size() >= 2)
      ++i;  // skip the newline
  }

  // {% generation %} / {% endgeneration %}: /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs
  Mapped c;
  size_t i = 0;
  while (i < b.s.size()) {
    // Find the next candidate tag start.
    size_t t = b.s.find("{%", i);
    if (t == std::string::npos) break;
    size_t k = t + 2;
    bool lstrip = k < b.s.size() && b.s[k] == '-';
    if (lstrip) ++k;
    size_t n;
    while (k < b.s.size() && js_space_at(b.s, k, n)) k += n;
    if (starts(b, k, "end")) k += 3;
    bool ok = starts(b, k, "generation");
    if (ok) {
      k += 10;
      while (k < b.s.size() && js_space_at(b.s, k, n)) k += n;
      bool rstrip = k < b.s.size() && b.s[k] == '-';
      if (rstrip) ++k;
      ok = starts(b, k, "%}");
      if (ok) {
        k += 2;
        // Leading whitespace run (already copied up to t): trim it back if lstrip.
        size_t ws_start = t;
        while (ws_start > i) {
          size_t p = ws_start - 1;
          while (p > i && (static_cast<unsigned char>(b.s[p]) & 0xC0) == 0x80) --p;
          if (!js_space_at(b.s, p, n)) break;
          ws_start = p;
        }
        for (size_t q = i; q < (lstrip ? ws_start : t); ++q) c.push(b.s[q], b.at[q]);
        size_t after = k;
        while (after < b.s.size() && js_space_at(b.s, after, n)) after += n;
        if (!rstrip) for (size_t q = k; q < after; ++q) c.push(b.s[q], b.at[q]);
        i = after;
        continue;
      }
    }
    for (size_t q = i; q < t + 2; ++q) c.push(b.s[q], b.at[q]);
    i = t + 2;
  }
  for (; i < b.s.size(); ++i) c.push(b.s[i], b.at[i]);
  c.at.push_back(src.size());  // position of "end of input"
  return c;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

struct Mapping { const char* seq; Tok type; };
const Mapping kTable[] = {
    {"{%", Tok::OpenStmt}, {"%}", Tok::CloseStmt}, {"{{", Tok::OpenExpr}, {"}}", Tok::CloseExpr},
    {"(", Tok::OpenParen}, {")", Tok::CloseParen}, {"{", Tok::OpenBrace}, {"}", Tok::CloseBrace},
    {"[", Tok::OpenBracket}, {"]", Tok::CloseBracket}, {",", Tok::Comma}, {".", Tok::Dot},
    {":", Tok::Colon}, {"|", Tok::Pipe}, {"<=", Tok::Comparison}, {">=", Tok::Comparison},
    {"==", Tok::Comparison}, {"!=", Tok::Comparison}, {"<", Tok::Comparison}, {">", Tok::Comparison},
    {"+", Tok::Additive}, {"-", Tok::Additive}, {"~", Tok::Additive}, {"**", Tok::Power},
    {"*", Tok::Multiplicative}, {"//", Tok::Multiplicative}, {"/", Tok::Multiplicative},
    {"%", Tok::Multiplicative}, {"=", Tok::Equals},
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  Mapped m = preprocess(source);
  const std::string& s = m.s;
  std::vector<Token> toks;
  size_t cur = 0;
  int brace_depth = 0;
  auto err = [&](const std::string& msg, size_t at) {
    int l, c;
    line_col(source, m.at[std::min(at, s.size())], l, c);
    throw TemplateError("syntax error: " + msg, l, c);
  };
  auto ch = [&](size_t i) -> char { return i < s.size() ? s[i] : '\0'; };
  // consumeWhile with escape handling; `pred` sees the current byte.
  auto consume_while = [&](auto pred) {
    std::string out;
    while (cur < s.size() && pred(s[cur])) {
      if (s[cur] == '\\') {
        ++cur;
        if (cur >= s.size()) err("unexpected end of input", cur);
        char e = s[cur++];
        if (e == 'x' || e == 'u') {
          size_t len = e == 'x' ? 2 : 4;
          std::string hex = s.substr(cur, len);
          bool ok = hex.size() == len;
          for (char h : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(h));
          if (!ok) err(std::string("invalid hexadecimal escape sequence: \\") + e + hex, cur);
          utf8_append(out, static_cast<char32_t>(std::stoul(hex, nullptr, 16)));
          cur += len;
          continue;
        }
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'v': out += '\v'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          default: err(std::string("unexpected escaped character: ") + e, cur - 1);
        }
        continue;
      }
      out += s[cur++];
      if (cur >= s.size()) err("unexpected end of input", cur);
    }
    return out;
  };
  auto push = [&](Tok t, std::string v, size_t at) { toks.push_back({t, std::move(v), m.at[std::min(at, s.size())]}); };
  auto strip_trailing_ws = [&] {
    if (!toks.empty() && toks.back().type == Tok::Text) {
      std::string& v = toks.back().value;
      // trimEnd with JS whitespace.
      size_t e = v.size();
      while (e > 0) {
        size_t p = e - 1;
        while (p > 0 && (static_cast<unsigned char>(v[p]) & 0xC0) == 0x80) --p;
        size_t k = p;
        if (!js_space(utf8_next(v, k))) break;
        e = p;
      }
      v.resize(e);
      if (v.empty()) toks.pop_back();
    }
  };
  auto skip_leading_ws = [&] {
    size_t n;
    while (cur < s.size() && js_space_at(s, cur, n)) cur += n;
  };

  while (cur < s.size()) {
    Tok last = toks.empty() ? Tok::Text : toks.back().type;
    if (toks.empty() || last == Tok::CloseStmt || last == Tok::CloseExpr || last == Tok::Comment) {
      size_t st = cur;
      while (cur < s.size() && !(s[cur] == '{' && (ch(cur + 1) == '%' || ch(cur + 1) == '{' || ch(cur + 1) == '#')))
        ++cur;
      if (cur > st) { push(Tok::Text, s.substr(st, cur - st), st); continue; }
    }
    if (s[cur] == '{' && ch(cur + 1) == '#') {
      size_t st = cur;
      cur += 2;
      bool strip_before = ch(cur) == '-';
      if (strip_before) ++cur;
      std::string comment;
      while (ch(cur) != '#' || ch(cur + 1) != '}') {
        if (cur + 2 >= s.size()) err("missing end of comment tag", st);
        comment += s[cur++];
      }
      bool strip_after = !comment.empty() && comment.back() == '-';
      if (strip_after) comment.pop_back();
      if (strip_before) strip_trailing_ws();
      push(Tok::Comment, comment, st);
      cur += 2;
      if (strip_after) skip_leading_ws();
      continue;
    }
    if (s.compare(cur, 3, "{%-") == 0) {
      strip_trailing_ws();
      push(Tok::OpenStmt, "{%", cur);
      cur += 3;
      continue;
    }
    if (s.compare(cur, 3, "{{-") == 0) {
      strip_trailing_ws();
      push(Tok::OpenExpr, "{{", cur);
      brace_depth = 0;
      cur += 3;
      continue;
    }
    skip_leading_ws();  // consumeWhile(isWhitespace): no escapes in whitespace
    if (s.compare(cur, 3, "-%}") == 0) {
      push(Tok::CloseStmt, "%}", cur);
      cur += 3;
      skip_leading_ws();
      continue;
    }
    if (s.compare(cur, 3, "-}}") == 0) {
      push(Tok::CloseExpr, "}}", cur);
      cur += 3;
      skip_leading_ws();
      continue;
    }
    if (cur >= s.size()) break;
    char c = s[cur];
    if (c == '-' || c == '+') {
      if (toks.empty() || last == Tok::Text) err(std::string("unexpected character: ") + c, cur);
      if (!(last == Tok::Ident || last == Tok::Number || last == Tok::String || last == Tok::CloseParen ||
            last == Tok::CloseBracket)) {
        size_t st = cur++;
        std::string num;
        while (cur < s.size() && is_digit(s[cur])) num += s[cur++];
        if (!num.empty() && ch(cur) == '.' && is_digit(ch(cur + 1))) {
          ++cur;
          std::string frac;
          while (cur < s.size() && is_digit(s[cur])) frac += s[cur++];
          num += "." + frac;
        }
        push(num.empty() ? Tok::Unary : Tok::Number, std::string(1, c) + num, st);
        continue;
      }
    }
    bool matched = false;
    for (auto& mp : kTable) {
      std::string_view seq(mp.seq);
      if (seq == "}}" && brace_depth > 0) continue;
      if (s.compare(cur, seq.size(), seq) == 0) {
        push(mp.type, std::string(seq), cur);
        if (mp.type == Tok::OpenExpr) brace_depth = 0;
        else if (mp.type == Tok::OpenBrace) ++brace_depth;
        else if (mp.type == Tok::CloseBrace) --brace_depth;
        cur += seq.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (c == '\'' || c == '"') {
      size_t st = cur++;
      std::string str = consume_while([c](char x) { return x != c; });
      push(Tok::String, str, st);
      ++cur;
      continue;
    }
    if (is_digit(c)) {
      size_t st = cur;
      std::string num;
      while (cur < s.size() && is_digit(s[cur])) num += s[cur++];
      if ((toks.empty() || toks.back().type != Tok::Dot) && ch(cur) == '.' && is_digit(ch(cur + 1))) {
        ++cur;
        std::string frac;
        while (cur < s.size() && is_digit(s[cur])) frac += s[cur++];
        num += "." + frac;
      }
      push(Tok::Number, num, st);
      continue;
    }
    if (is_word(c)) {
      size_t st = cur;
      std::string w;
      while (cur < s.size() && is_word(s[cur])) w += s[cur++];
      push(Tok::Ident, w, st);
      continue;
    }
    err(std::string("unexpected character: ") + c, cur);
  }
  return toks;
}

}  // namespace mixq::text::jinja
