#include "text/chat_output.h"

namespace mixq::text {

using json = nlohmann::ordered_json;

namespace {
json opt(const std::optional<std::string>& s) { return s && !s->empty() ? json(*s) : json(nullptr); }

json tool_delta_json(const ToolCallDelta& d) {
  json j = {{"index", d.index}};
  json fn = json::object();
  if (!d.id.empty()) {
    j["id"] = d.id;
    j["type"] = "function";
    fn["name"] = d.name;
  }
  fn["arguments"] = d.arguments;
  j["function"] = fn;
  return j;
}
}  // namespace

json parse_chat_output(std::string_view text, const OutputParsers& p) {
  ReasoningResult r;
  switch (p.reasoning) {
    case OutputParsers::Reasoning::None: r.content = std::string(text); break;
    case OutputParsers::Reasoning::MinimaxM2: r = parse_minimax_m2_reasoning(text); break;
    case OutputParsers::Reasoning::MinimaxM2AppendThink: r = parse_minimax_m2_append_think(text); break;
  }
  json msg = {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", opt(r.reasoning)}};
  if (!p.tool_calls || !r.content) {
    msg["content"] = opt(r.content);
    return msg;
  }
  ToolParseResult t = parse_minimax_m2_tool_calls(*r.content, p.tools);
  msg["content"] = opt(t.content);
  if (t.tools_called) {
    json calls = json::array();
    for (auto& c : t.calls)
      calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    msg["tool_calls"] = calls;
  }
  return msg;
}

ChatOutputStream::ChatOutputStream(OutputParsers p) : p_(std::move(p)) {
  if (p_.reasoning == OutputParsers::Reasoning::MinimaxM2)
    reasoning_ = std::make_unique<ReasoningStream>(ReasoningStream::Mode::MinimaxM2);
  else if (p_.reasoning == OutputParsers::Reasoning::MinimaxM2AppendThink)
    reasoning_ = std::make_unique<ReasoningStream>(ReasoningStream::Mode::AppendThink);
  if (p_.tool_calls) tools_ = std::make_unique<MinimaxM2ToolStream>(p_.tools);
}

void ChatOutputStream::route(const ReasoningDelta& r, bool final, std::vector<json>& out) {
  if (!r.reasoning.empty()) out.push_back({{"reasoning_content", r.reasoning}});
  if (!tools_) {
    if (!r.content.empty()) out.push_back({{"content", r.content}});
    return;
  }
  MinimaxM2ToolStream::Delta d = tools_->feed(r.content);
  if (final) {
    auto f = tools_->finish();
    d.content += f.content;
  }
  if (!d.content.empty()) out.push_back({{"content", d.content}});
  if (!d.tool_calls.empty()) {
    json calls = json::array();
    for (auto& c : d.tool_calls) calls.push_back(tool_delta_json(c));
    out.push_back({{"tool_calls", calls}});
  }
}

std::vector<json> ChatOutputStream::feed(std::string_view text) {
  std::vector<json> out;
  ReasoningDelta r;
  if (reasoning_) r = reasoning_->feed(text);
  else r.content = std::string(text);
  route(r, false, out);
  return out;
}

std::vector<json> ChatOutputStream::finish() {
  std::vector<json> out;
  ReasoningDelta r;
  if (reasoning_) r = reasoning_->finish();
  route(r, true, out);
  return out;
}

}  // namespace mixq::text
