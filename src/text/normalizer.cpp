#include "text/normalizer.h"

#include <vector>

#include "text/regex.h"
#include "text/unicode.h"
#include "text/utf8.h"
#include "util/error.h"

namespace mixq::text {
namespace {

class UnicodeNorm : public Normalizer {
 public:
  explicit UnicodeNorm(NormForm f) : f_(f) {}
  std::string normalize(std::string_view s) const override { return text::normalize(s, f_); }
 private:
  NormForm f_;
};

class Lowercase : public Normalizer {
 public:
  std::string normalize(std::string_view s) const override { return to_lower(s); }
};

class StripAccents : public Normalizer {
 public:
  std::string normalize(std::string_view s) const override { return strip_accents(s); }
};

class Strip : public Normalizer {
 public:
  Strip(bool l, bool r) : l_(l), r_(r) {}
  std::string normalize(std::string_view s) const override {
    size_t b = 0, e = s.size();
    if (l_) {
      while (b < e) {
        size_t i = b;
        if (!is_whitespace(utf8_next(s, i))) break;
        b = i;
      }
    }
    if (r_) {
      while (e > b) {
        size_t st = e - 1;
        while (st > b && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80) --st;
        size_t i = st;
        if (!is_whitespace(utf8_next(s, i))) break;
        e = st;
      }
    }
    return std::string(s.substr(b, e - b));
  }
 private:
  bool l_, r_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : p_(std::move(p)) {}
  std::string normalize(std::string_view s) const override {
    return s.empty() ? std::string() : p_ + std::string(s);
  }
 private:
  std::string p_;
};

class Replace : public Normalizer {
 public:
  Replace(const std::string& pattern, std::string content)
      : re_(pattern, "Replace normalizer"), content_(std::move(content)) {}
  std::string normalize(std::string_view s) const override {
    std::string out;
    size_t prev = 0;
    for (auto [st, en] : re_.find_all(s)) {
      out.append(s.substr(prev, st - prev));
      out += content_;
      prev = en;
    }
    out.append(s.substr(prev));
    return out;
  }
 private:
  Regex re_;
  std::string content_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> v) : v_(std::move(v)) {}
  std::string normalize(std::string_view s) const override {
    std::string cur(s);
    for (auto& n : v_) cur = n->normalize(cur);
    return cur;
  }
 private:
  std::vector<std::unique_ptr<Normalizer>> v_;
};

}  // namespace

// HF patterns are {"String": literal} or {"Regex": pattern}.
std::string pattern_from_json(const nlohmann::json& p, const char* where) {
  if (p.is_object() && p.contains("String")) return Regex::escape(p["String"].get<std::string>());
  if (p.is_object() && p.contains("Regex")) return p["Regex"].get<std::string>();
  if (p.is_string()) return Regex::escape(p.get<std::string>());
  fail("tokenizer.json: {}: pattern must be {{\"String\": ...}} or {{\"Regex\": ...}}", where);
}

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string t = j.value("type", "");
  if (t == "NFC") return std::make_unique<UnicodeNorm>(NormForm::NFC);
  if (t == "NFD") return std::make_unique<UnicodeNorm>(NormForm::NFD);
  if (t == "NFKC") return std::make_unique<UnicodeNorm>(NormForm::NFKC);
  if (t == "NFKD") return std::make_unique<UnicodeNorm>(NormForm::NFKD);
  if (t == "Lowercase") return std::make_unique<Lowercase>();
  if (t == "StripAccents") return std::make_unique<StripAccents>();
  if (t == "Strip")
    return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
  if (t == "Prepend") return std::make_unique<Prepend>(j.at("prepend").get<std::string>());
  if (t == "Replace")
    return std::make_unique<Replace>(pattern_from_json(j.at("pattern"), "Replace normalizer"),
                                     j.at("content").get<std::string>());
  if (t == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> v;
    for (auto& n : j.at("normalizers")) v.push_back(make_normalizer(n));
    return std::make_unique<Sequence>(std::move(v));
  }
  fail("tokenizer.json: unsupported normalizer type '{}'", t);
}

}  // namespace mixq::text
