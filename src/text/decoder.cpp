#include "text/decoder.h"

#include "text/byte_level.h"
#include "text/pre_tokenizer.h"
#include "text/regex.h"
#include "text/utf8.h"
#include "util/error.h"

namespace mixq::text {
namespace {

class ByteLevelDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (auto& t : tokens)
      if (!byte_level_decode(t, bytes)) bytes += t;  // outside the map: keep the token's bytes
    return {utf8_sanitize(bytes)};
  }
};

class ByteFallbackDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t npending = 0;
    auto flush = [&] {
      if (!npending) return;
      if (utf8_valid(pending)) out.push_back(pending);
      else for (size_t k = 0; k < npending; ++k) out.push_back("\xEF\xBF\xBD");
      pending.clear();
      npending = 0;
    };
    for (auto& t : tokens) {
      if (t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
        unsigned v = 0;
        bool ok = true;
        for (int k = 3; k < 5; ++k) {
          char c = t[k];
          int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
          if (d < 0) ok = false;
          v = v * 16 + (d < 0 ? 0 : d);
        }
        if (ok) { pending += static_cast<char>(v); ++npending; continue; }
      }
      flush();
      out.push_back(t);
    }
    flush();
    return out;
  }
};

class FuseDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (auto& t : tokens) all += t;
    return {all};
  }
};

class StripDec : public Decoder {
 public:
  StripDec(std::string c, size_t start, size_t stop) : c_(std::move(c)), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      size_t b = 0, e = t.size();
      for (size_t k = 0; k < start_ && !c_.empty() && t.compare(b, c_.size(), c_) == 0 && b < e; ++k)
        b += c_.size();
      for (size_t k = 0; k < stop_ && !c_.empty() && e >= b + c_.size() &&
                         t.compare(e - c_.size(), c_.size(), c_) == 0; ++k)
        e -= c_.size();
      t = t.substr(b, e - b);
    }
    return tokens;
  }
 private:
  std::string c_;
  size_t start_, stop_;
};

class ReplaceDec : public Decoder {
 public:
  ReplaceDec(const std::string& pattern, std::string content)
      : re_(pattern, "Replace decoder"), content_(std::move(content)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::string out;
      size_t prev = 0;
      for (auto [st, en] : re_.find_all(t)) {
        out.append(t, prev, st - prev);
        out += content_;
        prev = en;
      }
      out.append(t, prev);
      t = std::move(out);
    }
    return tokens;
  }
 private:
  Regex re_;
  std::string content_;
};

class SequenceDec : public Decoder {
 public:
  explicit SequenceDec(std::vector<std::unique_ptr<Decoder>> v) : v_(std::move(v)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& d : v_) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }
 private:
  std::vector<std::unique_ptr<Decoder>> v_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string t = j.value("type", "");
  if (t == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (t == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (t == "Fuse") return std::make_unique<FuseDec>();
  if (t == "Strip")
    return std::make_unique<StripDec>(j.at("content").get<std::string>(), j.value("start", 0),
                                      j.value("stop", 0));
  if (t == "Replace")
    return std::make_unique<ReplaceDec>(pattern_from_json(j.at("pattern"), "Replace decoder"),
                                        j.at("content").get<std::string>());
  if (t == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> v;
    for (auto& d : j.at("decoders")) v.push_back(make_decoder(d));
    return std::make_unique<SequenceDec>(std::move(v));
  }
  fail("tokenizer.json: unsupported decoder type '{}'", t);
}

}  // namespace mixq::text
