// Added tokens of a tokenizer.json ("added_tokens"): matched in the input before the model sees
// it, leftmost-longest, with HF's single_word / lstrip / rstrip rules.
#pragma once
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mixq::text {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false, normalized = false, lstrip = false, rstrip = false, single_word = false;
};

// A piece of input: either an added token (id >= 0) or plain text to run through the model.
struct Segment {
  int32_t id = -1;
  std::string text;
};

// Byte trie over a set of token strings, answering "longest token starting here".
class TokenMatcher {
 public:
  void add(const std::string& s, int index);
  bool empty() const { return nodes_.size() <= 1; }
  // Index of the longest pattern starting at s[pos] (and its length), or -1.
  int longest_at(std::string_view s, size_t pos, size_t& len) const;

 private:
  struct Node { std::vector<std::pair<unsigned char, int>> next; int index = -1; };
  std::vector<Node> nodes_{Node{}};
  std::array<bool, 256> first_{};
};

class AddedVocab {
 public:
  void add(AddedToken t);
  // `normalize` is applied to the content of normalized tokens (they are matched after
  // normalization) — pass identity when the tokenizer has no normalizer.
  template <typename F>
  void build(F normalize) {
    raw_ = TokenMatcher();
    norm_ = TokenMatcher();
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].normalized) norm_.add(normalize(tokens_[i].content), static_cast<int>(i));
      else raw_.add(tokens_[i].content, static_cast<int>(i));
    }
  }

  // Splits `s` at the matches of the raw (non-normalized) or normalized token set.
  void split(std::string_view s, bool normalized_set, std::vector<Segment>& out) const;

  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view c) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  TokenMatcher raw_, norm_;
};

}  // namespace mixq::text
