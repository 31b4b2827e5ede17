#include "text/chat.h"

#include <filesystem>

#include "text/tokenizer.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::text {

namespace fs = std::filesystem;

std::unique_ptr<ChatTemplate> ChatTemplate::load(const std::string& model_dir) {
  fs::path dir(model_dir);
  if (!fs::is_directory(dir)) fail("{}: not a model directory", model_dir);
  nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
  fs::path cfg_path = dir / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    try {
      cfg = nlohmann::ordered_json::parse(read_file(cfg_path.string()));
    } catch (const nlohmann::ordered_json::exception& e) {
      fail("{}: not valid JSON: {}", cfg_path.string(), e.what());
    }
  }
  std::string source;
  fs::path jinja_path = dir / "chat_template.jinja";
  if (fs::exists(jinja_path)) {
    source = read_file(jinja_path.string());
  } else if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) {
    source = cfg["chat_template"].get<std::string>();
  } else if (cfg.contains("chat_template") && cfg["chat_template"].is_array()) {
    for (auto& t : cfg["chat_template"])
      if (t.value("name", "") == "default") source = t.value("template", "");
    if (source.empty()) fail("{}: chat_template list has no \"default\" entry", cfg_path.string());
  } else {
    fail("{}: no chat_template.jinja and no chat_template in tokenizer_config.json", model_dir);
  }
  // transformers passes the special-tokens map to the template as strings.
  nlohmann::ordered_json specials = nlohmann::ordered_json::object();
  for (const char* k : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (!cfg.contains(k)) continue;
    const auto& v = cfg[k];
    if (v.is_string()) specials[k] = v;
    else if (v.is_object() && v.contains("content") && v["content"].is_string()) specials[k] = v["content"];
  }
  try {
    return std::make_unique<ChatTemplate>(std::move(source), std::move(specials));
  } catch (const jinja::TemplateError& e) {
    fail("{}: chat template: {}", model_dir, e.what());
  }
}

ChatTemplate::ChatTemplate(std::string source, nlohmann::ordered_json special_tokens)
    : tmpl_(std::move(source)), special_tokens_(std::move(special_tokens)) {}

nlohmann::ordered_json parse_tool_call_arguments(nlohmann::ordered_json messages) {
  if (!messages.is_array()) return messages;
  for (size_t i = 0; i < messages.size(); ++i) {
    auto& m = messages[i];
    if (!m.is_object() || m.value("role", "") != "assistant" || !m.contains("tool_calls") || !m["tool_calls"].is_array())
      continue;
    for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
      auto& call = m["tool_calls"][k];
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      auto& fn = call["function"];
      const nlohmann::ordered_json args = fn.value("arguments", nlohmann::ordered_json());
      bool empty = args.is_null() || (args.is_string() && args.get<std::string>().empty()) ||
                   (args.is_object() && args.empty()) || (args.is_array() && args.empty()) ||
                   (args.is_boolean() && !args.get<bool>()) || (args.is_number() && args.get<double>() == 0);
      if (empty) { fn["arguments"] = nlohmann::ordered_json::object(); continue; }
      if (args.is_string()) {
        try {
          fn["arguments"] = nlohmann::ordered_json::parse(args.get<std::string>());
        } catch (const nlohmann::ordered_json::exception&) {
          fail("messages[{}].tool_calls[{}].function.arguments is not valid JSON", i, k);
        }
      }
    }
  }
  return messages;
}

nlohmann::ordered_json ChatTemplate::context(const nlohmann::ordered_json& request) const {
  if (!request.is_object()) fail("chat request must be a JSON object");
  if (!request.contains("messages") || !request["messages"].is_array())
    fail("chat request: \"messages\" must be a list");
  nlohmann::ordered_json ctx = special_tokens_;
  // Extra keys are template kwargs (e.g. enable_thinking, model_identity); like transformers,
  // they override the special tokens.
  for (auto it = request.begin(); it != request.end(); ++it) ctx[it.key()] = it.value();
  ctx["messages"] = parse_tool_call_arguments(request["messages"]);
  if (!ctx.contains("tools")) ctx["tools"] = nullptr;
  if (!ctx.contains("documents")) ctx["documents"] = nullptr;
  // Any JSON value is accepted and passed through (the template tests its truthiness).
  if (!request.contains("add_generation_prompt")) ctx["add_generation_prompt"] = false;
  return ctx;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& request) const {
  nlohmann::ordered_json ctx = context(request);
  try {
    return tmpl_.render(ctx);
  } catch (const jinja::TemplateError& e) {
    fail("chat template: {}", e.what());
  }
}

std::vector<int32_t> encode_prompt(const Tokenizer& tk, const std::string& prompt) {
  return tk.encode(prompt, /*add_special_tokens=*/false);
}

}  // namespace mixq::text
