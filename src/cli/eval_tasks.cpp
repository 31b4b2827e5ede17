// mixq eval tasks --endpoint URL --model NAME --tasks LIST --output DIR [--api-key K] [--limit N]
//                 [--seed N] [--concurrency N] [--max-tokens N] [--temperature T] [--top-p P]
//                 [--top-k K] [--chat-template-kwargs JSON] [--system TEXT] [--needle-lengths L,..]
//                 [--needle-depths D,..] [--tokenizer DIR] [--data DIR] [--code-timeout S]
//                 [--code-memory GIB] [--request-timeout S] [--retries N]
// mixq eval compare RUN_A RUN_B [RUN_C ...] [--json] [--output FILE] [--resamples N]
// See docs/eval.md. Exit 0; 1 when some requests failed (the report is written; the same command
// again retries only those); 2 on bad input.
#include "cli/eval_tasks.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "eval/run_compare.h"
#include "eval/task_data.h"
#include "eval/task_runner.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::cli {

namespace {

template <class T>
std::vector<T> parse_list(const std::string& s, const char* flag) {
  std::vector<T> out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t e = s.find(',', p);
    std::string v = s.substr(p, e == std::string::npos ? std::string::npos : e - p);
    p = e == std::string::npos ? s.size() + 1 : e + 1;
    if (v.empty()) continue;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (*end != 0) fail("{} {}: '{}' is not a number", flag, s, v);
    out.push_back(T(x));
  }
  if (out.empty()) fail("{}: empty list", flag);
  return out;
}

struct TasksOpts {
  eval::TaskRunOptions run;
  std::string tasks, kwargs, lengths = "1024,4096", depths = "0,25,50,75,100", data;
  double code_memory_gib = 4;
  double top_p = -1;
  int64_t top_k = -1, seed = -1;
};

}  // namespace

