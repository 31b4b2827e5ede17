// mixq generate --model DIR (--prompt TEXT | --tokens IDS) [sampling options]
// --prompt (- reads stdin) is rendered with the model's chat template as one user turn, after the
// --system message if given (add_generation_prompt)
// and tokenized with its tokenizer.json; --raw tokenizes the text as is. --tokens takes ids
// ("1,2,3" or a JSON list). Greedy by default; --sample uses generation_config.json's
// temperature / top_k / top_p, and explicit flags override. Stops on the EOS id(s).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "runtime/generate.h"
#include "text/chat.h"
#include "text/decode_stream.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"

namespace {

struct Opts {
  mixq::cli::ResidencyFlags residency;
  std::string model, prompt, tokens, system, kv = "bf16";
  bool raw = false, sample = false, json = false;
  int64_t max_tokens = 256, ctx = 0;
  std::optional<float> temperature, top_p, min_p, rep, freq, pres;
  std::optional<int64_t> top_k;
  uint64_t seed = 0;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  auto j = nlohmann::json::parse(s.find('[') != std::string::npos ? s : "[" + s + "]", nullptr, false);
  if (j.is_discarded() || !j.is_array()) mixq::fail("--tokens: expected ids like 1,2,3 or [1,2,3], got '{}'", s);
  for (auto& x : j) {
    if (!x.is_number_integer()) mixq::fail("--tokens: '{}' is not a token id", x.dump());
    ids.push_back(x.get<int32_t>());
  }
  return ids;
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory")->required();
  auto* p = app.add_option("--prompt", o->prompt, "User message (chat template applied unless --raw); - reads it from stdin");
  app.add_option("--system", o->system, "System message before the prompt (chat template)");
  auto* t = app.add_option("--tokens", o->tokens, "Prompt token ids: 1,2,3 or [1,2,3]");
  p->excludes(t);
  app.add_flag("--raw", o->raw, "Tokenize --prompt as is, without the chat template");
  app.add_option("--max-tokens", o->max_tokens, "Most tokens to generate (default 256)")->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  app.add_flag("--sample", o->sample, "Sample with generation_config.json defaults instead of greedy");
  app.add_option("--temperature", o->temperature, "0 = greedy");
  app.add_option("--top-k", o->top_k);
  app.add_option("--top-p", o->top_p);
  app.add_option("--min-p", o->min_p);
  app.add_option("--repetition-penalty", o->rep);
  app.add_option("--frequency-penalty", o->freq);
  app.add_option("--presence-penalty", o->pres);
  app.add_option("--seed", o->seed);
  app.add_option("--kv", o->kv, "KV cache type: bf16 (default), fp8, f32");
  app.add_option("--ctx", o->ctx, "KV cache capacity in tokens (default: prompt + max tokens)")->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  app.add_flag("--json", o->json, "Print one JSON object (ids, text, timings)");
  mixq::cli::add_residency_flags(app, o->residency);
  return [o]() -> int {
    using namespace mixq;
    if (o->prompt == "-") {  // the prompt from stdin, e.g. a file: --prompt - < question.txt
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      o->prompt = ss.str();
      if (o->prompt.empty()) fail("generate: --prompt -: stdin is empty");
    }
    if (o->prompt.empty() == o->tokens.empty()) fail("generate: give --prompt TEXT or --tokens IDS");
    if (!o->system.empty() && (o->raw || !o->tokens.empty())) fail("generate: --system needs --prompt with the chat template (not --raw or --tokens)");
    Model m(o->model, mixq::cli::resolve_residency(o->residency, {o->model}).residency);
    std::unique_ptr<text::Tokenizer> tk;
    if (file_exists(path_join(o->model, "tokenizer.json"))) tk = text::Tokenizer::load(o->model);
    std::vector<int32_t> prompt;
    if (!o->tokens.empty()) {
      prompt = parse_ids(o->tokens);
    } else {
      if (!tk) fail("{}: no tokenizer.json; use --tokens", o->model);
      std::string text = o->prompt;
      if (!o->raw) {
        auto tmpl = text::ChatTemplate::load(o->model);
        nlohmann::ordered_json req;
        req["messages"] = nlohmann::ordered_json::array();
        if (!o->system.empty()) req["messages"].push_back({{"role", "system"}, {"content", o->system}});
        req["messages"].push_back({{"role", "user"}, {"content", o->prompt}});
        req["add_generation_prompt"] = true;
        text = tmpl->render(req);
      }
      prompt = text::encode_prompt(*tk, text);
    }
    // Positions past max_position_embeddings were never trained: the engine runs them, the model degrades.
    const int64_t max_pos = m.config().max_position_embeddings;
    if (int64_t(prompt.size()) + o->max_tokens > max_pos)
      MIXQ_WARN("generate: {} prompt + {} new tokens go beyond the model's max_position_embeddings {}; output past it is unreliable",
                prompt.size(), o->max_tokens, max_pos);
    GenerateOptions g;
    g.max_new_tokens = o->max_tokens;
    g.kv_type = parse_kv_type(o->kv);
    g.context = o->ctx;
    g.stop_ids = default_stop_ids(m);
    auto& s = g.sampling;
    if (o->sample) {
      s.temperature = 1.f;
      const std::string gc = path_join(o->model, "generation_config.json");
      if (file_exists(gc)) {
        auto j = nlohmann::json::parse(read_file(gc), nullptr, false);
        if (!j.is_discarded()) {
          s.temperature = j.value("temperature", 1.f);
          s.top_k = j.value("top_k", int64_t(0));
          s.top_p = j.value("top_p", 1.f);
        }
      }
    }
    if (o->temperature) s.temperature = *o->temperature;
    if (o->top_k) s.top_k = *o->top_k;
    if (o->top_p) s.top_p = *o->top_p;
    if (o->min_p) s.min_p = *o->min_p;
    if (o->rep) s.repetition_penalty = *o->rep;
    if (o->freq) s.frequency_penalty = *o->freq;
    if (o->pres) s.presence_penalty = *o->pres;
    s.seed = o->seed;
    std::unique_ptr<text::DecodeStream> stream;
    // Like vLLM (skip_special_tokens defaults to true): the EOS marker is not part of the reply.
    if (tk) stream = std::make_unique<text::DecodeStream>(*tk, true);
    auto on_tok = [&](int32_t id) {
      if (!o->json) {
        if (stream) fmt::print("{}", stream->step(id));
        else fmt::print("{} ", id);
      }
      std::fflush(stdout);
      return true;
    };
    auto r = generate(m, prompt, g, on_tok);
    const std::string out_text = tk ? tk->decode(r.tokens, true) : std::string();
    const double dec_tps = r.tokens.size() > 1 ? double(r.tokens.size() - 1) / r.decode_seconds : 0.0;
    if (o->json) {
      nlohmann::json j{{"prompt_tokens", prompt}, {"tokens", r.tokens}, {"finish_reason", r.finish_reason},
                       {"prefill_seconds", r.prefill_seconds}, {"decode_seconds", r.decode_seconds},
                       {"decode_tokens_per_second", dec_tps}};
      if (tk) j["text"] = out_text;
      fmt::print("{}\n", j.dump());
    } else {
      if (stream) fmt::print("{}", stream->flush());
      fmt::print("\n");
      std::fflush(stdout);  // the stats line on stderr must follow the reply, also when piped
      fmt::print(stderr, "[{} prompt tokens in {:.3f}s, {} generated ({:.2f} tok/s decode), finish: {}]\n", prompt.size(),
                 r.prefill_seconds, r.tokens.size(), dec_tps, r.finish_reason);
    }
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("generate", "Generate text from a prompt (greedy or sampled) with the CPU engine", setup);
