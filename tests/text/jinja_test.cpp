// Jinja interpreter tests: feature goldens rendered by @huggingface/jinja
// (tests/js/jinja_cases.js -> tests/golden/text/jinja_features.json), error positions, and the
// MiniMax-M2 worked examples of docs minimax-m2.md §6.4.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "text/chat.h"
#include "text/jinja.h"
#include "util/error.h"

using mixq::text::jinja::Template;
using mixq::text::jinja::TemplateError;
using json = nlohmann::ordered_json;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
std::string render(const std::string& src, const json& ctx = json::object()) { return Template(src).render(ctx); }
}  // namespace

TEST(Jinja, FeatureGoldensFromHuggingfaceJinja) {
  auto golden = json::parse(slurp(std::string(MIXQ_SOURCE_DIR) + "/tests/golden/text/jinja_features.json"));
  ASSERT_GE(golden.size(), 40u);
  for (auto& c : golden) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::string out, err;
    try {
      out = Template(c["template"].get<std::string>()).render(c["context"]);
    } catch (const TemplateError& e) {
      err = e.what();
    }
    if (c.contains("output")) {
      EXPECT_EQ(err, "");
      EXPECT_EQ(out, c["output"].get<std::string>());
    } else {
      EXPECT_NE(err, "") << "expected an error like: " << c["error"];
    }
  }
}

TEST(Jinja, SyntaxErrorsPointAtLineAndColumn) {
  try {
    Template("line one\n{% if x %}\n  {{ foo( }}\n{% endif %}");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.col, 11);
  }
  try {
    Template("{% for x in xs %}no end");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("endfor"), std::string::npos) << e.what();
  }
}

TEST(Jinja, RuntimeErrorsPointAtTheExpression) {
  try {
    render("ok\n  {{ raise_exception('No tools here!') }}");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.col, 6);
    EXPECT_NE(std::string(e.what()).find("No tools here!"), std::string::npos);
  }
  try {
    render("{{ 'a' ~ none }}");
    FAIL() << "no error";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.line, 1);
  }
}

TEST(Jinja, UndefinedIsFalsyAndChainsQuietly) {
  EXPECT_EQ(render("{% if sys.current_date %}x{% endif %}[{{ sys.current_date }}]", {{"sys", json::object()}}), "[]");
  EXPECT_EQ(render("{{ a.b.c is defined }}"), "false");
}

TEST(Jinja, TrimAndLstripBlocksAsTransformers) {
  EXPECT_EQ(render("{% for x in [1, 2] %}\n  {% if x %}\n<{{ x }}>\n  {% endif %}\n{% endfor %}\n"), "<1>\n<2>\n");
}

TEST(Chat, MiniMaxWorkedExamples) {
  auto tmpl = mixq::text::ChatTemplate::load(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  // §6.4 (a)
  EXPECT_EQ(tmpl->render(json::parse(R"({"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true})")),
            "]~!b[]~b]system\nYou are a helpful assistant.[e~[\n]~b]user\nhi[e~[\n]~b]ai\n<think>\n");
  // §6.4 (b), with the tool-call arguments given as a JSON string (vLLM parses them first).
  std::string out = tmpl->render(json::parse(R"({"messages": [
      {"role": "user", "content": "weather?"},
      {"role": "assistant", "reasoning_content": "I should check.", "content": "Let me check.",
       "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\": \"SF\", \"days\": 3}"}}]},
      {"role": "tool", "content": "{\"t\": 20}"}]})"));
  EXPECT_NE(out.find("]~b]ai\n<think>\nI should check.\n</think>\n\nLet me check.<minimax:tool_call>\n<invoke name=\"get_weather\">\n"
                     "<parameter name=\"location\">SF</parameter>\n<parameter name=\"days\">3</parameter>\n</invoke>\n"
                     "</minimax:tool_call>[e~[\n]~b]tool\n<response>{\"t\": 20}</response>[e~[\n"),
            std::string::npos)
      << out;
  // Reasoning before the last user turn is dropped.
  out = tmpl->render(json::parse(R"({"messages": [
      {"role": "user", "content": "a"}, {"role": "assistant", "content": "<think>\nold\n</think>\n\nA"},
      {"role": "user", "content": "b"}]})"));
  EXPECT_EQ(out.find("old"), std::string::npos) << out;
  EXPECT_NE(out.find("]~b]ai\nA[e~[\n"), std::string::npos) << out;
}

TEST(Chat, BadRequestsAreInputErrors) {
  auto tmpl = mixq::text::ChatTemplate::load(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  EXPECT_THROW(tmpl->render(json::parse(R"({"msgs": []})")), mixq::InputError);
  EXPECT_THROW(tmpl->render(json::parse(
                   R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{bad"}}]}]})")),
               mixq::InputError);
  EXPECT_THROW(mixq::text::ChatTemplate::load("/nonexistent"), mixq::InputError);
}
