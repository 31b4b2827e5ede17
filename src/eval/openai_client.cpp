#include "eval/openai_client.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "util/error.h"

namespace mixq::eval {

nlohmann::json Completion::to_json() const {
  nlohmann::json j = {{"content", content}, {"finish_reason", finish_reason},
                      {"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}};
  if (!reasoning.empty()) j["reasoning"] = reasoning;
  if (!error.empty()) j["error"] = error;
  return j;
}

Completion Completion::from_json(const nlohmann::json& j) {
  Completion c;
  c.content = j.value("content", "");
  c.reasoning = j.value("reasoning", "");
  c.finish_reason = j.value("finish_reason", "");
  c.prompt_tokens = j.value("prompt_tokens", int64_t(0));
  c.completion_tokens = j.value("completion_tokens", int64_t(0));
  c.error = j.value("error", "");
  return c;
}

Completion parse_chat_response(const nlohmann::json& body) {
  Completion c;
  c.raw = body;
  if (!body.is_object() || !body.contains("choices") || !body["choices"].is_array() || body["choices"].empty()) {
    c.error = "response has no choices: " + body.dump().substr(0, 200);
    return c;
  }
  const auto& ch = body["choices"][0];
  const auto& msg = ch.contains("message") && ch["message"].is_object() ? ch["message"] : nlohmann::json::object();
  auto str = [](const nlohmann::json& o, const char* k) {
    return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  c.content = str(msg, "content");
  c.reasoning = str(msg, "reasoning_content");
  if (c.reasoning.empty()) c.reasoning = str(msg, "reasoning");
  c.finish_reason = str(ch, "finish_reason");
  if (body.contains("usage") && body["usage"].is_object()) {
    c.prompt_tokens = body["usage"].value("prompt_tokens", int64_t(0));
    c.completion_tokens = body["usage"].value("completion_tokens", int64_t(0));
  }
  return c;
}

OpenAIClient::OpenAIClient(const std::string& endpoint, std::string api_key, double timeout_s, int retries)
    : api_key_(std::move(api_key)), timeout_s_(timeout_s), retries_(retries) {
  std::string u = endpoint;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.size() >= 3 && u.substr(u.size() - 3) == "/v1") u.resize(u.size() - 3);
  if (u.rfind("https://", 0) == 0) fail("--endpoint {}: https is not supported; use http:// (e.g. through a local tunnel)", endpoint);
  if (u.rfind("http://", 0) != 0) fail("--endpoint {}: expected http://HOST:PORT[/v1]", endpoint);
  size_t slash = u.find('/', 7);
  host_ = u.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : u.substr(slash);
  if (host_.size() <= 7) fail("--endpoint {}: no host", endpoint);
}

namespace {

httplib::Client make_client(const std::string& host, const std::string& key, double timeout_s) {
  httplib::Client cli(host);
  auto secs = std::chrono::duration<double>(timeout_s);
  cli.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(secs));
  cli.set_write_timeout(std::chrono::seconds(60));
  cli.set_connection_timeout(std::chrono::seconds(10));
  if (!key.empty()) cli.set_bearer_token_auth(key);
  return cli;
}

}  // namespace

Completion OpenAIClient::chat(const nlohmann::json& body) const {
  Completion c;
  const std::string payload = body.dump();
  for (int attempt = 0; attempt <= retries_; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(500 << std::min(attempt, 4)));
    auto cli = make_client(host_, api_key_, timeout_s_);
    auto res = cli.Post(prefix_ + "/v1/chat/completions", payload, "application/json");
    if (!res) {
      c.error = "request failed: " + httplib::to_string(res.error());
      continue;
    }
    if (res->status == 429 || res->status >= 500) {
      c.error = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200) {
      c.error = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
      c.raw = j.is_discarded() ? nlohmann::json(res->body) : j;
      return c;
    }
    if (j.is_discarded()) {
      c.error = "response is not JSON: " + res->body.substr(0, 200);
      continue;
    }
    return parse_chat_response(j);
  }
  return c;
}

std::optional<size_t> OpenAIClient::count_tokens(const std::string& model, const std::string& text) const {
  nlohmann::json body = {{"model", model}, {"prompt", text}, {"add_special_tokens", false}};
  for (int attempt = 0; attempt <= retries_; ++attempt) {
    auto cli = make_client(host_, api_key_, timeout_s_);
    auto res = cli.Post(prefix_ + "/tokenize", body.dump(), "application/json");
    if (!res) {
      if (attempt == retries_) fail("{}/tokenize: {}", host_, httplib::to_string(res.error()));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (res->status == 404 || res->status == 405) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || !j.is_object()) return std::nullopt;
    if (j.contains("count") && j["count"].is_number_integer()) return j["count"].get<size_t>();
    if (j.contains("tokens") && j["tokens"].is_array()) return j["tokens"].size();
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace mixq::eval
