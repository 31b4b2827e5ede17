// OpenAI request validation, following vLLM's protocol models (vllm/entrypoints/openai/protocol.py):
// a wrong type or range is a 400 naming the field; an unknown model is a 404; unknown extra
// fields are ignored, as vLLM does.
#include <random>

#include "server/api_error.h"
#include "server/gen_request.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace mixq::server {

namespace {

using Json = nlohmann::ordered_json;

bool present(const Json& b, const char* key) { return b.contains(key) && !b[key].is_null(); }

// j[key] when it is a string, else "" (Json::value would throw a type error -> a 500, not a 400).
std::string str_of(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::optional<double> opt_number(const Json& b, const char* key, double lo, double hi) {
  if (!present(b, key)) return std::nullopt;
  if (!b[key].is_number()) bad_request(key, fmt::format("'{}' must be a number", key));
  const double v = b[key].get<double>();
  if (!(v >= lo && v <= hi)) bad_request(key, fmt::format("'{}' must be in [{}, {}], got {}", key, lo, hi, v));
  return v;
}

std::optional<int64_t> opt_int(const Json& b, const char* key, int64_t lo, int64_t hi) {
  if (!present(b, key)) return std::nullopt;
  const Json& v = b[key];
  int64_t x = 0;
  if (v.is_number_integer()) x = v.get<int64_t>();
  else if (v.is_number_float() && v.get<double>() == double(int64_t(v.get<double>()))) x = int64_t(v.get<double>());
  else bad_request(key, fmt::format("'{}' must be an integer", key));
  if (x < lo || x > hi) bad_request(key, fmt::format("'{}' must be in [{}, {}], got {}", key, lo, hi, x));
  return x;
}

bool opt_bool(const Json& b, const char* key, bool dflt) {
  if (!present(b, key)) return dflt;
  if (!b[key].is_boolean()) bad_request(key, fmt::format("'{}' must be a boolean", key));
  return b[key].get<bool>();
}

// The fields /v1/chat/completions and /v1/completions share: sampling, stops, n, streaming.
void parse_common(const Json& b, const ServingContext& ctx, GenRequest& r) {
  const auto& d = ctx.defaults;
  auto& s = r.params.sampling;
  s.temperature = float(opt_number(b, "temperature", 0, 2).value_or(d.temperature.value_or(1.0)));
  s.top_p = float(opt_number(b, "top_p", 1e-9, 1).value_or(d.top_p.value_or(1.0)));
  // vLLM: -1 (and 0) disable top-k.
  const int64_t top_k = opt_int(b, "top_k", -1, int64_t(1) << 30).value_or(d.top_k.value_or(0));
  s.top_k = top_k < 0 ? 0 : top_k;
  s.min_p = float(opt_number(b, "min_p", 0, 1).value_or(d.min_p.value_or(0.0)));
  s.repetition_penalty = float(opt_number(b, "repetition_penalty", 1e-9, 1e9).value_or(d.repetition_penalty.value_or(1.0)));
  s.frequency_penalty = float(opt_number(b, "frequency_penalty", -2, 2).value_or(0.0));
  s.presence_penalty = float(opt_number(b, "presence_penalty", -2, 2).value_or(0.0));
  if (present(b, "seed")) {
    if (!b["seed"].is_number_integer()) bad_request("seed", "'seed' must be an integer");
    s.seed = b["seed"].is_number_unsigned() ? b["seed"].get<uint64_t>() : uint64_t(b["seed"].get<int64_t>());
  } else {
    s.seed = std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
  }
  r.n = int(opt_int(b, "n", 1, ctx.max_n).value_or(1));
  if (present(b, "best_of") && opt_int(b, "best_of", 1, ctx.max_n).value_or(1) != r.n)
    bad_request("best_of", "'best_of' other than n is not supported");
  if (present(b, "stop")) {
    const Json& v = b["stop"];
    if (v.is_string()) {
      if (!v.get<std::string>().empty()) r.stop.push_back(v.get<std::string>());
    } else if (v.is_array()) {
      for (const auto& x : v) {
        if (!x.is_string()) bad_request("stop", "'stop' must be a string or a list of strings");
        if (!x.get<std::string>().empty()) r.stop.push_back(x.get<std::string>());
      }
    } else {
      bad_request("stop", "'stop' must be a string or a list of strings");
    }
  }
  const int64_t vocab = int64_t(ctx.tokenizer->vocab_size());
  if (present(b, "stop_token_ids")) r.params.stop_ids = parse_token_ids(b["stop_token_ids"], "stop_token_ids", vocab);
  r.params.eos_ids = ctx.eos_ids;
  r.params.ignore_eos = opt_bool(b, "ignore_eos", false);
  r.params.min_tokens = opt_int(b, "min_tokens", 0, int64_t(1) << 40).value_or(0);
  r.skip_special_tokens = opt_bool(b, "skip_special_tokens", true);
  r.include_stop_str = opt_bool(b, "include_stop_str_in_output", false);
  r.stream = opt_bool(b, "stream", false);
  if (present(b, "stream_options")) {
    if (!r.stream) bad_request("stream_options", "'stream_options' can only be set when 'stream' is true");
    const Json& so = b["stream_options"];
    if (!so.is_object()) bad_request("stream_options", "'stream_options' must be an object");
    r.include_usage = opt_bool(so, "include_usage", false);
    r.continuous_usage = opt_bool(so, "continuous_usage_stats", false);
  }
  if (present(b, "response_format")) {
    const Json& rf = b["response_format"];
    if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string())
      bad_request("response_format", "'response_format' must be an object with a 'type'");
    if (rf["type"] != "text")
      bad_request("response_format", "response_format '" + rf["type"].get<std::string>() +
                                          "' needs grammar-constrained decoding, which mixq serve does not have");
  }
}

// max_tokens defaults and clamping (vLLM get_max_tokens): the smallest of the request's value,
// the generation config's max_new_tokens and what the context leaves after the prompt.
// Completions default max_tokens to 16 (the OpenAI spec, and vLLM's CompletionRequest).
void set_max_tokens(const Json& b, const ServingContext& ctx, GenRequest& r, const char* key, int64_t longest_prompt,
                    std::optional<int64_t> request_default = std::nullopt) {
  const int64_t room = ctx.max_model_len - longest_prompt;
  if (room < 1)
    bad_request("messages", fmt::format("This model's maximum context length is {} tokens. However, your request has {} "
                                        "input tokens. Please reduce the length of the input.",
                                        ctx.max_model_len, longest_prompt));
  std::optional<int64_t> asked = opt_int(b, "max_completion_tokens", 1, int64_t(1) << 40);
  if (!asked) asked = opt_int(b, key, 1, int64_t(1) << 40);
  if (!asked) asked = request_default;
  int64_t m = room;
  if (asked) m = std::min(m, *asked);
  if (ctx.defaults.max_tokens) m = std::min(m, *ctx.defaults.max_tokens);
  r.params.max_tokens = m;
  if (r.params.min_tokens > m) bad_request("min_tokens", "'min_tokens' must not exceed max_tokens");
}

std::string flatten_content(const Json& content, size_t i) {
  if (content.is_string() || content.is_null()) return content.is_null() ? "" : content.get<std::string>();
  if (!content.is_array()) bad_request("messages", fmt::format("messages[{}].content must be a string or a list of parts", i));
  std::string out;
  for (const auto& part : content) {
    if (!part.is_object() || str_of(part, "type") != "text" || !part.contains("text") || !part["text"].is_string())
      bad_request("messages", fmt::format("messages[{}].content: only text parts are supported", i));
    if (!out.empty()) out += "\n";
    out += part["text"].get<std::string>();
  }
  return out;
}

}  // namespace

