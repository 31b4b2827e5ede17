// Reasoning parsers for MiniMax-M2 outputs (docs minimax-m2.md §7.3). The prompt ends inside
// <think>, so the generation normally starts with reasoning and closes it with </think>; an
// optional leading "<think>" (M2.5 sometimes re-emits it) is tolerated by both parsers.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mixq::text {

struct ReasoningResult {
  std::optional<std::string> reasoning;
  std::optional<std::string> content;
};

// `minimax_m2`: reasoning = text before the first </think>, content = text after it; without
// </think> everything is reasoning and content is None.
ReasoningResult parse_minimax_m2_reasoning(std::string_view text);
// `minimax_m2_append_think`: no separation; content = "<think>" + output (not doubled when the
// output already starts with <think>), reasoning None.
ReasoningResult parse_minimax_m2_append_think(std::string_view text);

struct ReasoningDelta {
  std::string reasoning, content;
  bool empty() const { return reasoning.empty() && content.empty(); }
};

// Streaming versions: deltas concatenate to the non-streaming result, whatever the chunking.
class ReasoningStream {
 public:
  enum class Mode { MinimaxM2, AppendThink };
  explicit ReasoningStream(Mode m) : mode_(m) {}
  ReasoningDelta feed(std::string_view text);
  ReasoningDelta finish();

 private:
  ReasoningDelta advance(bool final);
  Mode mode_;
  std::string buf_;       // received text not yet classified
  bool prefix_done_ = false;
  bool ended_ = false;    // </think> seen (MinimaxM2)
};

}  // namespace mixq::text
