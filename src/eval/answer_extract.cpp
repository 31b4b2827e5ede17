#include "eval/answer_extract.h"

#include <re2/re2.h>

#include <cstdlib>
#include <vector>

namespace mixq::eval {

namespace {

// The first capture group of every match of `re` in `text`, left to right.
std::vector<std::string> all_captures(const RE2& re, const std::string& text) {
  std::vector<std::string> out;
  re2::StringPiece in(text);
  std::string cap;
  while (RE2::FindAndConsume(&in, re, &cap)) out.push_back(cap);
  return out;
}

std::optional<std::string> last_capture(const RE2& re, const std::string& text) {
  auto all = all_captures(re, text);
  if (all.empty()) return std::nullopt;
  return all.back();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

}  // namespace

ScoredText scored_text(const std::string& content) {
  ScoredText r;
  size_t close = content.rfind("</think>");
  if (close != std::string::npos) {
    r.text = content.substr(close + 8);
  } else if (content.find("<think>") != std::string::npos) {
    r.unclosed_think = true;
  } else {
    r.text = content;
  }
  return r;
}

std::optional<std::string> last_boxed(const std::string& text) {
  size_t best = std::string::npos, len = 0;
  for (const char* tag : {"\\boxed{", "\\fbox{"}) {
    size_t p = text.rfind(tag);
    if (p != std::string::npos && (best == std::string::npos || p > best)) { best = p; len = std::string(tag).size(); }
  }
  if (best == std::string::npos) return std::nullopt;
  int depth = 1;
  size_t i = best + len;
  for (; i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) break;
  }
  if (depth != 0) return std::nullopt;
  return text.substr(best + len, i - best - len);
}

std::string normalize_number(std::string s) {
  std::string o;
  for (char c : s)
    if (c != ',' && c != '$' && c != ' ') o += c;
  while (!o.empty() && o.back() == '.') o.pop_back();
  if (o.find('.') != std::string::npos) {
    while (!o.empty() && o.back() == '0') o.pop_back();
    if (!o.empty() && o.back() == '.') o.pop_back();
  }
  if (o == "-0") o = "0";
  return o;
}

bool gsm8k_match(const std::string& predicted, const std::string& gold) {
  std::string a = normalize_number(predicted), b = normalize_number(gold);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  char *ea = nullptr, *eb = nullptr;
  double x = std::strtod(a.c_str(), &ea), y = std::strtod(b.c_str(), &eb);
  return *ea == 0 && *eb == 0 && x == y;
}

std::optional<std::string> extract_gsm8k(const std::string& text, std::string* rule) {
  static const RE2 final_is(R"(The final answer is:?\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?))");
  static const RE2 hashes(R"(####\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?))");
  static const RE2 answer(R"((?i)Answer\s*:\s*\**\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?))");
  static const RE2 bold(R"(\*\*[^*\n]*?(-?[0-9][0-9,]*(?:\.[0-9]+)?)[^*\n]*\*\*)");
  static const RE2 number(R"((-?[0-9][0-9,]*(?:\.[0-9]+)?))");
  auto pick = [&](std::optional<std::string> v, const char* name) -> std::optional<std::string> {
    if (v && rule) *rule = name;
    return v;
  };
  if (auto v = last_capture(final_is, text)) return pick(normalize_number(*v), "final-answer-is");
  if (auto v = last_capture(hashes, text)) return pick(normalize_number(*v), "####");
  if (auto v = last_capture(answer, text)) return pick(normalize_number(*v), "answer-colon");
  if (auto b = last_boxed(text))
    if (auto v = last_capture(number, *b)) return pick(normalize_number(*v), "boxed");
  if (auto v = last_capture(bold, text)) return pick(normalize_number(*v), "bold");
  if (auto v = last_capture(number, text)) return pick(normalize_number(*v), "flexible-last-number");
  return std::nullopt;
}

std::optional<char> extract_mmlu(const std::string& raw) {
  // simple-evals normalize_response, in its order.
  std::string t = raw;
  for (const char* drop : {"**", "$\\boxed{", "}$", "\\$", "$\\text{", "$", "\\mathrm{", "\\{", "\\text", "\\(",
                           "\\mathbf{", "{", "\\boxed"})
    replace_all(t, drop, "");
  replace_all(t, "}", "");
  static const RE2 answer(R"((?i)Answer[ \t]*:[ \t]*\$?\(?([A-D])\)?\$?(?:[^A-Za-z]|$))");
  static const RE2 best(R"((?i)The (?:best|final|correct) answer is:?[ \t]*\(?([A-D])\)?(?:[^A-Za-z]|$))");
  static const RE2 alone(R"(^\s*\(?([A-D])\)?[.):]?\s*$)");
  if (auto v = all_captures(answer, t); !v.empty()) return v.front()[0] & ~0x20;
  if (auto v = last_capture(best, t)) return (*v)[0] & ~0x20;
  if (auto b = last_boxed(raw)) {
    std::string bt = trim(*b);
    replace_all(bt, "\\text{", "");
    replace_all(bt, "}", "");
    bt = trim(bt);
    if (bt.size() >= 1 && bt[0] >= 'A' && bt[0] <= 'D' && (bt.size() == 1 || !std::isalpha((unsigned char)bt[1])))
      return bt[0];
  }
  std::string cap;
  if (RE2::FullMatch(t, alone, &cap)) return cap[0];
  return std::nullopt;
}

std::optional<std::string> extract_math(const std::string& text) {
  static const RE2 answer(R"((?i)Answer\s*:\s*([^\n]+))");
  static const RE2 minerva(R"(The final answer is\s*(.*?)\s*\.?\s*I hope it is correct)");
  auto clean = [](std::string s) {
    s = trim(s);
    if (auto b = last_boxed(s)) s = *b;
    while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
    if (s.size() >= 2 && s.front() == '$' && s.back() == '$') s = s.substr(1, s.size() - 2);
    if (s.size() >= 4 && s.substr(0, 2) == "\\(" && s.substr(s.size() - 2) == "\\)") s = s.substr(2, s.size() - 4);
    if (s.size() >= 4 && s.substr(0, 2) == "\\[" && s.substr(s.size() - 2) == "\\]") s = s.substr(2, s.size() - 4);
    return trim(s);
  };
  if (auto v = last_capture(minerva, text)) return clean(*v);
  if (auto v = last_capture(answer, text)) {
    std::string s = clean(*v);
    if (!s.empty()) return s;
  }
  if (auto b = last_boxed(text)) return trim(*b);
  return std::nullopt;
}

}  // namespace mixq::eval
