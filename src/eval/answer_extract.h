// Answer extraction for the generative tasks, robust to reasoning models:
//  - the scored text is what follows the last `</think>` (MiniMax-M2 opens `<think>` in the
//    prompt, so only the closing tag appears in the output; lm-eval#3216's split); a separate
//    reasoning field (reasoning_content / reasoning) is never scored;
//  - a `<think>` that never closes means the model ran out of room while thinking (lighteval#869):
//    no answer, never someone else's wrong answer;
//  - answers may be written in the task's own format, in \boxed{...} or in **bold**.
// Each task's chain of formats is documented at its function and in docs/eval.md.
#pragma once
#include <optional>
#include <string>

namespace mixq::eval {

struct ScoredText {
  std::string text;             // the part after the last </think> (all of it when there is none)
  bool unclosed_think = false;  // "<think>" with no "</think>" after it: nothing to score
};
ScoredText scored_text(const std::string& content);

// The content of the last \boxed{...} / \fbox{...} (balanced braces), if any.
std::optional<std::string> last_boxed(const std::string& text);

// GSM8K: "The final answer is N" (lm-eval gsm8k_cot_llama, the prompt used), then "#### N"
// (lm-eval gsm8k), "Answer: N" (simple-evals MGSM), \boxed{N}, the last **bold** number, and last
// the flexible rule (the last number in the text, lm-eval's flexible-extract). `rule` names which.
std::optional<std::string> extract_gsm8k(const std::string& text, std::string* rule = nullptr);
// Numbers compare after dropping ",", "$", a trailing "." and trailing zeros after a decimal point.
std::string normalize_number(std::string s);
bool gsm8k_match(const std::string& predicted, const std::string& gold);

// MMLU: simple-evals' normalize_response (drops "**", "$\boxed{", "\text", "{", "}", "$"... )
// then its regex (?i)Answer[ \t]*:[ \t]*\$?([A-D])\$? (first match); then lm-eval mmlu_llama's
// "The best answer is X", "The final answer is X", \boxed{X}, and a response that is only a
// letter ("B", "(B)", "B)", "B.").
std::optional<char> extract_mmlu(const std::string& text);

// MATH-500: lm-eval minerva's "The final answer is X. I hope it is correct." when present, else
// the last "Answer:" line (simple-evals' prompt asks for it), else the last \boxed{} (what most
// reasoning models write anyway).
std::optional<std::string> extract_math(const std::string& text);

}  // namespace mixq::eval
