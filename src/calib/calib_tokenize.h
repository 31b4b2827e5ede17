// Calibration samples -> token ids through the text layer: text samples are encoded with the
// tokenizer's special tokens (as llm-compressor's tokenizer(text) call does); chat samples are
// rendered by the model's chat template (no generation prompt: the sample ends with the assistant
// turn) and encoded without adding special tokens (the template writes them). Each sample is cut to
// max_seq_length tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "calib/calib_dataset.h"

namespace mixq::text {
class Tokenizer;
class ChatTemplate;
}  // namespace mixq::text

namespace mixq::calib {

struct TokenizedSample {
  std::string source;
  std::vector<int32_t> ids;
  bool truncated = false;
};

// `chat` may be null when no sample is a chat sample (InputError otherwise: the model directory has
// no chat template).
std::vector<TokenizedSample> tokenize_calibration(const std::vector<CalibSample>& samples, const text::Tokenizer& tk,
                                                  const text::ChatTemplate* chat, int64_t max_seq_length);

// The prompt string a chat sample renders to.
std::string render_chat_sample(const CalibSample& s, const text::ChatTemplate& chat);

}  // namespace mixq::calib
