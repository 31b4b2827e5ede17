// Chat API: an OpenAI-style request ({"messages", "tools", "add_generation_prompt", extra template
// kwargs}) -> the prompt string the model's chat template renders -> token ids. Context building
// follows transformers' apply_chat_template (special tokens from tokenizer_config.json, tools and
// documents passed as none when absent) and vLLM's preprocessing (tool-call arguments given as
// JSON strings are parsed into objects before rendering).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "text/jinja.h"

namespace mixq::text {

class Tokenizer;

class ChatTemplate {
 public:
  // `model_dir` holds chat_template.jinja and/or tokenizer_config.json ("chat_template" as a
  // string or a list of {name, template}; "default" is used). Throws InputError.
  static std::unique_ptr<ChatTemplate> load(const std::string& model_dir);
  ChatTemplate(std::string source, nlohmann::ordered_json special_tokens);

  // Throws InputError for a malformed request and for template errors (with line and column).
  std::string render(const nlohmann::ordered_json& request) const;

  // The template context a request produces (exposed for tests and the reference scripts).
  nlohmann::ordered_json context(const nlohmann::ordered_json& request) const;

 private:
  jinja::Template tmpl_;
  nlohmann::ordered_json special_tokens_;  // name -> string, e.g. "bos_token": "]~!b["
};

// vLLM's _postprocess_messages: parses each assistant tool call's string `arguments` into an
// object (empty or null -> {}). Throws InputError when a string is not JSON.
nlohmann::ordered_json parse_tool_call_arguments(nlohmann::ordered_json messages);

// Prompt -> ids without adding BOS/EOS (the template writes them), as transformers does.
std::vector<int32_t> encode_prompt(const Tokenizer& tk, const std::string& prompt);

}  // namespace mixq::text
