#include "eval/task_report.h"

#include <fmt/format.h>

#include "eval/paired_stats.h"
#include "eval/png_chart.h"
#include "util/file_util.h"

namespace mixq::eval {

nlohmann::ordered_json build_report(const nlohmann::ordered_json& header, const std::vector<TaskResults>& tasks,
                                    const std::string& sandbox_mode) {
  nlohmann::ordered_json rep = header;
  bool code = false;
  nlohmann::ordered_json jt = nlohmann::ordered_json::array();
  for (const auto& tr : tasks) {
    const Task& t = *tr.task;
    const bool is_code = t.kind == TaskKind::HumanEval || t.kind == TaskKind::MbppPlus;
    code = code || is_code;
    int64_t n = 0, correct = 0, truncated = 0, no_answer = 0, wrong = 0, errors = 0, base_correct = 0;
    nlohmann::ordered_json code_outcomes = nlohmann::ordered_json::object();
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const auto& it : tr.items) {
      ++n;
      const std::string& o = it.score.outcome;
      correct += o == "correct";
      truncated += o == "truncated";
      no_answer += o == "no_answer";
      wrong += o == "wrong";
      errors += o == "error";
      if (t.kind == TaskKind::MbppPlus && it.score.detail.value("base_correct", false)) ++base_correct;
      if (is_code && it.score.detail.contains("code")) {
        std::string co = it.score.detail["code"].value("outcome", "?");
        code_outcomes[co] = code_outcomes.value(co, 0) + 1;
      }
      nlohmann::ordered_json ij = {{"id", it.id}, {"prompt_hash", it.prompt_hash}, {"outcome", o},
                                   {"extracted", it.score.extracted}, {"gold", it.gold},
                                   {"finish_reason", it.completion.finish_reason},
                                   {"response", it.completion.content}};
      if (!it.completion.reasoning.empty()) ij["reasoning_chars"] = it.completion.reasoning.size();
      if (!it.score.detail.empty()) ij["detail"] = it.score.detail;
      items.push_back(std::move(ij));
    }
    nlohmann::ordered_json j = {{"task", t.name}, {"convention", t.convention}, {"dataset", t.dataset}, {"n", n},
                                {"correct", correct}, {"accuracy", n ? double(correct) / double(n) : 0.0},
                                {"stderr", accuracy_stderr(correct, n)}, {"truncated", truncated},
                                {"no_answer", no_answer}, {"wrong", wrong}, {"errors", errors}};
    if (t.kind == TaskKind::MbppPlus) {
      j["base_correct"] = base_correct;
      j["base_accuracy"] = n ? double(base_correct) / double(n) : 0.0;
    }
    if (is_code) j["code_outcomes"] = code_outcomes;
    j["items"] = std::move(items);
    jt.push_back(std::move(j));
  }
  if (code) rep["sandbox"] = sandbox_mode;
  rep["tasks"] = std::move(jt);
  return rep;
}

std::string report_markdown(const nlohmann::ordered_json& r) {
  std::string md = fmt::format("# mixq eval tasks: {}\n\nEndpoint `{}`, model `{}`.\n\n", r.value("model", ""),
                               r.value("endpoint", ""), r.value("model", ""));
  md += "| Task | n | Correct | Accuracy | ± stderr | Truncated | No answer | Errors |\n";
  md += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& t : r["tasks"]) {
    md += fmt::format("| {} | {} | {} | {:.2f}% | {:.2f} | {} | {} | {} |\n", t["task"].get<std::string>(),
                      t["n"].get<int64_t>(), t["correct"].get<int64_t>(), 100 * t["accuracy"].get<double>(),
                      100 * t["stderr"].get<double>(), t["truncated"].get<int64_t>(), t["no_answer"].get<int64_t>(),
                      t["errors"].get<int64_t>());
    if (t.contains("base_correct"))
      md += fmt::format("| {} (base tests only) | {} | {} | {:.2f}% | | | | |\n", t["task"].get<std::string>(),
                        t["n"].get<int64_t>(), t["base_correct"].get<int64_t>(), 100 * t["base_accuracy"].get<double>());
  }
  md += "\nTruncated = the response hit max_tokens (finish_reason \"length\"): counted as not correct and reported "
        "apart, never as a wrong answer.\n\n## Conventions and data\n\n";
  for (const auto& t : r["tasks"]) {
    md += fmt::format("- **{}**: {}. Data: {}.", t["task"].get<std::string>(), t["convention"].get<std::string>(),
                      t["dataset"].get<std::string>());
    if (t.contains("code_outcomes") && !t["code_outcomes"].empty()) {
      md += " Sandbox outcomes:";
      for (auto it = t["code_outcomes"].begin(); it != t["code_outcomes"].end(); ++it)
        md += fmt::format(" {} {},", it.key(), it.value().get<int64_t>());
      md.pop_back();
      md += ".";
    }
    md += "\n";
  }
  if (r.contains("sandbox")) md += fmt::format("\nCode ran in the sandbox: {}.\n", r["sandbox"].get<std::string>());
  if (r.contains("settings")) md += "\nSettings: `" + r["settings"].dump() + "`\n";
  return md;
}

void write_report(const std::string& dir, const nlohmann::ordered_json& report) {
  write_file_atomic(dir + "/report.json", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomic(dir + "/report.md", report_markdown(report));
  std::vector<ChartBar> bars;
  for (const auto& t : report["tasks"]) {
    ChartBar b;
    b.label = t["task"];
    b.n = t["n"];
    b.accuracy = t["accuracy"];
    b.truncated = b.n ? double(t["truncated"].get<int64_t>()) / double(b.n) : 0.0;
    bars.push_back(b);
  }
  write_file_atomic(dir + "/chart.png", render_bar_chart_png("mixq eval tasks: " + report.value("model", ""), bars));
}

}  // namespace mixq::eval
