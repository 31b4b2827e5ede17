#include "server/choice_output.h"

#include "text/tokenizer.h"

namespace mixq::server {

using Json = nlohmann::ordered_json;

ChoiceOutput::ChoiceOutput(const GenRequest& r, const text::Tokenizer& tk)
    : req_(r), tk_(tk), detok_(tk, r.skip_special_tokens) {
  for (const auto& s : r.stop) hold_ = std::max(hold_, s.size() - 1);
  if (r.chat && r.stream) chat_stream_ = std::make_unique<text::ChatOutputStream>(r.parsers);
}

bool ChoiceOutput::add_token(const TokenEvent& ev) {
  if (finished_ || stopped_by_string_) return false;
  if (req_.logprobs) {
    lp_pending_.push_back(ev);
    lp_all_.push_back(ev);
  }
  if (ev.stop_token) return true;  // an end/stop id: not part of the text
  text_ += detok_.step(ev.id);
  // Earliest stop string match in the new text (a match may start in the previous tail).
  size_t best = std::string::npos;
  std::string which;
  const size_t from = checked_ > hold_ ? checked_ - hold_ : 0;
  for (const auto& s : req_.stop) {
    const size_t at = text_.find(s, from);
    if (at != std::string::npos && at < best) {
      best = at;
      which = s;
    }
  }
  checked_ = text_.size();
  if (best != std::string::npos) {
    text_.resize(req_.include_stop_str ? best + which.size() : best);
    stop_string_ = which;
    stopped_by_string_ = true;
    return false;
  }
  if (req_.stream) {
    // Hold back what could still become the start of a stop string, on a character boundary.
    size_t upto = text_.size() > hold_ ? text_.size() - hold_ : 0;
    while (upto > released_ && upto < text_.size() && (uint8_t(text_[upto]) & 0xC0) == 0x80) --upto;
    if (upto > released_) release(upto);
  }
  return true;
}

void ChoiceOutput::release(size_t upto) {
  const std::string piece = text_.substr(released_, upto - released_);
  released_ = upto;
  stream_text(piece, false);
}

void ChoiceOutput::stream_text(const std::string& piece, bool final) {
  if (!req_.chat) {
    if (!piece.empty()) deltas_.push_back({{"text", piece}});
    return;
  }
  std::vector<Json> ds = chat_stream_->feed(piece);
  if (final) {
    auto rest = chat_stream_->finish();
    ds.insert(ds.end(), rest.begin(), rest.end());
  }
  for (auto& d : ds) {
    if (d.contains("reasoning_content")) d["reasoning"] = d["reasoning_content"];
    if (d.contains("tool_calls")) {
      tools_called_ = true;
      if (!req_.parallel_tool_calls) {
        Json keep = Json::array();
        for (const auto& c : d["tool_calls"])
          if (c.value("index", 0) == 0) keep.push_back(c);
        if (keep.empty()) continue;
        d["tool_calls"] = keep;
      }
    }
    deltas_.push_back(std::move(d));
  }
}

void ChoiceOutput::finish(const SeqResult& r) {
  if (finished_) return;
  result_ = r;
  if (!stopped_by_string_) text_ += detok_.flush();
  finished_ = true;
  if (req_.stream) {
    const std::string piece = text_.size() > released_ ? text_.substr(released_) : std::string();
    released_ = text_.size();
    stream_text(piece, true);
  } else if (req_.chat) {
    tools_called_ = !message()["tool_calls"].empty();
  }
}

std::vector<Json> ChoiceOutput::take_deltas() {
  std::vector<Json> out;
  out.swap(deltas_);
  return out;
}

Json ChoiceOutput::logprob_entry(const TokenEvent& ev) const {
  auto entry = [&](int32_t id, float lp) {
    const std::string t = tk_.decode({id}, false);
    Json bytes = Json::array();
    for (unsigned char c : t) bytes.push_back(int(c));
    return Json{{"token", t}, {"logprob", lp}, {"bytes", bytes}};
  };
  Json e = entry(ev.id, ev.logprob);
  Json top = Json::array();
  for (const auto& [id, lp] : ev.top) top.push_back(entry(id, lp));
  e["top_logprobs"] = top;
  return e;
}

namespace {
// Completions' logprobs shape: parallel lists.
Json completion_logprobs(const std::vector<TokenEvent>& evs, const text::Tokenizer& tk) {
  Json tokens = Json::array(), lps = Json::array(), tops = Json::array();
  for (const auto& ev : evs) {
    tokens.push_back(tk.decode({ev.id}, false));
    lps.push_back(ev.logprob);
    Json t = Json::object();
    for (const auto& [id, lp] : ev.top) t[tk.decode({id}, false)] = lp;
    tops.push_back(t);
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
}
}  // namespace

Json ChoiceOutput::take_logprobs() {
  if (!req_.logprobs) return nullptr;
  std::vector<TokenEvent> evs;
  evs.swap(lp_pending_);
  if (!req_.chat) return completion_logprobs(evs, tk_);
  Json content = Json::array();
  for (const auto& ev : evs) content.push_back(logprob_entry(ev));
  return {{"content", content}};
}

Json ChoiceOutput::all_logprobs() const {
  if (!req_.logprobs) return nullptr;
  if (!req_.chat) return completion_logprobs(lp_all_, tk_);
  Json content = Json::array();
  for (const auto& ev : lp_all_) content.push_back(logprob_entry(ev));
  return {{"content", content}};
}

Json ChoiceOutput::message() const {
  Json m = text::parse_chat_output(text_, req_.parsers);
  if (m.contains("tool_calls") && !req_.parallel_tool_calls && m["tool_calls"].size() > 1) {
    Json first = Json::array({m["tool_calls"][0]});
    m["tool_calls"] = first;
  }
  Json out = {{"role", "assistant"}};
  out["content"] = m.value("content", Json(nullptr));
  out["reasoning"] = m.value("reasoning_content", Json(nullptr));
  out["reasoning_content"] = out["reasoning"];
  out["tool_calls"] = m.contains("tool_calls") ? m["tool_calls"] : Json::array();
  return out;
}

std::string ChoiceOutput::finish_reason() const {
  if (tools_called_ && result_.finish_reason != "abort") return "tool_calls";
  if (stopped_by_string_) return "stop";
  return result_.finish_reason.empty() ? "stop" : result_.finish_reason;
}

Json ChoiceOutput::stop_reason() const {
  if (stopped_by_string_) return stop_string_;
  // vLLM: the stop token id, except the model's end token, which reports null.
  if (result_.stop_token >= 0 &&
      std::find(req_.params.eos_ids.begin(), req_.params.eos_ids.end(), result_.stop_token) == req_.params.eos_ids.end())
    return result_.stop_token;
  return nullptr;
}

}  // namespace mixq::server
