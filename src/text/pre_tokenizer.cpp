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

void PreTokenizer::pre_tokenize(std::vector<std::string>& pieces) const {
  std::vector<std::string> out;
  out.reserve(pieces.size() * 4);
  for (auto& p : pieces) stream(p, [&](std::string_view w) { out.emplace_back(w); });
  pieces = std::move(out);
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
  void stream(std::string_view p, const EmitFn& emit) const override {
    if (b_ == SplitBehavior::Isolated || (b_ == SplitBehavior::Removed && !invert_)) {
      // Gaps and matches in order; Removed drops the matches.
      size_t prev = 0;
      bool keep_match = b_ == SplitBehavior::Isolated;
      re_.for_each_match(p, [&](size_t st, size_t en) {
        if (st > prev) emit(p.substr(prev, st - prev));
        if (keep_match && en > st) emit(p.substr(st, en - st));
        prev = en;
      });
      if (prev < p.size()) emit(p.substr(prev));
      return;
    }
    std::vector<std::string> out;
    split_pieces(p, re_, b_, invert_, out);
    for (auto& w : out) emit(w);
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
  void stream(std::string_view p, const EmitFn& emit) const override {
    std::string with_prefix;
    if (prefix_ && (p.empty() || p[0] != ' ')) {
      with_prefix = " " + std::string(p);
      p = with_prefix;
    }
    const auto& map = ByteLevelMap::get();
    std::string buf;
    auto encode = [&](std::string_view w) {
      buf.clear();
      for (unsigned char b : w) buf += map.byte_to_utf8[b];
      emit(buf);
    };
    if (!re_) {
      if (!p.empty()) encode(p);
      return;
    }
    size_t prev = 0;
    re_->for_each_match(p, [&](size_t st, size_t en) {
      if (st > prev) encode(p.substr(prev, st - prev));
      if (en > st) encode(p.substr(st, en - st));
      prev = en;
    });
    if (prev < p.size()) encode(p.substr(prev));
  }
 private:
  bool prefix_;
  std::unique_ptr<Regex> re_;
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void stream(std::string_view p, const EmitFn& emit) const override {
    size_t word = std::string_view::npos;
    for (size_t i = 0; i < p.size();) {
      size_t st = i;
      if (is_whitespace(utf8_next(p, i))) {
        if (word != std::string_view::npos) emit(p.substr(word, st - word));
        word = std::string_view::npos;
      } else if (word == std::string_view::npos) {
        word = st;
      }
    }
    if (word != std::string_view::npos) emit(p.substr(word));
  }
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> v) : v_(std::move(v)) {}
  void stream(std::string_view p, const EmitFn& emit) const override { run(0, p, emit); }
 private:
  void run(size_t i, std::string_view p, const EmitFn& emit) const {
    if (i == v_.size()) { emit(p); return; }
    v_[i]->stream(p, [&](std::string_view w) { run(i + 1, w, emit); });
  }
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
