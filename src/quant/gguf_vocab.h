// The tokenizer metadata llama.cpp's `gpt2` vocabulary reads (../shared/docs/gguf-minimax-m2.md §1),
// built from a Hugging Face model directory: tokenizer.json (byte-level BPE: model.vocab,
// model.merges, added_tokens), tokenizer_config.json (bos/eos/unk/pad tokens, add_bos_token,
// chat_template) or chat_template.jinja, and config.json's bos/eos ids as a fallback.
//   tokenizer.ggml.model = "gpt2", .pre = "minimax-m2" (the o200k split regex MiniMax uses)
//   .tokens [vocab_size strings]  ids the tokenizer lacks are "[PAD<i>]" (type 5, unused)
//   .token_type [i32]  1 normal, 3 control (special added tokens), 4 user-defined (other added)
//   .merges ["a b", ...]  .bos/.eos/.unk/.padding_token_id (u32)  .add_bos_token (bool)
//   tokenizer.chat_template (string)
#pragma once
#include <cstdint>
#include <string>

#include "io/gguf_writer.h"

namespace mixq::gguf {

struct VocabSummary {
  int64_t tokens = 0, merges = 0, added = 0, padded = 0;
  int64_t bos = -1, eos = -1;
  bool chat_template = false;
};

// Adds the tokenizer keys to `w`. InputError naming the file/field when the directory has no usable
// byte-level BPE tokenizer or its ids do not fit `vocab_size` (the embedding's row count).
VocabSummary add_vocab_metadata(Writer& w, const std::string& model_dir, int64_t vocab_size);

}  // namespace mixq::gguf
