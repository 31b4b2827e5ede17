// `mixq render-chat --model DIR`: {"messages": [...], "tools": [...], "add_generation_prompt": true}
// on stdin -> the rendered prompt on stdout, exactly (no newline added). A scripted contract.
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {
struct Opts {
  std::string model;
  bool ids = false;
  bool jsonl = false;
};

nlohmann::ordered_json parse_request(const std::string& text, const std::string& where) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::exception& e) {
    mixq::fail("{}: not valid JSON: {}", where, e.what());
  }
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory (chat_template.jinja / tokenizer_config.json)")->required();
  app.add_flag("--ids", o->ids, "Print the prompt's token ids (JSON list) instead of the text");
  app.add_flag("--jsonl", o->jsonl,
               "Batch mode: one request per stdin line; prints one JSON line each: "
               "{\"prompt\": ...} or {\"error\": ...}");
  return [o] {
    auto tmpl = mixq::text::ChatTemplate::load(o->model);
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (o->jsonl) {
      std::string out;
      size_t pos = 0, lineno = 0;
      while (pos < in.size()) {
        size_t nl = in.find('\n', pos);
        if (nl == std::string::npos) nl = in.size();
        ++lineno;
        std::string line = in.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        nlohmann::ordered_json r;
        try {
          r["prompt"] = tmpl->render(parse_request(line, "stdin line " + std::to_string(lineno)));
        } catch (const mixq::InputError& e) {
          r = {{"error", e.what()}};
        }
        out += r.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
      }
      std::cout << out;
      return 0;
    }
    std::string prompt = tmpl->render(parse_request(in, "stdin"));
    if (!o->ids) {
      std::cout << prompt;
      return 0;
    }
    auto tk = mixq::text::Tokenizer::load(o->model);
    auto ids = mixq::text::encode_prompt(*tk, prompt);
    std::string s = "[";
    for (size_t k = 0; k < ids.size(); ++k) s += (k ? ", " : "") + std::to_string(ids[k]);
    std::cout << s << "]\n";
    return 0;
  };
}
}  // namespace

MIXQ_COMMAND("render-chat", "Chat request JSON on stdin -> rendered prompt", setup);
