// mixq eval kld --reference DIR --model DIR [--text FILE] [--gsm8k FILE] [--max-tokens N]
//               [--seq-len N] [--json] [--output FILE]
// Quality of a model against its reference (eval/kld.h): mean KL(reference || model) per position
// and top-1 agreement, on held-out text (cut into --seq-len windows) and on GSM8K-style items
// rendered through the chat template. --max-tokens is split evenly between the sources given.
// Prints a summary, or the JSON with --json; --output writes the JSON atomically to a file.
// `eval tasks` and `eval compare` live in eval_tasks.cpp.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/eval_tasks.h"
#include "eval/eval_set.h"
#include "eval/kld.h"
#include "runtime/model.h"
#include "util/error.h"
#include "util/file_util.h"

namespace {

struct Opts {
  mixq::cli::ResidencyFlags residency;
  std::string reference, model, text, gsm8k, output;
  int64_t max_tokens = 4096, seq_len = 512;
  bool json = false;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.require_subcommand(1, 1);
  CLI::App* kld = app.add_subcommand("kld", "Mean KL divergence (reference || model) and top-1 agreement of next-token distributions");
  kld->add_option("--reference", o->reference, "Reference model directory (its tokenizer and chat template are used)")->required();
  kld->add_option("--model", o->model, "Model to evaluate (e.g. a quantized checkpoint)")->required();
  kld->add_option("--text", o->text, "Held-out plain text file");
  kld->add_option("--gsm8k", o->gsm8k, "GSM8K-style JSONL (question, answer), rendered as chat");
  kld->add_option("--max-tokens", o->max_tokens, "Positions evaluated in all, split between the sources (default 4096)");
  kld->add_option("--seq-len", o->seq_len, "Longest sequence (default 512)");
  kld->add_flag("--json", o->json, "Print JSON");
  kld->add_option("--output", o->output, "Also write the JSON here");
  mixq::cli::add_residency_flags(*kld, o->residency);
  auto [tasks, run_tasks] = mixq::cli::add_eval_tasks(app);
  auto [compare, run_compare] = mixq::cli::add_eval_compare(app);
  auto run_kld = [o]() -> int {
    using namespace mixq;
    if (o->text.empty() && o->gsm8k.empty()) fail("eval kld: give --text FILE and/or --gsm8k FILE");
    if (o->max_tokens < 2) fail("eval kld: --max-tokens must be >= 2");
    std::vector<eval::EvalSequence> seqs =
        eval::build_eval_sequences({o->text, o->gsm8k, o->max_tokens, o->seq_len}, o->reference, "eval kld");
    const Residency res = mixq::cli::resolve_residency(o->residency, {o->reference, o->model}).residency;
    Model ref(o->reference, res), mod(o->model, res);
    eval::KldResult r = eval::compare_models(ref, mod, seqs);
    nlohmann::ordered_json j = {{"reference", o->reference}, {"model", o->model}};
    const nlohmann::ordered_json rj = r.to_json();
    for (auto it = rj.begin(); it != rj.end(); ++it) j[it.key()] = it.value();
    if (!o->output.empty()) write_file_atomic(o->output, j.dump(2) + "\n");
    if (o->json) {
      std::cout << j.dump(2) << "\n";
    } else {
      fmt::print("{} vs {}: {} positions, mean KLD {:.6f}, max KLD {:.4f}, top-1 agreement {:.4f}\n", o->model, o->reference,
                 r.all.positions, r.all.mean_kld(), r.all.kld_max, r.all.top1());
      for (const auto& [name, st] : r.by_source)
        fmt::print("  {}: {} positions, mean KLD {:.6f}, top-1 {:.4f}\n", name, st.positions, st.mean_kld(), st.top1());
    }
    return 0;
  };
  return [=]() -> int {
    if (tasks->parsed()) return run_tasks();
    if (compare->parsed()) return run_compare();
    return run_kld();
  };
}

}  // namespace

MIXQ_COMMAND("eval", "Measure model quality: against a reference (kld), on benchmarks through an endpoint (tasks), "
             "runs side by side (compare)", setup);
