// libFuzzer target over mixq serve's request path (server/request_parse.cpp, choice_output.cpp)
// with the bundled model's tokenizer and chat template: any body must parse into a request or
// raise ApiError / InputError (a 4xx), never crash or hang. For a request that parses, the output
// side is checked differentially: the same generated tokens (taken from the input bytes, special
// <think> / tool-call tokens included) fed to a streaming and a non-streaming ChoiceOutput must
// give the same content, reasoning and tool calls.
// fuzz-sources: src/server/request_parse.cpp src/server/choice_output.cpp src/text/added_vocab.cpp src/text/base64.cpp src/text/bpe.cpp src/text/byte_level.cpp src/text/chat.cpp src/text/chat_output.cpp src/text/decode_stream.cpp src/text/decoder.cpp src/text/jinja_builtins.cpp src/text/jinja_interp.cpp src/text/jinja_lexer.cpp src/text/jinja_parser.cpp src/text/jinja_value.cpp src/text/normalizer.cpp src/text/pre_tokenizer.cpp src/text/py_json.cpp src/text/reasoning_parser.cpp src/text/regex.cpp src/text/tokenizer.cpp src/text/tool_parser.cpp src/text/unicode.cpp src/text/utf8.cpp src/util/error.cpp src/util/file_util.cpp src/util/log.cpp
// fuzz-libs: -lpcre2-8 -licuuc -licui18n
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/api_error.h"
#include "server/choice_output.h"
#include "server/gen_request.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {

using Json = nlohmann::ordered_json;
using namespace mixq;

struct Fixture {
  std::unique_ptr<text::Tokenizer> tk = text::Tokenizer::load("models/tiny-minimax-m2");
  std::unique_ptr<text::ChatTemplate> tmpl = text::ChatTemplate::load("models/tiny-minimax-m2");
  server::ServingContext ctx;
  Fixture() {
    ctx.served_name = "tiny";
    ctx.tokenizer = tk.get();
    ctx.chat_template = tmpl.get();
    ctx.eos_ids = {6137};
    ctx.max_model_len = 2048;
    ctx.auto_tool_choice = ctx.tool_parser = true;
    ctx.reasoning = text::OutputParsers::Reasoning::MinimaxM2;
  }
};

// Generated tokens from the input: low bytes pick the added tokens (<think>, </think>,
// <minimax:tool_call>, the end token...), the rest ordinary vocabulary.
std::vector<int32_t> tokens_of(const uint8_t* d, size_t n) {
  std::vector<int32_t> t;
  for (size_t i = 0; i < n && t.size() < 96; ++i) t.push_back(d[i] < 24 ? 6135 + d[i] % 9 : int32_t(d[i]) * 23 % 6135);
  return t;
}

void differential(const server::GenRequest& parsed, const text::Tokenizer& tk, const std::vector<int32_t>& toks) {
  server::GenRequest whole = parsed, streamed = parsed;
  whole.stream = false;
  streamed.stream = true;
  server::ChoiceOutput a(whole, tk), b(streamed, tk);
  for (int32_t id : toks) {
    TokenEvent ev;
    ev.id = id;
    const bool ga = a.add_token(ev), gb = b.add_token(ev);
    if (ga != gb) __builtin_trap();
    if (!ga) break;
  }
  SeqResult r;
  r.finish_reason = "length";
  a.finish(r);
  b.finish(r);
  std::string content, reasoning, args;
  const auto deltas = b.take_deltas();
  if (!parsed.chat) {  // completions: plain text pieces
    for (const auto& d : deltas) content += d["text"].get<std::string>();
    if (content != a.text() || a.finish_reason() != b.finish_reason()) __builtin_trap();
    return;
  }
  for (const auto& d : deltas) {
    if (d.contains("content") && d["content"].is_string()) content += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("tool_calls"))
      for (const auto& c : d["tool_calls"]) args += c["function"].value("arguments", "");
  }
  const Json m = a.message();
  std::string want_args;
  for (const auto& c : m["tool_calls"]) want_args += c["function"]["arguments"].get<std::string>();
  if (content != (m["content"].is_string() ? m["content"].get<std::string>() : "")) __builtin_trap();
  if (reasoning != (m["reasoning_content"].is_string() ? m["reasoning_content"].get<std::string>() : "")) __builtin_trap();
  if (args != want_args) __builtin_trap();
  if (a.finish_reason() != b.finish_reason()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  const std::string body(reinterpret_cast<const char*>(data), size);
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return 0;  // the server answers 400 before parsing further
  for (int chat = 0; chat < 2; ++chat) {
    try {
      server::GenRequest r = chat ? server::parse_chat_request(j, f.ctx) : server::parse_completion_request(j, f.ctx);
      if (r.prompts.empty() || r.params.max_tokens < 1) __builtin_trap();
      for (const auto& p : r.prompts)
        if (p.empty() || int64_t(p.size()) >= f.ctx.max_model_len) __builtin_trap();
      differential(r, *f.tk, tokens_of(data, size));
    } catch (const server::ApiError& e) {
      if (e.status() < 400 || e.status() >= 500) __builtin_trap();
    } catch (const InputError&) {
    }
  }
  return 0;
}
