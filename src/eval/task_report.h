// The report of a task run, built only from the items' logged completions and scores (so a
// resumed run gives the same bytes): report.json (per task n, correct, accuracy, stderr,
// truncated, no_answer, errors; per item id, prompt hash, response, extracted answer, gold,
// outcome), report.md (the table, each task's convention and data) and chart.png.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/openai_client.h"
#include "eval/tasks.h"

namespace mixq::eval {

struct ItemResult {
  std::string id, prompt_hash, gold;
  Completion completion;
  ItemScore score;
};

struct TaskResults {
  const Task* task = nullptr;
  std::vector<ItemResult> items;
};

nlohmann::ordered_json build_report(const nlohmann::ordered_json& header, const std::vector<TaskResults>& tasks,
                                    const std::string& sandbox_mode);
std::string report_markdown(const nlohmann::ordered_json& report);
// Writes report.json, report.md and chart.png into `dir`, each atomically.
void write_report(const std::string& dir, const nlohmann::ordered_json& report);

}  // namespace mixq::eval
