// Output parser tests: golden cases from docs minimax-m2.md §7.2/§7.3 (vLLM semantics),
// adversarial inputs, and streaming fed one byte at a time (and in random chunks) against the
// non-streaming result.
#include <gtest/gtest.h>

#include <random>

#include "text/chat_output.h"
#include "text/reasoning_parser.h"
#include "text/tool_parser.h"

using namespace mixq::text;
using json = nlohmann::ordered_json;

namespace {

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
    "location": {"type": "string"}, "days": {"type": "integer"}, "unit": {"type": "string", "enum": ["c", "f"]},
    "precise": {"type": "boolean"}, "ratio": {"type": "number"}, "opts": {"type": "object"}, "tags": {"type": "array"},
    "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "multi": {"type": ["integer", "string"]},
    "level": {"enum": [1, 2, 3]}}}}},
  {"type": "function", "function": {"name": "run", "parameters": {"type": "object", "properties": {"code": {"type": "string"}}}}}
])");

std::string invoke(const std::string& name, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string s = "<invoke name=\"" + name + "\">\n";
  for (auto& [k, v] : params) s += "<parameter name=\"" + k + "\">" + v + "</parameter>\n";
  return s + "</invoke>\n";
}
std::string block(const std::string& invokes) { return "<minimax:tool_call>\n" + invokes + "</minimax:tool_call>"; }

std::string args_of(const std::string& text, const std::string& name, const std::string& value) {
  auto r = parse_minimax_m2_tool_calls(block(invoke(name, {{"p", value}})), kTools);
  return r.calls.empty() ? "<none>" : r.calls[0].arguments;
}
std::string typed(const std::string& param, const std::string& value) {
  auto r = parse_minimax_m2_tool_calls(block(invoke("get_weather", {{param, value}})), kTools);
  EXPECT_EQ(r.calls.size(), 1u);
  return r.calls.empty() ? "" : r.calls[0].arguments;
}

}  // namespace

TEST(ToolParser, SpecExample) {
  std::string text = "Let me check.\n" + block(invoke("get_weather", {{"location", "SF"}, {"days", "3"}}));
  auto r = parse_minimax_m2_tool_calls(text, kTools);
  ASSERT_TRUE(r.tools_called);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, R"({"location": "SF", "days": 3})");
  EXPECT_EQ(r.content, "Let me check.\n");
  EXPECT_EQ(r.calls[0].id.size(), 5u + 24u);
  EXPECT_EQ(r.calls[0].id.rfind("call_", 0), 0u);
}

TEST(ToolParser, NoToolCall) {
  auto r = parse_minimax_m2_tool_calls("just text", kTools);
  EXPECT_FALSE(r.tools_called);
  EXPECT_EQ(r.content, "just text");
}

