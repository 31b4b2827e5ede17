#include "eval/task_runner.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "eval/openai_client.h"
#include "eval/run_log.h"
#include "eval/task_report.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/progress.h"

namespace mixq::eval {

nlohmann::json item_request(const TaskRunOptions& o, const TaskItem& item) {
  nlohmann::json messages = nlohmann::json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  messages.push_back({{"role", "user"}, {"content", item.prompt}});
  nlohmann::json body = {{"model", o.model}, {"messages", messages}, {"max_tokens", o.max_tokens},
                         {"temperature", o.temperature}, {"stream", false}};
  if (o.top_p) body["top_p"] = *o.top_p;
  if (o.top_k) body["top_k"] = *o.top_k;
  if (o.seed) body["seed"] = *o.seed;
  if (!o.chat_template_kwargs.is_null()) body["chat_template_kwargs"] = o.chat_template_kwargs;
  return body;
}

namespace {

// Token counts for the needle haystack: the endpoint's /tokenize (the served model's own
// tokenizer), else mixq's tokenizer from --tokenizer.
TokenCounter make_counter(const TaskRunOptions& o, const OpenAIClient& client) {
  if (auto n = client.count_tokens(o.model, "probe")) {
    MIXQ_INFO("needle: counting tokens with {}/tokenize", client.base());
    return [&client, model = o.model](const std::string& s) {
      auto c = client.count_tokens(model, s);
      if (!c) fail("{}/tokenize stopped answering", client.base());
      return *c;
    };
  }
  if (o.tokenizer.empty())
    fail("needle: {} has no /tokenize; give --tokenizer DIR (a tokenizer.json or a model directory)", client.base());
  std::shared_ptr<text::Tokenizer> tok(text::Tokenizer::load(o.tokenizer));
  MIXQ_INFO("needle: counting tokens with {} (the endpoint has no /tokenize)", o.tokenizer);
  return [tok](const std::string& s) { return tok->encode(s, false).size(); };
}

void make_dir(const std::string& d) {
  if (is_directory(d)) return;
  if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) fail("--output {}: cannot create: {}", d, std::strerror(errno));
}

}  // namespace

TaskRunSummary run_eval_tasks(const TaskRunOptions& o) {
  make_dir(o.output);
  OpenAIClient client(o.endpoint, o.api_key, o.request_timeout, o.retries);
  NeedleOptions needle = o.needle;
  if (o.seed) needle.seed = uint64_t(*o.seed);
  bool has_needle = false;
  for (const auto& n : o.tasks) has_needle = has_needle || n == "needle";
  if (has_needle) needle.count = make_counter(o, client);

  std::vector<Task> tasks;
  for (const auto& name : o.tasks) {
    Task t = load_task(name, o.data_dir, needle);
    if (o.limit > 0 && int64_t(t.items.size()) > o.limit) t.items.resize(size_t(o.limit));
    tasks.push_back(std::move(t));
  }
  bool code = false;
  for (const auto& t : tasks) code = code || t.kind == TaskKind::HumanEval || t.kind == TaskKind::MbppPlus;
  if (code && !Sandbox::get().namespaces()) MIXQ_WARN("sandbox: {}", Sandbox::get().mode());

  nlohmann::ordered_json settings = {{"tasks", o.tasks}, {"limit", o.limit}, {"max_tokens", o.max_tokens},
                                     {"temperature", o.temperature}};
  if (o.top_p) settings["top_p"] = *o.top_p;
  if (o.top_k) settings["top_k"] = *o.top_k;
  if (o.seed) settings["seed"] = *o.seed;
  if (!o.system.empty()) settings["system"] = o.system;
  if (!o.chat_template_kwargs.is_null()) settings["chat_template_kwargs"] = o.chat_template_kwargs;
  if (has_needle) settings["needle"] = {{"lengths", needle.lengths}, {"depths", needle.depths}, {"seed", needle.seed}};
  nlohmann::ordered_json header = {{"mixq_version", MIXQ_VERSION}, {"endpoint", o.endpoint}, {"model", o.model},
                                   {"settings", settings}};
  write_file_atomic(o.output + "/run.json", header.dump(2) + "\n");

  RunLog log(o.output + "/requests.jsonl");
  if (log.skipped_lines()) MIXQ_WARN("{}/requests.jsonl: skipped {} torn or foreign line(s)", o.output, log.skipped_lines());

  // Results in item order; the work list is every item without a finished log line.
  std::vector<TaskResults> results(tasks.size());
  struct Work { size_t t, i; nlohmann::json body; std::string fp; };
  std::vector<Work> work;
  TaskRunSummary sum;
  for (size_t t = 0; t < tasks.size(); ++t) {
    results[t].task = &tasks[t];
    results[t].items.resize(tasks[t].items.size());
    for (size_t i = 0; i < tasks[t].items.size(); ++i) {
      const TaskItem& item = tasks[t].items[i];
      nlohmann::json body = item_request(o, item);
      ItemResult& r = results[t].items[i];
      r.id = item.id;
      r.gold = item.gold;
      r.prompt_hash = prompt_hash(body["messages"]);
      std::string fp = item_fingerprint(tasks[t].name, item.id, body);
      ++sum.items;
      auto it = log.finished().find(fp);
      if (it != log.finished().end()) {
        r.completion = Completion::from_json(it->second["completion"]);
        r.score = ItemScore::from_json(it->second["score"]);
        ++sum.reused;
        continue;
      }
      work.push_back({t, i, std::move(body), std::move(fp)});
    }
  }
  if (sum.reused) MIXQ_INFO("eval tasks: {} of {} items reused from {}/requests.jsonl", sum.reused, sum.items, o.output);

  std::atomic<size_t> next{0};
  std::mutex progress_mu;
  Progress bar("eval tasks", work.size(), "items");
  std::exception_ptr failure;
  auto worker = [&](int slot) {
    try {
      for (size_t w; (w = next.fetch_add(1)) < work.size();) {
        const Work& job = work[w];
        const Task& task = tasks[job.t];
        const TaskItem& item = task.items[job.i];
        Completion c = client.chat(job.body);
        ItemScore s = score_item(task, item, c, o.code, slot);
        ItemResult& r = results[job.t].items[job.i];
        r.completion = c;
        r.score = s;
        nlohmann::json line = {{"fingerprint", job.fp}, {"task", task.name}, {"id", item.id},
                               {"prompt_hash", r.prompt_hash}, {"request", job.body}, {"response", c.raw},
                               {"completion", c.to_json()}, {"score", s.to_json()}};
        log.append(line);
        std::lock_guard<std::mutex> lk(progress_mu);
        bar.advance();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lk(progress_mu);
      if (!failure) failure = std::current_exception();
      next = work.size();
    }
  };
  std::vector<std::thread> threads;
  const int n_threads = std::max(1, std::min<int>(o.concurrency, int(std::max<size_t>(1, work.size()))));
  for (int k = 0; k < n_threads; ++k) threads.emplace_back(worker, k);
  for (auto& th : threads) th.join();
  bar.finish();
  if (failure) std::rethrow_exception(failure);
  sum.requested = int64_t(work.size());
  for (const auto& tr : results)
    for (const auto& it : tr.items) sum.errors += it.score.outcome == "error";
  sum.report = build_report(header, results, Sandbox::get().mode());
  write_report(o.output, sum.report);
  return sum;
}

}  // namespace mixq::eval
