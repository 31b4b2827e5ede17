// Model output -> OpenAI message / stream deltas: the reasoning parser runs first, the tool-call
// parser on the content it leaves (as vLLM chains them).
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/reasoning_parser.h"
#include "text/tool_parser.h"

namespace mixq::text {

struct OutputParsers {
  enum class Reasoning { None, MinimaxM2, MinimaxM2AppendThink } reasoning = Reasoning::MinimaxM2;
  bool tool_calls = true;                 // minimax_m2 tool parser
  nlohmann::ordered_json tools = nullptr;  // the request's tools
};

// Non-streaming: {"role": "assistant", "content": str|null, "reasoning_content": str|null,
// "tool_calls": [...]} (tool_calls present only when some were parsed).
nlohmann::ordered_json parse_chat_output(std::string_view text, const OutputParsers& p);

// Streaming: each feed() returns zero or more OpenAI `delta` objects ({"content": ...},
// {"reasoning_content": ...}, {"tool_calls": [{"index", "id", "type", "function": {...}}]}).
class ChatOutputStream {
 public:
  explicit ChatOutputStream(OutputParsers p);
  std::vector<nlohmann::ordered_json> feed(std::string_view text);
  std::vector<nlohmann::ordered_json> finish();

 private:
  void route(const ReasoningDelta& r, bool final, std::vector<nlohmann::ordered_json>& out);
  OutputParsers p_;
  std::unique_ptr<ReasoningStream> reasoning_;
  std::unique_ptr<MinimaxM2ToolStream> tools_;
};

}  // namespace mixq::text
