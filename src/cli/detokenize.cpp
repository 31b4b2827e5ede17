// `mixq detokenize --tokenizer FILE|DIR [--skip-special-tokens]`: a JSON list of ids on stdin ->
// the decoded text on stdout, exactly (no newline added).
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {
struct Opts {
  std::string path;
  bool skip_special = false;
  bool jsonl = false;
};

std::vector<int32_t> parse_ids(const std::string& text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    mixq::fail("{}: expected a JSON list of token ids: {}", where, e.what());
  }
  if (!j.is_array()) mixq::fail("{}: expected a JSON list of token ids", where);
  std::vector<int32_t> ids;
  for (size_t k = 0; k < j.size(); ++k) {
    if (!j[k].is_number_integer()) mixq::fail("{}: item {} is not an integer token id", where, k);
    ids.push_back(j[k].get<int32_t>());
  }
  return ids;
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--tokenizer", o->path, "tokenizer.json or a model directory holding one")->required();
  app.add_flag("--skip-special-tokens", o->skip_special, "Drop special added tokens");
  app.add_flag("--jsonl", o->jsonl,
               "Batch mode: one JSON list per stdin line; prints one JSON string per line");
  return [o] {
    auto tk = mixq::text::Tokenizer::load(o->path);
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (o->jsonl) {
      std::string out;
      size_t pos = 0, lineno = 0;
      while (pos < in.size()) {
        size_t nl = in.find('\n', pos);
        if (nl == std::string::npos) nl = in.size();
        ++lineno;
        auto ids = parse_ids(in.substr(pos, nl - pos), "stdin line " + std::to_string(lineno));
        out += nlohmann::json(tk->decode(ids, o->skip_special)).dump();
        out += '\n';
        pos = nl + 1;
      }
      std::cout << out;
      return 0;
    }
    auto ids = parse_ids(in, "stdin");
    std::cout << tk->decode(ids, o->skip_special);
    return 0;
  };
}
}  // namespace

MIXQ_COMMAND("detokenize", "JSON token ids on stdin -> text", setup);
