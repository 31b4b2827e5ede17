// Outcomes of one scored item: correct / wrong / no_answer / truncated / error, with reasoning in
// its own field or before </think>, and an unclosed <think> never scored.
#include <gtest/gtest.h>

#include "eval/tasks.h"

namespace mixq::eval {
namespace {

Completion reply(std::string content, std::string finish = "stop", std::string reasoning = "") {
  Completion c;
  c.content = std::move(content);
  c.finish_reason = std::move(finish);
  c.reasoning = std::move(reasoning);
  return c;
}

TEST(ScoreItem, OutcomesForAGsm8kItem) {
  Task t;
  t.name = "gsm8k";
  t.kind = TaskKind::Gsm8k;
  TaskItem it;
  it.id = "gsm8k/0";
  it.gold = "18";
  CodeLimits lim;
  EXPECT_EQ(score_item(t, it, reply("The final answer is 18"), lim, 0).outcome, "correct");
  EXPECT_EQ(score_item(t, it, reply("The final answer is 17"), lim, 0).outcome, "wrong");
  // The reasoning field is never scored, whatever it says.
  EXPECT_EQ(score_item(t, it, reply("The final answer is 17", "stop", "The final answer is 18"), lim, 0).outcome, "wrong");
  // Only the text after </think> counts.
  ItemScore s = score_item(t, it, reply("The final answer is 17\n</think>\nThe final answer is 18"), lim, 0);
  EXPECT_EQ(s.outcome, "correct");
  EXPECT_EQ(s.extracted, "18");
  // Cut by max_tokens: its own outcome, even when a number could be extracted.
  s = score_item(t, it, reply("The final answer is 18 and more", "length"), lim, 0);
  EXPECT_EQ(s.outcome, "truncated");
  // An unclosed <think>: nothing to score.
  s = score_item(t, it, reply("<think>the final answer is 18 I guess"), lim, 0);
  EXPECT_EQ(s.outcome, "no_answer");
  EXPECT_TRUE(s.detail.value("unclosed_think", false));
  EXPECT_EQ(score_item(t, it, reply(""), lim, 0).outcome, "no_answer");
  Completion failed;
  failed.error = "HTTP 503: overloaded";
  s = score_item(t, it, failed, lim, 0);
  EXPECT_EQ(s.outcome, "error");
  EXPECT_EQ(s.detail["error"], "HTTP 503: overloaded");
}

TEST(ScoreItem, ParsesReasoningFromEitherFieldName) {
  nlohmann::json a = {{"choices", {{{"message", {{"content", "x"}, {"reasoning_content", "r1"}}}, {"finish_reason", "stop"}}}},
                      {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 4}}}};
  Completion c = parse_chat_response(a);
  EXPECT_EQ(c.content, "x");
  EXPECT_EQ(c.reasoning, "r1");
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(c.completion_tokens, 4);
  nlohmann::json b = {{"choices", {{{"message", {{"content", nullptr}, {"reasoning", "r2"}}}, {"finish_reason", "length"}}}}};
  c = parse_chat_response(b);
  EXPECT_EQ(c.content, "");
  EXPECT_EQ(c.reasoning, "r2");
  EXPECT_TRUE(parse_chat_response(nlohmann::json::object()).error.size() > 0);
}

}  // namespace
}  // namespace mixq::eval
