// `mixq tokenize --tokenizer FILE|DIR`: UTF-8 text on stdin -> JSON list of ids on stdout.
// A scripted contract (tests/scripts/text_cli.sh); keep the output shape stable.
#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "text/base64.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {
struct Opts {
  std::string path;
  bool no_special = false;
  bool b64_lines = false;
};

std::string ids_json(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t k = 0; k < ids.size(); ++k) {
    if (k) out += ", ";
    out += std::to_string(ids[k]);
  }
  return out + "]";
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--tokenizer", o->path, "tokenizer.json or a model directory holding one")->required();
  app.add_flag("--no-add-special-tokens", o->no_special,
               "Do not apply the post-processor's BOS/EOS template (HF add_special_tokens=False)");
  app.add_flag("--base64-lines", o->b64_lines,
               "Batch mode: each stdin line is base64 of one text; prints one JSON list per line");
  return [o] {
    auto tk = mixq::text::Tokenizer::load(o->path);
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!o->b64_lines) {
      std::cout << ids_json(tk->encode(in, !o->no_special)) << "\n";
      return 0;
    }
    std::string out;
    size_t pos = 0, lineno = 0;
    while (pos < in.size()) {
      size_t nl = in.find('\n', pos);
      if (nl == std::string::npos) nl = in.size();
      ++lineno;
      auto text = mixq::text::base64_decode(std::string_view(in).substr(pos, nl - pos));
      if (!text) mixq::fail("stdin line {}: not base64", lineno);
      out += ids_json(tk->encode(*text, !o->no_special));
      out += '\n';
      pos = nl + 1;
    }
    std::cout << out;
    return 0;
  };
}
}  // namespace

MIXQ_COMMAND("tokenize", "Text on stdin -> JSON token ids", setup);
