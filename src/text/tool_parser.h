// The `minimax_m2` tool-call parser (vLLM vllm/tool_parsers/minimax_m2_tool_parser.py, see
// docs minimax-m2.md §7.2): <minimax:tool_call><invoke name="F"><parameter name="P">V</parameter>
// </invoke></minimax:tool_call> -> OpenAI tool calls, with values typed by the tool's JSON schema.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mixq::text {

struct ToolCall {
  std::string id;         // "call_" + 24 hex digits
  std::string name;
  std::string arguments;  // JSON text, as json.dumps(dict, ensure_ascii=False)
};

struct ToolParseResult {
  bool tools_called = false;
  std::vector<ToolCall> calls;
  std::optional<std::string> content;  // None when empty
};

// `tools` is the request's "tools" list (OpenAI shape) or null.
ToolParseResult parse_minimax_m2_tool_calls(std::string_view text, const nlohmann::ordered_json& tools);

// One OpenAI-shaped streamed tool-call fragment: the first for a call carries id and name.
struct ToolCallDelta {
  int index = 0;
  std::string id, name;  // empty after the first fragment of a call
  std::string arguments;
};

// Streaming form. Text before the first <minimax:tool_call> streams as content at once (a
// possible partial start token is held back); tool calls are emitted when their block closes,
// so the deltas always add up to exactly what parse_minimax_m2_tool_calls returns, even for an
// unterminated block (which then comes out as content at finish()).
class MinimaxM2ToolStream {
 public:
  explicit MinimaxM2ToolStream(nlohmann::ordered_json tools) : tools_(std::move(tools)) {}
  struct Delta {
    std::string content;
    std::vector<ToolCallDelta> tool_calls;
    bool empty() const { return content.empty() && tool_calls.empty(); }
  };
  Delta feed(std::string_view text);
  Delta finish();

 private:
  void scan_blocks(Delta& d);
  nlohmann::ordered_json tools_;
  std::string all_;
  size_t content_done_ = 0;  // bytes of all_ emitted as content
  size_t scan_ = 0;          // where the next block search starts
  bool started_ = false;     // a start token has been seen
  int ncalls_ = 0;
};

// Shared helpers (exposed for tests).
std::vector<std::string> schema_types(const nlohmann::ordered_json& schema);
// JSON text of a parameter value converted with the given candidate types.
std::string convert_param_value(const std::string& value, const std::vector<std::string>& types);
std::string random_call_id();

}  // namespace mixq::text