TEST(ToolParser, TypeConversionBySchema) {
  EXPECT_EQ(typed("days", "007"), R"({"days": 7})");
  EXPECT_EQ(typed("days", " 1_000 "), R"({"days": 1000})");
  EXPECT_EQ(typed("days", "abc"), R"({"days": "abc"})");        // int fails, json fails -> raw
  EXPECT_EQ(typed("days", "[1,2]"), R"({"days": [1, 2]})");     // int fails, json.loads wins
  EXPECT_EQ(typed("days", "null"), R"({"days": null})");
  EXPECT_EQ(typed("location", "NONE"), R"({"location": null})");
  EXPECT_EQ(typed("location", "42"), R"({"location": "42"})");
  EXPECT_EQ(typed("ratio", "3.0"), R"({"ratio": 3})");
  EXPECT_EQ(typed("ratio", "2.5"), R"({"ratio": 2.5})");
  EXPECT_EQ(typed("ratio", "1e-5"), R"({"ratio": 1e-05})");
  EXPECT_EQ(typed("ratio", "1e20"), R"({"ratio": 100000000000000000000})");
  EXPECT_EQ(typed("ratio", "nan"), R"({"ratio": "nan"})");
  EXPECT_EQ(typed("precise", "Yes"), R"({"precise": true})");
  EXPECT_EQ(typed("precise", "off"), R"({"precise": false})");
  EXPECT_EQ(typed("precise", "maybe"), R"({"precise": "maybe"})");
  EXPECT_EQ(typed("opts", R"({"a":1,"b":[true,null],"c":1.0})"), R"({"opts": {"a": 1, "b": [true, null], "c": 1.0}})");
  EXPECT_EQ(typed("opts", "{not json"), R"({"opts": "{not json"})");
  EXPECT_EQ(typed("tags", R"(["x","é"])"), R"({"tags": ["x", "é"]})");
  EXPECT_EQ(typed("maybe", "5"), R"({"maybe": 5})");
  EXPECT_EQ(typed("multi", "x"), R"({"multi": "x"})");
  EXPECT_EQ(typed("multi", "12"), R"({"multi": 12})");
  EXPECT_EQ(typed("level", "2"), R"({"level": 2})");
  EXPECT_EQ(typed("unit", "c"), R"({"unit": "c"})");
  EXPECT_EQ(typed("unknown_param", "5"), R"({"unknown_param": "5"})");
  EXPECT_EQ(typed("location", "line1\n\"quoted\"\ttab"), R"({"location": "line1\n\"quoted\"\ttab"})");
}

TEST(ToolParser, UnknownToolKeepsStrings) {
  EXPECT_EQ(args_of("", "nope", "3"), R"({"p": "3"})");
  EXPECT_EQ(args_of("", "nope", "true"), R"({"p": "true"})");
  EXPECT_EQ(args_of("", "nope", "nil"), R"({"p": null})");
}

TEST(ToolParser, ParallelCallsQuotesAndWhitespace) {
  std::string text = block("<invoke name=\"get_weather\">\n<parameter name=\"location\">\n  Paris \n</parameter>\n</invoke>\n"
                           "<invoke name='run'><parameter name='code'>print(1)\n</parameter></invoke>"
                           "<invoke name= get_weather >\n</invoke>");
  auto r = parse_minimax_m2_tool_calls(text, kTools);
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].arguments, R"({"location": "Paris"})");
  EXPECT_EQ(r.calls[1].name, "run");
  EXPECT_EQ(r.calls[1].arguments, R"J({"code": "print(1)"})J");
  EXPECT_EQ(r.calls[2].name, "get_weather");
  EXPECT_EQ(r.calls[2].arguments, "{}");
  EXPECT_FALSE(r.content.has_value());
  EXPECT_NE(r.calls[0].id, r.calls[1].id);
}

TEST(ToolParser, Adversarial) {
  // Unterminated block: no calls, everything is content.
  std::string cut = "Hi " + std::string("<minimax:tool_call>\n") + invoke("run", {{"code", "x"}});
  auto r = parse_minimax_m2_tool_calls(cut, kTools);
  EXPECT_FALSE(r.tools_called);
  EXPECT_EQ(r.content, cut);
  // Truncated inside a tag.
  r = parse_minimax_m2_tool_calls("<minimax:tool_call><invoke name=\"run\"><param", kTools);
  EXPECT_FALSE(r.tools_called);
  // </parameter> inside a value truncates the value (no escaping exists).
  r = parse_minimax_m2_tool_calls(block("<invoke name=\"run\"><parameter name=\"code\">a</parameter>b</parameter></invoke>"), kTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"code": "a"})");
  // Nested angle brackets in a value.
  r = parse_minimax_m2_tool_calls(block(invoke("run", {{"code", "<div class=\"a\">x > y</div>"}})), kTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"code": "<div class=\"a\">x > y</div>"})");
  // Invoke without a closing tag inside a closed block is dropped; a block with no valid invoke
  // leaves the text as content.
  std::string noinv = "a" + block("<invoke name=\"run\"><parameter name=\"code\">x</parameter>");
  r = parse_minimax_m2_tool_calls(noinv, kTools);
  EXPECT_FALSE(r.tools_called);
  EXPECT_EQ(r.content, noinv);
  // Text after the block is discarded; a second block is parsed too.
  r = parse_minimax_m2_tool_calls("pre" + block(invoke("run", {{"code", "1"}})) + " after " + block(invoke("run", {{"code", "2"}})) + " tail", kTools);
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.content, "pre");
  EXPECT_EQ(r.calls[1].arguments, R"({"code": "2"})");
  // Duplicate parameter: the last value wins at the first position (Python dict).
  r = parse_minimax_m2_tool_calls(block(invoke("get_weather", {{"days", "1"}, {"location", "x"}, {"days", "2"}})), kTools);
  EXPECT_EQ(r.calls[0].arguments, R"({"days": 2, "location": "x"})");
  // Empty name: ^([^>]+) fails -> invoke ignored.
  r = parse_minimax_m2_tool_calls(block("<invoke name=></invoke>"), kTools);
  EXPECT_FALSE(r.tools_called);
}

