// `mixq eval tasks`: loads the tasks, sends every item not already in the run's log to the
// endpoint with `concurrency` requests in flight, scores each response as it arrives (code in the
// sandbox, on the same worker), logs it (run_log.h), shows a progress bar with ETA on a terminal,
// and writes the report (task_report.h).
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "eval/code_exec.h"
#include "eval/tasks.h"

namespace mixq::eval {

struct TaskRunOptions {
  std::string endpoint, model, api_key, output, data_dir, system, tokenizer;
  std::vector<std::string> tasks;  // expanded names
  int64_t limit = 0;               // first N items of each task (0 = all)
  std::optional<int64_t> seed;     // sent as the request's seed; also the needle generator's
  int concurrency = 4;
  int64_t max_tokens = 4096;
  double temperature = 0;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  nlohmann::json chat_template_kwargs;  // null = not sent
  NeedleOptions needle;
  CodeLimits code;
  double request_timeout = 600;
  int retries = 3;
};

struct TaskRunSummary {
  int64_t items = 0, reused = 0, requested = 0, errors = 0;
  nlohmann::ordered_json report;
};

TaskRunSummary run_eval_tasks(const TaskRunOptions& o);

// The request body for one item (what the fingerprint covers).
nlohmann::json item_request(const TaskRunOptions& o, const TaskItem& item);

}  // namespace mixq::eval
