#include "text/py_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "text/utf8.h"

namespace mixq::text::py {

namespace {
bool py_space(char32_t c) {
  // str.strip() / int() whitespace: Unicode White_Space plus the ASCII separators.
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}
// Digits with single underscores between them (PEP 515); appends the digits to out.
bool digit_run(std::string_view s, size_t& i, std::string& out) {
  size_t st = i;
  bool last_digit = false;
  while (i < s.size()) {
    char c = s[i];
    if (c >= '0' && c <= '9') { out += c; last_digit = true; ++i; }
    else if (c == '_' && last_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') { last_digit = false; ++i; }
    else break;
  }
  return i > st;
}
}  // namespace

std::string_view strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) { size_t k = b; if (!py_space(utf8_next(s, k))) break; b = k; }
  while (e > b) {
    size_t p = e - 1;
    while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    size_t k = p;
    if (!py_space(utf8_next(s, k))) break;
    e = p;
  }
  return s.substr(b, e - b);
}

std::optional<std::string> parse_int(std::string_view s) {
  s = strip(s);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  std::string digits;
  if (!digit_run(s, i, digits) || i != s.size()) return std::nullopt;
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  return (neg && digits != "0" ? "-" : "") + digits;
}

std::optional<double> parse_float(std::string_view s) {
  s = strip(s);
  size_t i = 0;
  std::string t;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) t += s[i++];
  std::string rest(s.substr(i));
  std::string low;
  for (char c : rest) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (low == "inf" || low == "infinity") return t == "-" ? -INFINITY : INFINITY;
  if (low == "nan") return NAN;
  bool mant = digit_run(s, i, t);
  if (i < s.size() && s[i] == '.') {
    t += '.';
    ++i;
    mant = digit_run(s, i, t) || mant;
  }
  if (!mant) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    t += 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) t += s[i++];
    if (!digit_run(s, i, t)) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(t.c_str(), nullptr);
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) if (c != '.') digits += c;
  int exp = std::stoi(sci.substr(e + 1));
  std::string out;
  // repr uses positional notation for 1e-4 <= |d| < 1e16.
  if (exp >= -4 && exp < 16) {
    int point = exp + 1;
    if (point <= 0) out = "0." + std::string(-point, '0') + digits;
    else if (point >= static_cast<int>(digits.size())) out = digits + std::string(point - digits.size(), '0') + ".0";
    else out = digits.substr(0, point) + "." + digits.substr(point);
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  }
  return neg ? "-" + out : out;
}

std::string dumps_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string dumps(const nlohmann::ordered_json& v) {
  switch (v.type()) {
    case nlohmann::ordered_json::value_t::null: return "null";
    case nlohmann::ordered_json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case nlohmann::ordered_json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case nlohmann::ordered_json::value_t::number_float: return float_repr(v.get<double>());
    case nlohmann::ordered_json::value_t::string: return dumps_string(v.get_ref<const std::string&>());
    case nlohmann::ordered_json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (auto& e : v) { out += (first ? "" : ", ") + dumps(e); first = false; }
      return out + "]";
    }
    case nlohmann::ordered_json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out += (first ? "" : ", ") + dumps_string(it.key()) + ": " + dumps(it.value());
        first = false;
      }
      return out + "}";
    }
    default: return "null";
  }
}

std::optional<nlohmann::ordered_json> loads(std::string_view text) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::exception&) {
  }
  std::string_view t = strip(text);
  if (t == "NaN") return nlohmann::ordered_json(NAN);
  if (t == "Infinity") return nlohmann::ordered_json(INFINITY);
  if (t == "-Infinity") return nlohmann::ordered_json(-INFINITY);
  return std::nullopt;
}

}  // namespace mixq::text::py
