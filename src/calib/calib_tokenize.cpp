#include "calib/calib_tokenize.h"

#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace mixq::calib {

std::string render_chat_sample(const CalibSample& s, const text::ChatTemplate& chat) {
  nlohmann::ordered_json req = {{"messages", s.messages}, {"add_generation_prompt", false}};
  return chat.render(req);
}

std::vector<TokenizedSample> tokenize_calibration(const std::vector<CalibSample>& samples, const text::Tokenizer& tk,
                                                  const text::ChatTemplate* chat, int64_t max_seq_length) {
  MIXQ_ASSERT(max_seq_length > 0);
  std::vector<TokenizedSample> out;
  out.reserve(samples.size());
  for (const CalibSample& s : samples) {
    TokenizedSample t;
    t.source = s.source;
    if (s.format == SampleFormat::Chat) {
      if (!chat) fail("calibration source '{}' uses chat format but the model has no chat template", s.source);
      t.ids = text::encode_prompt(tk, render_chat_sample(s, *chat));
    } else {
      t.ids = tk.encode(s.text, /*add_special_tokens=*/true);
    }
    if (int64_t(t.ids.size()) > max_seq_length) {
      t.ids.resize(size_t(max_seq_length));
      t.truncated = true;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace mixq::calib