std::pair<CLI::App*, RunFn> add_eval_tasks(CLI::App& app) {
  auto o = std::make_shared<TasksOpts>();
  CLI::App* s = app.add_subcommand("tasks", "Benchmarks (GSM8K, HumanEval, MBPP+, MMLU, MATH-500, needle) against an OpenAI endpoint");
  s->add_option("--endpoint", o->run.endpoint, "OpenAI-compatible server, http://HOST:PORT[/v1]")->required();
  s->add_option("--model", o->run.model, "Model name to request (the server's served model name)")->required();
  s->add_option("--api-key", o->run.api_key, "Bearer token (default: $OPENAI_API_KEY)");
  s->add_option("--tasks", o->tasks, "gsm8k,humaneval,mbppplus,mmlu:<subject>,mmlu:seed-card,mmlu:all,math500,needle")->required();
  s->add_option("--output", o->run.output, "Run directory: requests.jsonl, report.json, report.md, chart.png")->required();
  s->add_option("--limit", o->run.limit, "First N items of each task (default: all)");
  s->add_option("--seed", o->seed, "Sent as the request seed; also seeds the needle keys (default 42)");
  s->add_option("--concurrency", o->run.concurrency, "Requests in flight (and sandboxed programs) at once (default 4)");
  s->add_option("--max-tokens", o->run.max_tokens, "max_tokens per request (default 4096)");
  s->add_option("--temperature", o->run.temperature, "Sampling temperature (default 0: greedy)");
  s->add_option("--top-p", o->top_p, "top_p (not sent unless given)");
  s->add_option("--top-k", o->top_k, "top_k (not sent unless given)");
  s->add_option("--chat-template-kwargs", o->kwargs, "JSON object sent as chat_template_kwargs");
  s->add_option("--system", o->run.system, "System message before every prompt");
  s->add_option("--needle-lengths", o->lengths, "needle: prompt lengths in tokens (default 1024,4096)");
  s->add_option("--needle-depths", o->depths, "needle: needle depths in percent (default 0,25,50,75,100)");
  s->add_option("--tokenizer", o->run.tokenizer, "needle: tokenizer.json or model dir, when the endpoint has no /tokenize");
  s->add_option("--data", o->data, "Benchmark data directory (default: the bundled data/eval)");
  s->add_option("--code-timeout", o->run.code.humaneval_timeout, "HumanEval: seconds for check() (default 10)");
  s->add_option("--code-memory", o->code_memory_gib, "Sandbox address-space limit in GiB (default 4)");
  s->add_option("--request-timeout", o->run.request_timeout, "Seconds to wait for one response (default 600)");
  s->add_option("--retries", o->run.retries, "Retries of a failed request (default 3)");
  return {s, [o]() -> int {
    auto& r = o->run;
    if (r.api_key.empty())
      if (const char* k = std::getenv("OPENAI_API_KEY")) r.api_key = k;
    if (r.concurrency < 1 || r.concurrency > 256) fail("--concurrency {}: expected 1..256", r.concurrency);
    if (r.max_tokens < 1) fail("--max-tokens {}: expected >= 1", r.max_tokens);
    if (r.limit < 0) fail("--limit {}: expected >= 0", r.limit);
    if (r.temperature < 0) fail("--temperature {}: expected >= 0", r.temperature);
    if (o->top_p >= 0) r.top_p = o->top_p;
    if (o->top_k >= 0) r.top_k = o->top_k;
    if (o->seed >= 0) r.seed = o->seed;
    if (o->code_memory_gib < 0.25) fail("--code-memory {}: expected >= 0.25 (GiB)", o->code_memory_gib);
    r.code.memory = uint64_t(o->code_memory_gib * double(1ull << 30));
    if (r.code.humaneval_timeout <= 0) fail("--code-timeout: expected > 0");
    if (!o->kwargs.empty()) {
      r.chat_template_kwargs = nlohmann::json::parse(o->kwargs, nullptr, false);
      if (!r.chat_template_kwargs.is_object()) fail("--chat-template-kwargs {}: expected a JSON object", o->kwargs);
    }
    r.needle.lengths = parse_list<int64_t>(o->lengths, "--needle-lengths");
    r.needle.depths = parse_list<double>(o->depths, "--needle-depths");
    for (double d : r.needle.depths)
      if (d < 0 || d > 100) fail("--needle-depths {}: depths are percentages, 0..100", o->depths);
    for (int64_t l : r.needle.lengths)
      if (l < 64) fail("--needle-lengths {}: lengths are token counts >= 64", o->lengths);
    r.data_dir = eval::find_data_dir(o->data);
    r.tasks = eval::expand_task_list(o->tasks, r.data_dir);
    eval::TaskRunSummary sum = eval::run_eval_tasks(r);
    for (const auto& t : sum.report["tasks"])
      fmt::print("{:<36} {:>5} items  {:7.2f}% ± {:.2f}  truncated {}  no answer {}  errors {}\n",
                 t["task"].get<std::string>(), t["n"].get<int64_t>(), 100 * t["accuracy"].get<double>(),
                 100 * t["stderr"].get<double>(), t["truncated"].get<int64_t>(), t["no_answer"].get<int64_t>(),
                 t["errors"].get<int64_t>());
    fmt::print("{} items ({} from the log, {} requested); report: {}/report.md\n", sum.items, sum.reused, sum.requested,
               r.output);
    if (sum.errors) {
      std::fprintf(stderr, "mixq: %lld request(s) failed; run the same command again to retry them\n",
                   (long long)sum.errors);
      return 1;
    }
    return 0;
  }};
}

std::pair<CLI::App*, RunFn> add_eval_compare(CLI::App& app) {
  struct Opts {
    std::vector<std::string> runs;
    std::string output;
    bool json = false;
    int resamples = 10000;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* s = app.add_subcommand("compare", "The card's table from task runs, with paired statistics against the first");
  s->add_option("runs", o->runs, "Run directories (or report.json files); the first is the baseline")->required();
  s->add_flag("--json", o->json, "Print JSON");
  s->add_option("--output", o->output, "Also write the table (markdown, or JSON with --json) here");
  s->add_option("--resamples", o->resamples, "Paired bootstrap resamples (default 10000)");
  return {s, [o]() -> int {
    if (o->runs.size() < 2) fail("eval compare: give at least two runs");
    if (o->resamples < 100) fail("--resamples {}: expected >= 100", o->resamples);
    eval::Comparison c = eval::compare_runs(o->runs, o->resamples);
    std::string out = o->json ? c.to_json().dump(2) + "\n" : c.markdown();
    if (!o->output.empty()) write_file_atomic(o->output, out);
    std::cout << out;
    return 0;
  }};
}

}  // namespace mixq::cli
