// A Hugging Face tokenizer loaded from tokenizer.json: added tokens -> normalizer ->
// pre-tokenizer -> BPE -> post-processor, and the reverse through the decoder. Ids match the
// Rust `tokenizers` library (checked in tests/scripts/text_reference.sh).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/added_vocab.h"

namespace mixq::text {

class Normalizer;
class PreTokenizer;
class Bpe;
class Decoder;

class Tokenizer {
 public:
  // `path` is a tokenizer.json file or a directory holding one. Throws InputError.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  static std::unique_ptr<Tokenizer> from_json_text(std::string_view json, const std::string& what);
  ~Tokenizer();

  // Text (any bytes: ill-formed UTF-8 is replaced by U+FFFD first, as HF's callers do) -> ids.
  // `add_special_tokens` applies the post-processor template (BOS/EOS) when there is one.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> token_to_id(std::string_view tok) const;
  // nullptr for an unknown id.
  const std::string* id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  size_t vocab_size() const;
  const AddedVocab& added() const { return added_; }

 private:
  Tokenizer();
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_;
  std::unique_ptr<Bpe> model_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocab added_;
  // Post-processor (TemplateProcessing / Bert / Roberta) for a single sequence.
  std::vector<int32_t> prefix_ids_, suffix_ids_;
};

}  // namespace mixq::text