TEST(ReasoningParser, MinimaxM2) {
  auto r = parse_minimax_m2_reasoning("Let me think.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(r.reasoning, "Let me think.\n");
  EXPECT_EQ(r.content, "\n\nThe answer is 4.");
  r = parse_minimax_m2_reasoning("still thinking");
  EXPECT_EQ(r.reasoning, "still thinking");
  EXPECT_FALSE(r.content.has_value());
  r = parse_minimax_m2_reasoning("<think>\nx</think>y</think>z");
  EXPECT_EQ(r.reasoning, "x");
  EXPECT_EQ(r.content, "y</think>z");
}

TEST(ReasoningParser, AppendThink) {
  auto r = parse_minimax_m2_append_think("x\n</think>\n\ny");
  EXPECT_FALSE(r.reasoning.has_value());
  EXPECT_EQ(r.content, "<think>x\n</think>\n\ny");
  r = parse_minimax_m2_append_think("<think>\nx</think>y");
  EXPECT_EQ(r.content, "<think>\nx</think>y");
}

namespace {

// Accumulates stream deltas into the non-streaming message shape.
json accumulate(const std::vector<json>& deltas) {
  std::string content, reasoning;
  json calls = json::array();
  for (auto& d : deltas) {
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("tool_calls")) {
      for (auto& c : d["tool_calls"]) {
        size_t i = c["index"].get<size_t>();
        if (i == calls.size()) {
          EXPECT_TRUE(c.contains("id")) << "first fragment of a call carries its id";
          calls.push_back({{"name", c["function"]["name"]}, {"arguments", ""}});
        }
        calls[i]["arguments"] = calls[i]["arguments"].get<std::string>() + c["function"]["arguments"].get<std::string>();
      }
    }
  }
  json m = {{"content", content.empty() ? json(nullptr) : json(content)},
            {"reasoning_content", reasoning.empty() ? json(nullptr) : json(reasoning)}};
  if (!calls.empty()) m["tool_calls"] = calls;
  return m;
}

json strip_ids(json m) {
  json out = {{"content", m["content"]}, {"reasoning_content", m["reasoning_content"]}};
  if (m.contains("tool_calls")) {
    json calls = json::array();
    for (auto& c : m["tool_calls"]) calls.push_back({{"name", c["function"]["name"]}, {"arguments", c["function"]["arguments"]}});
    out["tool_calls"] = calls;
  }
  return out;
}

std::vector<std::string> stream_corpus() {
  std::vector<std::string> v = {
      "", "plain answer", "Let me think.\n</think>\n\nThe answer is 4.",
      "<think>\nreasoning</think>\n\nanswer", "<think>", "<thi", "</think>", "a</th", "x</think>",
      "I'll call.\n</think>\n\nChecking." + block(invoke("get_weather", {{"location", "SF"}, {"days", "3"}})),
      "r</think>" + block(invoke("run", {{"code", "a</parameter>b"}})) + " trailing text",
      "r</think>pre <minimax:tool_call>\n<invoke name=\"run\">\n<parameter name=\"code\">unterminated",
      "r</think>" + block(invoke("get_weather", {{"location", "Zürich 😀"}, {"opts", "{\"a\": [1, 2.50]}"}}) + invoke("run", {})),
      "r</think><minimax:tool_ca", "r</think>x <minimax:tool_call></minimax:tool_call> y",
      "r</think>" + block(invoke("nope", {{"p", "1"}})) + "\n" + block(invoke("run", {{"code", "2"}})),
  };
  std::mt19937 rng(7);
  const char* parts[] = {"text ", "</think>", "<think>", "\n", "<minimax:tool_call>", "</minimax:tool_call>",
                         "<invoke name=\"run\">", "<invoke name='get_weather'>", "</invoke>", "<parameter name=\"code\">",
                         "<parameter name=\"days\">", "12", "</parameter>", "é", "<", ">", "null"};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    int n = 1 + rng() % 14;
    for (int k = 0; k < n; ++k) s += parts[rng() % (sizeof parts / sizeof *parts)];
    v.push_back(s);
  }
  return v;
}

}  // namespace

