// Incremental detokenization for streaming: feed ids one at a time, get text pieces that
// concatenate to tokenizer.decode(all ids) and never end in half a UTF-8 character. Same
// algorithm as HF tokenizers' DecodeStream (re-decode a short window, emit the new suffix once it
// no longer ends in U+FFFD).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixq::text {

class Tokenizer;

class DecodeStream {
 public:
  DecodeStream(const Tokenizer& tk, bool skip_special_tokens) : tk_(tk), skip_(skip_special_tokens) {}
  // Text that became final with this id ("" while a character is incomplete).
  std::string step(int32_t id);
  // Whatever is still held back at the end of the stream (possibly U+FFFD for cut bytes).
  std::string flush();

 private:
  const Tokenizer& tk_;
  bool skip_;
  std::vector<int32_t> ids_;
  std::string prefix_;   // decode(ids_[0:prefix_index_])
  size_t prefix_index_ = 0;
};

}  // namespace mixq::text
