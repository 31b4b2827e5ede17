// A small client for OpenAI-compatible endpoints (vLLM, llama.cpp's server, mixq serve): chat
// completions without streaming, and vLLM's /tokenize for counting tokens with the served
// model's own tokenizer. Plain http:// only (a benchmark talks to a local or tunnelled server).
// A client is cheap; each call opens its own connection, so calls from many threads are safe.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mixq::eval {

struct Completion {
  std::string content, reasoning, finish_reason;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string error;  // non-empty: the request failed (after the retries)
  nlohmann::json raw;  // the response body as received (the JSONL log keeps it)
  nlohmann::json to_json() const;
  static Completion from_json(const nlohmann::json& j);
};

class OpenAIClient {
 public:
  // endpoint: "http://host:port" or ".../v1" (both accepted). Throws InputError on a bad URL.
  OpenAIClient(const std::string& endpoint, std::string api_key, double timeout_s = 600, int retries = 3);
  // Retries connection failures, 429 and 5xx with a short backoff; other errors come back at once.
  Completion chat(const nlohmann::json& body) const;
  // Token count of `text` by the server's /tokenize; nullopt when the server has none.
  std::optional<size_t> count_tokens(const std::string& model, const std::string& text) const;
  const std::string& base() const { return host_; }

 private:
  std::string host_, prefix_, api_key_;
  double timeout_s_;
  int retries_;
};

// The text of a chat response's message: content, and the reasoning from reasoning_content or
// reasoning (vLLM and mixq use either name).
Completion parse_chat_response(const nlohmann::json& body);

}  // namespace mixq::eval
