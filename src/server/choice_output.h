// One choice's output, token by token: incremental detokenization (text/decode_stream.h), stop
// strings (cut before the match, vLLM's rule; while streaming the last longest-stop - 1 bytes are
// held back so a stop string is never half sent), then the reasoning and tool-call parsers
// (text/chat_output.h) for chat. Streaming deltas concatenate to exactly the non-streaming
// message: both come from the same released text through parsers that guarantee it.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "server/gen_request.h"
#include "text/decode_stream.h"

namespace mixq::server {

class ChoiceOutput {
 public:
  ChoiceOutput(const GenRequest& r, const text::Tokenizer& tk);

  // False when a stop string ended the text (the sequence should stop).
  bool add_token(const TokenEvent& ev);
  void finish(const SeqResult& r);  // the engine's end: flushes the held-back text
  bool finished() const { return finished_; }

  // Streaming: delta objects released since the last call (chat: OpenAI `delta`s; completions:
  // {"text": ...}), and the logprobs of the tokens since the last call (null when not asked).
  std::vector<nlohmann::ordered_json> take_deltas();
  nlohmann::ordered_json take_logprobs();

  // Non-streaming results (after finish).
  nlohmann::ordered_json message() const;  // chat: {"role", "content", "reasoning", "reasoning_content", "tool_calls"?}
  const std::string& text() const { return text_; }
  nlohmann::ordered_json all_logprobs() const;
  std::string finish_reason() const;
  nlohmann::ordered_json stop_reason() const;
  const SeqResult& result() const { return result_; }
  bool tools_called() const { return tools_called_; }

 private:
  void release(size_t upto);
  void stream_text(const std::string& piece, bool final);
  nlohmann::ordered_json logprob_entry(const TokenEvent& ev) const;

  const GenRequest& req_;
  const text::Tokenizer& tk_;
  text::DecodeStream detok_;
  std::unique_ptr<text::ChatOutputStream> chat_stream_;
  std::string text_;          // the output text so far (cut at a stop string)
  size_t released_ = 0;       // bytes of text_ handed to the stream parsers
  size_t checked_ = 0;        // bytes of text_ searched for stop strings
  size_t hold_ = 0;           // longest stop string - 1
  bool finished_ = false, stopped_by_string_ = false, tools_called_ = false;
  std::string stop_string_;
  SeqResult result_;
  std::vector<nlohmann::ordered_json> deltas_;
  std::vector<TokenEvent> lp_pending_, lp_all_;
};

}  // namespace mixq::server
