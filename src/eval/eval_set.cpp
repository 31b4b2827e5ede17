#include "eval/eval_set.h"

#include "util/error.h"
#include "util/file_util.h"

namespace mixq::eval {

std::vector<EvalSequence> build_eval_sequences(const EvalSetOptions& o, const std::string& tokenizer_dir, const std::string& who) {
  if (o.text_path.empty() && o.gsm8k_path.empty()) fail("{}: give a held-out text file and/or a GSM8K JSONL file", who);
  if (o.max_tokens < 2) fail("{}: the token budget must be >= 2", who);
  const int sources = int(!o.text_path.empty()) + int(!o.gsm8k_path.empty());
  const int64_t budget = o.max_tokens / sources;
  std::vector<EvalSequence> seqs;
  if (!o.text_path.empty()) seqs = text_sequences(read_file(o.text_path), tokenizer_dir, o.seq_len, budget);
  if (!o.gsm8k_path.empty())
    for (auto& s : gsm8k_chat_sequences(o.gsm8k_path, tokenizer_dir, o.seq_len, budget)) seqs.push_back(std::move(s));
  if (seqs.empty()) fail("{}: the sources gave no sequence of >= 2 tokens", who);
  return seqs;
}

}  // namespace mixq::eval
