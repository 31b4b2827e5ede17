// HF tokenizers pre-tokenizers (tokenizer.json "pre_tokenizer"): split a normalized piece of
// text into the words BPE sees. Offsets are not tracked, only the pieces.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mixq::text {

class Regex;

// How the matches of a Split pattern become pieces (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Splits `s` at the matches of `re` the way HF NormalizedString::split does; appends the
// non-empty pieces to `out`.
void split_pieces(std::string_view s, const Regex& re, SplitBehavior b, bool invert,
                  std::vector<std::string>& out);

using EmitFn = std::function<void(std::string_view)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by the pieces each one splits into.
  virtual void pre_tokenize(std::vector<std::string>& pieces) const;
  // Streams the pieces one input piece splits into (no intermediate lists: the encode hot path).
  virtual void stream(std::string_view piece, const EmitFn& emit) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j);

// {"String": ...} / {"Regex": ...} -> a PCRE2 pattern (defined in normalizer.cpp).
std::string pattern_from_json(const nlohmann::json& p, const char* where);

}  // namespace mixq::text