std::vector<int32_t> parse_token_ids(const Json& v, const char* key, int64_t vocab) {
  if (!v.is_array()) bad_request(key, fmt::format("'{}' must be a list of token ids", key));
  std::vector<int32_t> out;
  for (const auto& x : v) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= vocab)
      bad_request(key, fmt::format("'{}' must hold token ids in [0, {})", key, vocab));
    out.push_back(int32_t(x.get<int64_t>()));
  }
  return out;
}

void check_model_name(const Json& b, const ServingContext& ctx) {
  if (!b.is_object()) bad_request("", "the request body must be a JSON object");
  if (!present(b, "model")) return;
  if (!b["model"].is_string()) bad_request("model", "'model' must be a string");
  if (b["model"].get<std::string>() != ctx.served_name)
    throw ApiError(404, fmt::format("The model `{}` does not exist.", b["model"].get<std::string>()), "model");
}

GenRequest parse_chat_request(const Json& b, const ServingContext& ctx) {
  check_model_name(b, ctx);
  GenRequest r;
  r.chat = true;
  if (!b.contains("messages") || !b["messages"].is_array() || b["messages"].empty())
    bad_request("messages", "'messages' must be a non-empty list");
  Json messages = Json::array();
  for (size_t i = 0; i < b["messages"].size(); ++i) {
    const Json& m = b["messages"][i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      bad_request("messages", fmt::format("messages[{}] must be an object with a string 'role'", i));
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" && role != "developer")
      bad_request("messages", fmt::format("messages[{}].role '{}' is not one of system, user, assistant, tool, developer", i, role));
    Json mm = m;
    if (m.contains("content")) mm["content"] = flatten_content(m["content"], i);
    else if (role != "assistant") bad_request("messages", fmt::format("messages[{}] has no 'content'", i));
    // Earlier reasoning comes back as reasoning_content (older clients) or reasoning (vLLM today).
    if (!mm.contains("reasoning_content") && mm.contains("reasoning") && mm["reasoning"].is_string())
      mm["reasoning_content"] = mm["reasoning"];
    if (mm.contains("tool_calls") && !mm["tool_calls"].is_null() && !mm["tool_calls"].is_array())
      bad_request("messages", fmt::format("messages[{}].tool_calls must be a list", i));
    messages.push_back(std::move(mm));
  }
  // Tools and tool_choice (vLLM: default "auto" with tools, "none" without; tools: [] is an error).
  Json tools = nullptr;
  if (present(b, "tools")) {
    tools = b["tools"];
    if (!tools.is_array() || tools.empty()) bad_request("tools", "'tools' must be a non-empty list");
    for (size_t i = 0; i < tools.size(); ++i) {
      const Json& t = tools[i];
      if (!t.is_object() || str_of(t, "type") != "function" || !t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string())
        bad_request("tools", fmt::format("tools[{}] must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}", i));
    }
  }
  std::string choice = tools.is_null() ? "none" : "auto";
  std::string named;
  if (present(b, "tool_choice")) {
    const Json& tc = b["tool_choice"];
    if (tc.is_string()) {
      choice = tc;
      if (choice != "none" && choice != "auto" && choice != "required")
        bad_request("tool_choice", "'tool_choice' must be none, auto, required or a named function");
    } else if (tc.is_object() && str_of(tc, "type") == "function" && tc.contains("function") &&
               tc["function"].is_object() && tc["function"].contains("name") && tc["function"]["name"].is_string()) {
      choice = "named";
      named = tc["function"]["name"];
    } else {
      bad_request("tool_choice", "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    if (choice != "none" && tools.is_null()) bad_request("tool_choice", "'tool_choice' needs 'tools'");
  }
  if (choice == "auto" && !tools.is_null() && !(ctx.auto_tool_choice && ctx.tool_parser))
    bad_request("tool_choice", "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set");
  if ((choice == "required" || choice == "named") && !ctx.tool_parser)
    bad_request("tool_choice", "tool_choice '" + choice + "' requires --tool-call-parser to be set");
  if (choice == "named") {
    Json only = Json::array();
    for (const auto& t : tools)
      if (t["function"]["name"] == named) only.push_back(t);
    if (only.empty()) bad_request("tool_choice", "tool_choice names function '" + named + "', which is not in 'tools'");
    tools = only;  // the model is shown only the named tool
  }
  r.parse_tools = !tools.is_null() && choice != "none" && ctx.tool_parser;
  r.parallel_tool_calls = opt_bool(b, "parallel_tool_calls", true);

  const bool add_gen = opt_bool(b, "add_generation_prompt", true);
  const bool cont = opt_bool(b, "continue_final_message", false);
  if (add_gen && cont)
    bad_request("continue_final_message", "continue_final_message and add_generation_prompt cannot both be true");
  if (cont && messages.back().value("role", "") != "assistant")
    bad_request("continue_final_message", "continue_final_message needs a final assistant message");
  Json treq = Json::object();
  if (present(b, "chat_template_kwargs")) {
    if (!b["chat_template_kwargs"].is_object()) bad_request("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    for (auto it = b["chat_template_kwargs"].begin(); it != b["chat_template_kwargs"].end(); ++it) treq[it.key()] = it.value();
  }
  treq["messages"] = messages;
  if (!tools.is_null()) treq["tools"] = tools;
  treq["add_generation_prompt"] = add_gen;
  std::string prompt;
  try {
    prompt = ctx.chat_template->render(treq);
  } catch (const InputError& e) {
    bad_request("messages", std::string("chat template: ") + e.what());
  }
  if (cont) {
    // As transformers does: cut the render right after the final message's content.
    const std::string last = messages.back().value("content", "");
    const size_t at = last.empty() ? std::string::npos : prompt.rfind(last);
    if (at == std::string::npos) bad_request("continue_final_message", "the final message's content is not in the rendered prompt");
    prompt.resize(at + last.size());
  }
  r.prompts.push_back(text::encode_prompt(*ctx.tokenizer, prompt));

  parse_common(b, ctx, r);
  r.logprobs = opt_bool(b, "logprobs", false);
  const auto top = opt_int(b, "top_logprobs", 0, 20);
  if (top && !r.logprobs) bad_request("top_logprobs", "when using 'top_logprobs', 'logprobs' must be set to true");
  r.params.top_logprobs = r.logprobs ? int(top.value_or(0)) : -1;
  set_max_tokens(b, ctx, r, "max_tokens", int64_t(r.prompts[0].size()));
  r.parsers.reasoning = ctx.reasoning;
  // With continue_final_message the output continues the assistant's text: no reasoning split.
  if (cont) r.parsers.reasoning = text::OutputParsers::Reasoning::None;
  r.parsers.tool_calls = r.parse_tools;
  r.parsers.tools = tools;
  return r;
}

GenRequest parse_completion_request(const Json& b, const ServingContext& ctx) {
  check_model_name(b, ctx);
  GenRequest r;
  r.chat = false;
  if (!present(b, "prompt")) bad_request("prompt", "'prompt' is required");
  if (present(b, "suffix")) bad_request("suffix", "'suffix' is not supported");
  const int64_t vocab = int64_t(ctx.tokenizer->vocab_size());
  const Json& p = b["prompt"];
  std::vector<std::string> texts;
  if (p.is_string()) {
    texts.push_back(p);
  } else if (p.is_array() && !p.empty() && p[0].is_string()) {
    for (const auto& x : p) {
      if (!x.is_string()) bad_request("prompt", "'prompt' list must hold only strings");
      texts.push_back(x);
    }
  } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
    r.prompts.push_back(parse_token_ids(p, "prompt", vocab));
  } else if (p.is_array() && !p.empty() && p[0].is_array()) {
    for (const auto& x : p) r.prompts.push_back(parse_token_ids(x, "prompt", vocab));
  } else {
    bad_request("prompt", "'prompt' must be a string, a list of strings, a list of token ids or a list of such lists");
  }
  for (const auto& t : texts) r.prompts.push_back(ctx.tokenizer->encode(t, true));
  if (r.prompts.size() > 64) bad_request("prompt", "at most 64 prompts per request");
  int64_t longest = 0;
  for (const auto& ids : r.prompts) {
    if (ids.empty()) bad_request("prompt", "'prompt' must not be empty");
    longest = std::max<int64_t>(longest, int64_t(ids.size()));
  }
  parse_common(b, ctx, r);
  if (int64_t(r.prompts.size()) * r.n > ctx.max_n * 4) bad_request("n", "too many choices in one request");
  const auto lp = opt_int(b, "logprobs", 0, 20);
  r.logprobs = lp.has_value();
  r.params.top_logprobs = lp ? int(*lp) : -1;
  if (opt_bool(b, "echo", false)) {
    if (r.prompts.size() != 1) bad_request("echo", "'echo' is supported with a single prompt");
    r.echo_prompt = ctx.tokenizer->decode(r.prompts[0], r.skip_special_tokens);
  }
  set_max_tokens(b, ctx, r, "max_tokens", longest, int64_t(16));
  r.parsers.reasoning = text::OutputParsers::Reasoning::None;
  r.parsers.tool_calls = false;
  return r;
}

}  // namespace mixq::server
