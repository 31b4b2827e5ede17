#include "text/reasoning_parser.h"

namespace mixq::text {

namespace {
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// Length of the optional leading "<think>" (+ one "\n") to drop.
size_t leading_think(std::string_view s) {
  if (s.substr(0, kOpen.size()) != kOpen) return 0;
  return kOpen.size() + (s.size() > kOpen.size() && s[kOpen.size()] == '\n' ? 1 : 0);
}

size_t partial_suffix(std::string_view s, std::string_view tok) {
  for (size_t n = std::min(s.size(), tok.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tok.substr(0, n)) return n;
  return 0;
}
}  // namespace

ReasoningResult parse_minimax_m2_reasoning(std::string_view text) {
  text.remove_prefix(leading_think(text));
  ReasoningResult r;
  size_t end = text.find(kClose);
  if (end == std::string_view::npos) {
    r.reasoning = std::string(text);
    return r;
  }
  r.reasoning = std::string(text.substr(0, end));
  r.content = std::string(text.substr(end + kClose.size()));
  return r;
}

ReasoningResult parse_minimax_m2_append_think(std::string_view text) {
  ReasoningResult r;
  r.content = text.substr(0, kOpen.size()) == kOpen ? std::string(text) : std::string(kOpen) + std::string(text);
  return r;
}

ReasoningDelta ReasoningStream::feed(std::string_view text) {
  buf_.append(text);
  return advance(false);
}

ReasoningDelta ReasoningStream::finish() { return advance(true); }

ReasoningDelta ReasoningStream::advance(bool final) {
  ReasoningDelta d;
  if (!prefix_done_) {
    // Decide about a leading "<think>\n" only once enough text has arrived.
    std::string_view b(buf_);
    bool could_grow = !final && (kOpen.substr(0, std::min(b.size(), kOpen.size())) == b.substr(0, std::min(b.size(), kOpen.size()))) &&
                      b.size() <= kOpen.size();
    if (could_grow) return d;
    size_t drop = leading_think(b);
    if (mode_ == Mode::AppendThink) {
      d.content = drop ? "" : std::string(kOpen);
      drop = 0;  // keep the model's own <think> (and newline) as content
    }
    buf_.erase(0, drop);
    prefix_done_ = true;
  }
  if (mode_ == Mode::AppendThink) {
    d.content += buf_;
    buf_.clear();
    return d;
  }
  if (ended_) {
    d.content = buf_;
    buf_.clear();
    return d;
  }
  size_t end = buf_.find(kClose);
  if (end != std::string::npos) {
    d.reasoning = buf_.substr(0, end);
    d.content = buf_.substr(end + kClose.size());
    buf_.clear();
    ended_ = true;
    return d;
  }
  size_t hold = final ? 0 : partial_suffix(buf_, kClose);
  d.reasoning = buf_.substr(0, buf_.size() - hold);
  buf_.erase(0, buf_.size() - hold);
  return d;
}

}  // namespace mixq::text
