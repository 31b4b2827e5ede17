// Scorers on known answers: GSM8K gold answers in the three prompt formats, MMLU letters in the
// anchors' formats, MATH-500 golds against themselves and the stated equivalent forms, the
// </think> split, code extraction.
#include "eval/answer_extract.h"

#include <gtest/gtest.h>

#include "eval/code_extract.h"
#include "eval/math_equiv.h"
#include "eval/task_data.h"

namespace mixq::eval {
namespace {

const std::string kData = std::string(MIXQ_SOURCE_DIR) + "/data/eval";

std::string gsm8k_gold(const nlohmann::json& row) {
  std::string a = row["answer"];
  return normalize_number(a.substr(a.rfind("####") + 4));
}

TEST(Gsm8k, GoldAnswersInTheThreePromptFormatsExtractToHundredPercent) {
  auto rows = read_jsonl(kData + "/gsm8k/test.jsonl");
  ASSERT_EQ(rows.size(), 1319u);
  int ok[3] = {0, 0, 0};
  for (const auto& r : rows) {
    const std::string gold = gsm8k_gold(r);
    // lm-eval gsm8k: the dataset's own solution text, ending in "#### N" (with <<calc>> noise).
    std::string s1 = r["answer"];
    // lm-eval gsm8k_cot_llama: "The final answer is N".
    std::string s2 = "Let me work it out step by step: 3 + 4 = 7, then 12 apples.\nThe final answer is " + gold;
    // simple-evals MGSM: "Answer: N" on the last line.
    std::string s3 = "Some reasoning with 42 and 1,000 numbers.\nAnswer: " + gold;
    std::string rule;
    ok[0] += extract_gsm8k(s1, &rule).value_or("") == gold && gsm8k_match(*extract_gsm8k(s1), gold);
    ok[1] += gsm8k_match(extract_gsm8k(s2).value_or(""), gold);
    ok[2] += gsm8k_match(extract_gsm8k(s3).value_or(""), gold);
  }
  EXPECT_EQ(ok[0], 1319);
  EXPECT_EQ(ok[1], 1319);
  EXPECT_EQ(ok[2], 1319);
}

TEST(Gsm8k, BoxedBoldThinkingAndNumberForms) {
  std::string rule;
  EXPECT_EQ(extract_gsm8k("so the total is \\boxed{1,250} dollars", &rule).value(), "1250");
  EXPECT_EQ(rule, "boxed");
  EXPECT_EQ(extract_gsm8k("The answer is **$18.00**.", &rule).value(), "18");
  EXPECT_EQ(rule, "bold");
  EXPECT_EQ(extract_gsm8k("I have 3 cats and 5 dogs, so 8", &rule).value(), "8");
  EXPECT_EQ(rule, "flexible-last-number");
  EXPECT_TRUE(gsm8k_match("18.0", "18"));
  EXPECT_TRUE(gsm8k_match("$1,000", "1000"));
  EXPECT_FALSE(gsm8k_match("17", "18"));
  EXPECT_FALSE(extract_gsm8k("no digits here").has_value());
  // Reasoning before </think> is never scored: only what follows the last one.
  ScoredText st = scored_text("The final answer is 5 maybe\n</think>\nThe final answer is 7");
  EXPECT_EQ(extract_gsm8k(st.text).value(), "7");
  EXPECT_TRUE(scored_text("<think>still thinking about 12").unclosed_think);
  EXPECT_FALSE(scored_text("plain answer 3").unclosed_think);
}

TEST(Mmlu, LettersInEveryFormatOfTheAnchorsNormalisation) {
  const std::pair<const char*, char> cases[] = {
    {"Thinking...\nAnswer: B", 'B'},
    {"Answer: $C$", 'C'},
    {"**Answer:** D", 'D'},
    {"**Answer: A**", 'A'},
    {"Answer: \\boxed{C}", 'C'},
    {"Answer: $\\boxed{D}$", 'D'},
    {"Answer: \\text{B}", 'B'},
    {"Answer: $\\text{A}$", 'A'},
    {"answer : b", 'B'},
    {"Answer:(C)", 'C'},
    {"The best answer is D", 'D'},
    {"The best answer is (A).", 'A'},
    {"The final answer is B", 'B'},
    {"So we pick \\boxed{A}", 'A'},
    {"\\boxed{\\text{C}}", 'C'},
    {"B", 'B'},
    {"(D)", 'D'},
    {"C.", 'C'},
    {"A)", 'A'},
  };
  for (const auto& [text, want] : cases) {
    auto got = extract_mmlu(text);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_EQ(*got, want) << text;
  }
  // First "Answer:" wins (simple-evals uses re.search).
  EXPECT_EQ(extract_mmlu("Answer: A\nAnswer: B").value(), 'A');
  EXPECT_FALSE(extract_mmlu("Answer: because it is obvious").has_value());
  EXPECT_FALSE(extract_mmlu("I am not sure.").has_value());
}

TEST(Math500, GoldAnswersMatchThemselvesAfterNormalisation) {
  auto rows = read_jsonl(kData + "/math500/math500.jsonl");
  ASSERT_EQ(rows.size(), 500u);
  int ok = 0, via_answer = 0, via_boxed = 0;
  for (const auto& r : rows) {
    std::string gold = r["answer"];
    ok += math_equal(gold, gold);
    via_answer += math_equal(extract_math("work...\nAnswer: " + gold).value_or(""), gold);
    via_boxed += math_equal(extract_math("so it is $\\boxed{" + gold + "}$.").value_or(""), gold);
  }
  EXPECT_EQ(ok, 500);
  EXPECT_EQ(via_answer, 500);
  EXPECT_EQ(via_boxed, 500);
}

TEST(Math500, StatedEquivalentForms) {
  EXPECT_TRUE(math_equal("\\frac12", "\\frac{1}{2}"));
  EXPECT_TRUE(math_equal("\\dfrac{1}{2}", "\\frac{1}{2}"));
  EXPECT_TRUE(math_equal("0.5", "\\frac{1}{2}"));
  EXPECT_TRUE(math_equal("1/2", "\\frac{1}{2}"));
  EXPECT_TRUE(math_equal("x = 3", "3"));
  EXPECT_TRUE(math_equal("10\\text{ cm}", "10"));
  EXPECT_TRUE(math_equal("10 \\text{cm}", "10"));
  EXPECT_TRUE(math_equal("10\\mbox{ inches}", "10"));
  EXPECT_TRUE(math_equal("90^\\circ", "90"));
  EXPECT_TRUE(math_equal("50\\%", "50"));
  EXPECT_TRUE(math_equal("1,000", "1000"));
  EXPECT_TRUE(math_equal("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"));
  EXPECT_TRUE(math_equal("\\sqrt3", "\\sqrt{3}"));
  EXPECT_TRUE(math_equal("-\\frac{3}{4}", "-0.75"));
  EXPECT_TRUE(math_equal("\\text{(B)}", "(B)"));
  EXPECT_FALSE(math_equal("\\frac{1}{3}", "\\frac{1}{2}"));
  EXPECT_FALSE(math_equal("(1,2)", "(2,1)"));
  EXPECT_FALSE(math_equal("2x+2", "2(x+1)"));  // no symbolic algebra, stated in math_equiv.h
  EXPECT_FALSE(math_equal("", "0"));
}

TEST(Math500, ExtractionOrder) {
  EXPECT_EQ(extract_math("First Answer: 3\nthen\nAnswer: $\\frac{1}{2}$.").value(), "\\frac{1}{2}");
  EXPECT_EQ(extract_math("we get \\boxed{\\frac{\\sqrt{3}}{2}} as the result").value(), "\\frac{\\sqrt{3}}{2}");
  EXPECT_EQ(extract_math("Final Answer: The final answer is $5$. I hope it is correct.").value(), "5");
  EXPECT_FALSE(extract_math("nothing").has_value());
}

TEST(CodeExtract, PicksTheBlockDefiningTheEntryPoint) {
  std::string text = "Here:\n```python\nimport math\n```\nand\n```python\ndef f(x):\n    return x\n```\nDone.";
  EXPECT_EQ(extract_code(text, "f"), "def f(x):\n    return x\n");
  EXPECT_EQ(extract_code("```\ndef g():\n  pass\n", "g"), "def g():\n  pass\n");  // unclosed fence
  EXPECT_EQ(extract_code("def h(): return 1", "h"), "def h(): return 1");
  // A body only: the prompt goes in front.
  EXPECT_EQ(code_program("    return 1\n", "def k():\n", "k"), "def k():\n    return 1\n");
  EXPECT_EQ(code_program("def k():\n    return 2\n", "def k():\n", "k"), "def k():\n    return 2\n");
}

}  // namespace
}  // namespace mixq::eval
