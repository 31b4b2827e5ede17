// The BPE model of HF tokenizers: vocab + ranked merges, applied to one pre-tokenized word.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mixq::text {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using VocabMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class Bpe {
 public:
  // `model` is tokenizer.json's "model" object (type BPE). Merges may be "a b" strings or
  // ["a", "b"] pairs. Throws InputError when a merge names a token missing from the vocab.
  explicit Bpe(const nlohmann::json& model);

  // Appends the ids of one word (already byte-level mapped when the tokenizer does that).
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view tok) const;
  const std::string* id_to_token(int32_t id) const;
  size_t vocab_size() const { return id_to_tok_.size(); }

 private:
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  VocabMap vocab_;
  std::vector<std::string> id_to_tok_;
  std::vector<bool> has_id_;
  // (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::optional<int32_t> unk_;
  std::string continuing_prefix_, end_suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;

  // Word -> ids cache (HF keeps one too); words repeat a lot in real text.
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
  static constexpr size_t kCacheMax = 200000;
};

}  // namespace mixq::text
