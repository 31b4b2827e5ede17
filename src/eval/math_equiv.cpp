#include "eval/math_equiv.h"

#include <re2/re2.h>

#include <cmath>
#include <cstdlib>
#include <optional>

namespace mixq::eval {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t p = s.find(sep); p != std::string::npos; p = s.find(sep, start)) {
    out.push_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  out.push_back(s.substr(start));
  return out;
}

// \fracab -> \frac{a}{b}, \frac1{2} -> \frac{1}{2} (hendrycks fix_fracs).
std::string fix_fracs(const std::string& string) {
  auto substrs = split(string, "\\frac");
  std::string new_str = substrs[0];
  for (size_t i = 1; i < substrs.size(); ++i) {
    std::string substr = substrs[i];
    new_str += "\\frac";
    if (!substr.empty() && substr[0] == '{') {
      new_str += substr;
      continue;
    }
    if (substr.size() < 2) return string;
    char a = substr[0], b = substr[1];
    if (b != '{') {
      new_str += std::string("{") + a + "}{" + b + "}" + substr.substr(2);
    } else {
      new_str += std::string("{") + a + "}" + b + substr.substr(2);
    }
  }
  return new_str;
}

// "a/b" with integer a, b -> \frac{a}{b} (hendrycks fix_a_slash_b).
std::string fix_a_slash_b(const std::string& s) {
  auto parts = split(s, "/");
  if (parts.size() != 2) return s;
  auto is_int = [](const std::string& t) {
    if (t.empty()) return false;
    for (char c : t) if (c < '0' || c > '9') return false;
    return true;
  };
  if (!is_int(parts[0]) || !is_int(parts[1])) return s;
  return "\\frac{" + parts[0] + "}{" + parts[1] + "}";
}

// \sqrt3 -> \sqrt{3} (hendrycks fix_sqrt).
std::string fix_sqrt(const std::string& string) {
  if (string.find("\\sqrt") == std::string::npos) return string;
  auto splits = split(string, "\\sqrt");
  std::string new_string = splits[0];
  for (size_t i = 1; i < splits.size(); ++i) {
    const std::string& split_ = splits[i];
    if (!split_.empty() && split_[0] != '{') {
      new_string += "\\sqrt{" + split_.substr(0, 1) + "}" + split_.substr(1);
    } else {
      new_string += "\\sqrt" + split_;
    }
  }
  return new_string;
}

// Units after a number: "10\text{ cm}", "10\mbox{cm}", "10 \text{inches}" -> "10" (the hendrycks
// rule only knows "\text{ " with a space).
std::string drop_text_units(std::string s) {
  static const RE2 unit(R"(^(.*?[0-9}])\s*\\(?:text|mbox|mathrm)\{\s*[A-Za-z][A-Za-z ]*\}\s*(?:\^\{?[0-9]\}?)?$)");
  std::string head;
  if (RE2::FullMatch(s, unit, &head)) return head;
  return s;
}

// A plain number, \frac{a}{b}, -\frac{a}{b}, a decimal: its value.
std::optional<double> numeric_value(const std::string& s) {
  static const RE2 frac(R"((-?)\\frac\{(-?[0-9.]+)\}\{(-?[0-9.]+)\})");
  std::string sign, a, b;
  if (RE2::FullMatch(s, frac, &sign, &a, &b)) {
    double den = std::strtod(b.c_str(), nullptr);
    if (den == 0) return std::nullopt;
    double v = std::strtod(a.c_str(), nullptr) / den;
    return sign.empty() ? v : -v;
  }
  static const RE2 num(R"(-?[0-9]+(?:\.[0-9]*)?|-?\.[0-9]+)");
  if (RE2::FullMatch(s, num)) return std::strtod(s.c_str(), nullptr);
  return std::nullopt;
}

}  // namespace

std::string math_strip_string(const std::string& in) {
  std::string string = in;
  replace_all(string, "\n", "");
  replace_all(string, "\\!", "");
  replace_all(string, "\\\\", "\\");
  replace_all(string, "tfrac", "frac");
  replace_all(string, "dfrac", "frac");
  replace_all(string, "\\left", "");
  replace_all(string, "\\right", "");
  replace_all(string, "^{\\circ}", "");
  replace_all(string, "^\\circ", "");
  replace_all(string, "\\$", "");
  replace_all(string, "$", "");  // inline math delimiters left by the extraction
  // remove_right_units
  if (string.find("\\text{ ") != std::string::npos) string = split(string, "\\text{ ")[0];
  string = drop_text_units(string);
  replace_all(string, "\\%", "");
  replace_all(string, "%", "");
  replace_all(string, " .", " 0.");
  replace_all(string, "{.", "{0.");
  if (string.empty()) return string;
  if (string[0] == '.') string = "0" + string;
  // "x = 3" -> "3" when the left side is short (a variable name).
  auto eq = split(string, "=");
  if (eq.size() == 2 && eq[0].size() <= 2) string = eq[1];
  string = fix_sqrt(string);
  replace_all(string, " ", "");
  string = fix_fracs(string);
  if (string == "0.5") string = "\\frac{1}{2}";
  string = fix_a_slash_b(string);
  // Thousands separators in a plain number ("1,000"): hendrycks keeps them; a tuple "(1,2)" is
  // not a plain number and is left alone.
  static const RE2 thousands(R"(-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?)");
  if (RE2::FullMatch(string, thousands)) replace_all(string, ",", "");
  // "\text{(B)}" / "\textbf{B}" wrappers around a whole answer.
  static const RE2 wrapped(R"(\\(?:text|textbf|mathrm|mbox)\{(.*)\})");
  std::string inner;
  if (RE2::FullMatch(string, wrapped, &inner)) string = inner;
  return string;
}

bool math_equal(const std::string& predicted, const std::string& gold) {
  std::string a = math_strip_string(predicted), b = math_strip_string(gold);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  auto x = numeric_value(a), y = numeric_value(b);
  if (x && y) return std::fabs(*x - *y) <= 1e-9 * std::max(1.0, std::fabs(*y));
  return false;
}

}  // namespace mixq::eval
