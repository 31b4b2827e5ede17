// The evaluation sequences of `mixq eval kld` (and `mixq quantize --eval-text/--eval-gsm8k`): held-out
// text in seq_len windows and/or GSM8K items rendered as chat, the token budget split evenly
// between the sources given. Tokenized with `tokenizer_dir`'s tokenizer and chat template.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/kld.h"

namespace mixq::eval {

struct EvalSetOptions {
  std::string text_path;   // plain text file, or empty
  std::string gsm8k_path;  // GSM8K-style JSONL, or empty
  int64_t max_tokens = 4096;
  int64_t seq_len = 512;
};

// InputError (naming `who`) when no source is given, max_tokens < 2, or nothing tokenizes to >= 2 tokens.
std::vector<EvalSequence> build_eval_sequences(const EvalSetOptions& o, const std::string& tokenizer_dir, const std::string& who);

}  // namespace mixq::eval
