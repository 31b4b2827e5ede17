// RULER-style needle in a haystack (lm-eval's ruler niah_single_1 shape): the haystack is RULER's
// noise ("The grass is green. The sky is blue. ...") repeated until the prompt is `length` tokens
// by the served model's tokenizer; the needle "One of the special magic numbers for {key} is:
// {value}." sits at `depth` percent of it (at a sentence boundary); the question asks for the
// number. Score: the value appears in the answer (RULER's string_match_all with one needle).
// Keys and 7-digit values come from --seed, so a run is reproducible.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mixq::eval {

struct NeedleItem {
  std::string id, prompt, key, value;
  int64_t length = 0, tokens = 0;  // requested and measured prompt tokens
  double depth = 0;
};

using TokenCounter = std::function<size_t(const std::string&)>;

std::vector<NeedleItem> build_needle_items(const std::vector<int64_t>& lengths, const std::vector<double>& depths,
                                           uint64_t seed, const TokenCounter& count);

}  // namespace mixq::eval
