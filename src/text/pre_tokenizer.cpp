#include "text/pre_tokenizer.h"

#include <algorithm>

#include "text/byte_level.h"
#include "text/regex.h"
#include "text/unicode.h"
#include "text/utf8.h"
#include "util/error.h"

namespace mixq::text {

void split_pieces(std::string_view s, const Regex& re, SplitBehavior b, bool invert,
                  std::vector<std::string>& out) {
  if (s.empty()) return;
  // Cover the whole string with (range, is_match) spans, as HF's Pattern::find_matches does.
  struct Span { size_t st, en; bool m; };
  std::vector<Span> spans;
  size_t prev = 0;
  for (auto [st, en] : re.find_all(s)) {
    if (prev != st) spans.push_back({prev, st, invert});
    spans.push_back({st, en, !invert});
    prev = en;
  }
  if (prev != s.size()) spans.push_back({prev, s.size(), invert});

  std::vector<std::pair<size_t, size_t>> pieces;
  switch (b) {
    case SplitBehavior::Removed:
      for (auto& sp : spans) if (!sp.m) pieces.emplace_back(sp.st, sp.en);
      break;
    case SplitBehavior::Isolated:
      for (auto& sp : spans) pieces.emplace_back(sp.st, sp.en);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      for (auto& sp : spans) {
        if (sp.m && !prev_match && !pieces.empty()) pieces.back().second = sp.en;
        else pieces.emplace_back(sp.st, sp.en);
        prev_match = sp.m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev_match = false;
      for (size_t k = spans.size(); k-- > 0;) {
        auto& sp = spans[k];
        if (sp.m && !prev_match && !pieces.empty()) pieces.back().first = sp.st;
        else pieces.emplace_back(sp.st, sp.en);
        prev_match = sp.m;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      for (auto& sp : spans) {
        if (sp.m == prev_match && !pieces.empty()) pieces.back().second = sp.en;
        else pieces.emplace_back(sp.st, sp.en);
        prev_match = sp.m;
      }
      break;
    }
  }
  for (auto [st, en] : pieces)
    if (en > st) out.emplace_back(s.substr(st, en - st));
}

namespace {

SplitBehavior behavior_from(const std::string& b) {
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  fail("tokenizer.json: unknown split behavior '{}'", b);
}

// A pre-tokenizer that is just "split every piece with a regex".
class RegexSplit : public PreTokenizer {
 public:
  RegexSplit(const std::string& pattern, SplitBehavior b, bool invert, const char* what)
      : re_(pattern, what), b_(b), invert_(invert) {}
  void pre_tokenize(std::vector<std::string>& pieces) const override {
    std::vector<std::string> out;
    out.reserve(pieces.size() * 4);
    for (auto& p : pieces) split_pieces(p, re_, b_, invert_, out);
    pieces = std::move(out);
  }
 private:
  Regex re_;
  SplitBehavior b_;
  bool invert_;
};

// GPT-2's word pattern, used by ByteLevel when use_regex is set.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool prefix, bool use_regex) : prefix_(prefix) {
    if (use_regex) re_ = std::make_unique<Regex>(kGpt2Pattern, "ByteLevel pre-tokenizer");
  }
  void pre_tokenize(std::vector<std::string>& pieces) const override {
    std::vector<std::string> out;
    out.reserve(pieces.size());
    for (auto& p : pieces) {
      if (prefix_ && (p.empty() || p[0] != ' ')) p.insert(p.begin(), ' ');
      if (re_) split_pieces(p, *re_, SplitBehavior::Isolated, false, out);
      else if (!p.empty()) out.push_back(std::move(p));
    }
    for (auto& p : out) p = byte_level_encode(p);
    pieces = std::move(out);
  }
 private:
  bool prefix_;
  std::unique_ptr<Regex> re_;
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<std::string>& pieces) const override {
    std::vector<std::string> out;
    for (auto& p : pieces) {
      std::string cur;
      for (size_t i = 0; i < p.size();) {
        size_t st = i;
        if (is_whitespace(utf8_next(p, i))) {
          if (!cur.empty()) out.push_back(std::move(cur));
          cur.clear();
        } else {
          cur.append(p, st, i - st);
        }
      }
      if (!cur.empty()) out.push_back(std::move(cur));
    }
    pieces = std::move(out);
  }
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> v) : v_(std::move(v)) {}
  void pre_tokenize(std::vector<std::string>& pieces) const override {
    for (auto& p : v_) p->pre_tokenize(pieces);
  }
 private:
  std::vector<std::unique_ptr<PreTokenizer>> v_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  std::string t = j.value("type", "");
  if (t == "Split")
    return std::make_unique<RegexSplit>(pattern_from_json(j.at("pattern"), "Split"),
                                        behavior_from(j.at("behavior").get<std::string>()),
                                        j.value("invert", false), "Split pre-tokenizer");
  if (t == "ByteLevel")
    return std::make_unique<ByteLevel>(j.value("add_prefix_space", true), j.value("use_regex", true));
  if (t == "Digits")
    return std::make_unique<RegexSplit>(j.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)",
                                        SplitBehavior::Isolated, false, "Digits pre-tokenizer");
  if (t == "Whitespace")
    return std::make_unique<RegexSplit>(R"(\w+|[^\w\s]+)", SplitBehavior::Removed, true,
                                        "Whitespace pre-tokenizer");
  if (t == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (t == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> v;
    for (auto& p : j.at("pretokenizers")) v.push_back(make_pre_tokenizer(p));
    return std::make_unique<Sequence>(std::move(v));
  }
  fail("tokenizer.json: unsupported pre_tokenizer type '{}'", t);
}

}  // namespace mixq::text
