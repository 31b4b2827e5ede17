// Quality of a (quantized) model against its reference by next-token distributions: for every
// position of a set of token sequences, KL(P_ref || P_model) of the full softmax over the vocabulary
// (natural log, computed in fp64 from the engines' fp32 logits) and whether both argmaxes agree
// (top-1). Means are over all positions of all sequences; per-source breakdowns are kept.
//
// Memory: both models stay mmap'd; per sequence two [T, vocab] fp32 logit buffers plus one fp32 KV
// cache per model (T <= seq_len). Compute: two full forwards of every token.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mixq {
class Model;
}

namespace mixq::eval {

struct EvalSequence {
  std::string source;           // e.g. "text", "gsm8k_chat"
  std::vector<int32_t> ids;
};

struct KldStats {
  int64_t positions = 0;
  double kld_sum = 0, kld_max = 0;
  int64_t top1_agree = 0;
  double mean_kld() const { return positions ? kld_sum / double(positions) : 0.0; }
  double top1() const { return positions ? double(top1_agree) / double(positions) : 0.0; }
  void add(const KldStats& o);
  nlohmann::ordered_json to_json() const;
};

struct KldResult {
  KldStats all;
  std::vector<std::pair<std::string, KldStats>> by_source;  // in first-seen order
  nlohmann::ordered_json to_json() const;
};

// KL(softmax(ref) || softmax(model)) of one row of V logits, and whether the argmaxes agree
// (lowest index on ties, as torch.argmax).
double kl_divergence_row(const float* ref, const float* model, int64_t V, bool* top1_agree);

// Both models must share the vocabulary. Every id must be inside it (InputError otherwise).
KldResult compare_models(const Model& reference, const Model& model, const std::vector<EvalSequence>& seqs);

// Held-out text cut into consecutive sequences of `seq_len` tokens (BOS-style special tokens as the
// tokenizer adds them to the first), at most `max_tokens` tokens in all.
std::vector<EvalSequence> text_sequences(const std::string& text, const std::string& tokenizer_dir, int64_t seq_len,
                                         int64_t max_tokens);

// GSM8K-style JSONL ({"question", "answer"}) rendered as a user / assistant chat through the model's
// chat template (no generation prompt), one sequence per item (cut to seq_len), items in file order
// until `max_tokens` tokens.
std::vector<EvalSequence> gsm8k_chat_sequences(const std::string& jsonl_path, const std::string& model_dir, int64_t seq_len,
                                               int64_t max_tokens);

}  // namespace mixq::eval