TEST(OutputStream, ByteAtATimeEqualsNonStreaming) {
  using R = OutputParsers::Reasoning;
  size_t n = 0;
  for (R mode : {R::MinimaxM2, R::MinimaxM2AppendThink, R::None}) {
    for (bool tools : {true, false}) {
      OutputParsers p;
      p.reasoning = mode;
      p.tool_calls = tools;
      p.tools = kTools;
      for (const std::string& text : stream_corpus()) {
        SCOPED_TRACE(json(text).dump());
        json expect = strip_ids(parse_chat_output(text, p));
        ChatOutputStream s(p);
        std::vector<json> deltas;
        for (char c : text)
          for (auto& d : s.feed(std::string_view(&c, 1))) deltas.push_back(d);
        for (auto& d : s.finish()) deltas.push_back(d);
        EXPECT_EQ(accumulate(deltas).dump(), expect.dump());
        // Random chunking gives the same result.
        ChatOutputStream s2(p);
        std::vector<json> d2;
        std::mt19937 rng(static_cast<unsigned>(text.size()));
        for (size_t i = 0; i < text.size();) {
          size_t len = 1 + rng() % 9;
          for (auto& d : s2.feed(std::string_view(text).substr(i, len))) d2.push_back(d);
          i += len;
        }
        for (auto& d : s2.finish()) d2.push_back(d);
        EXPECT_EQ(accumulate(d2).dump(), expect.dump());
        ++n;
      }
    }
  }
  EXPECT_GT(n, 1500u);
}

TEST(OutputStream, DeltasAreOpenAiShaped) {
  OutputParsers p;
  p.tools = kTools;
  ChatOutputStream s(p);
  std::vector<json> all;
  std::string text = "hmm</think>\n\nOK" + block(invoke("get_weather", {{"location", "SF"}}));
  for (auto& d : s.feed(text)) all.push_back(d);
  for (auto& d : s.finish()) all.push_back(d);
  ASSERT_GE(all.size(), 3u);
  EXPECT_EQ(all[0].dump(), R"({"reasoning_content":"hmm"})");
  EXPECT_EQ(all[1].dump(), R"({"content":"\n\nOK"})");
  const json& tc = all[2]["tool_calls"];
  EXPECT_EQ(tc[0]["index"], 0);
  EXPECT_EQ(tc[0]["type"], "function");
  EXPECT_EQ(tc[0]["function"]["name"], "get_weather");
  EXPECT_EQ(tc[0]["function"]["arguments"], "");
  EXPECT_EQ(tc[1]["function"]["arguments"], "{\"location\": \"SF\"");
  EXPECT_EQ(tc[2]["function"]["arguments"], "}");
}
