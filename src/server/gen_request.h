// One OpenAI request (/v1/chat/completions or /v1/completions) after validation: token ids,
// the engine's per-sequence parameters and what the response needs (parsers, stop strings,
// logprobs, streaming options). Built by parse_chat_request / parse_completion_request.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "server/generation_defaults.h"
#include "text/chat_output.h"

namespace mixq::text {
class Tokenizer;
class ChatTemplate;
}  // namespace mixq::text

namespace mixq::server {

// What the server was started with that request parsing needs.
struct ServingContext {
  std::string served_name;
  const text::Tokenizer* tokenizer = nullptr;
  const text::ChatTemplate* chat_template = nullptr;
  GenerationDefaults defaults;
  std::vector<int32_t> eos_ids;
  int64_t max_model_len = 0;
  int64_t max_n = 16;                 // choices per request at most
  bool auto_tool_choice = false;      // --enable-auto-tool-choice
  bool tool_parser = false;           // --tool-call-parser minimax_m2
  text::OutputParsers::Reasoning reasoning = text::OutputParsers::Reasoning::None;
};

struct GenRequest {
  bool chat = true;
  std::vector<std::vector<int32_t>> prompts;  // chat: one; completions: one per prompt
  SeqParams params;
  int n = 1;
  bool stream = false, include_usage = false, continuous_usage = false;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  bool include_stop_str = false;
  bool logprobs = false;          // chat: logprobs=true; completions: logprobs given
  bool skip_special_tokens = true;
  bool parse_tools = false;       // run the minimax_m2 tool parser on the output
  bool parallel_tool_calls = true;
  text::OutputParsers parsers;
  std::string echo_prompt;        // completions with echo: the prompt text
};

// Throw ApiError (400/404) naming the field. `body` is the parsed JSON body.
GenRequest parse_chat_request(const nlohmann::ordered_json& body, const ServingContext& ctx);
GenRequest parse_completion_request(const nlohmann::ordered_json& body, const ServingContext& ctx);

// A JSON list of token ids in [0, vocab): the request's prompt ids, stop_token_ids, /detokenize's
// tokens. ApiError(400) naming `key` otherwise.
std::vector<int32_t> parse_token_ids(const nlohmann::ordered_json& v, const char* key, int64_t vocab);

// The model name check shared by every /v1 endpoint: absent or the served name, else 404.
void check_model_name(const nlohmann::ordered_json& body, const ServingContext& ctx);

}  // namespace mixq::server
