#include "eval/run_compare.h"

#include <fmt/format.h>

#include <filesystem>

#include "eval/paired_stats.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::eval {

namespace {

struct Run {
  std::string path, label;
  nlohmann::json report;
};

Run load_run(const std::string& arg) {
  Run r;
  r.path = is_directory(arg) ? arg + "/report.json" : arg;
  if (!file_exists(r.path)) fail("{}: no report.json (run `mixq eval tasks` first)", arg);
  r.report = nlohmann::json::parse(read_file(r.path), nullptr, false);
  if (!r.report.is_object() || !r.report.contains("tasks") || !r.report["tasks"].is_array())
    fail("{}: not a mixq eval tasks report (no tasks array)", r.path);
  for (const auto& t : r.report["tasks"]) {
    if (!t.is_object() || !t.contains("task") || !t.contains("items") || !t["items"].is_array())
      fail("{}: a task entry lacks task/items", r.path);
    for (const auto& it : t["items"])
      if (!it.is_object() || !it.contains("id") || !it.contains("prompt_hash") || !it.contains("outcome"))
        fail("{}: task {}: an item lacks id/prompt_hash/outcome", r.path, t["task"].dump());
  }
  r.label = r.report.value("model", std::filesystem::path(arg).filename().string());
  return r;
}

const nlohmann::json* find_task(const nlohmann::json& report, const std::string& name) {
  for (const auto& t : report["tasks"])
    if (t["task"] == name) return &t;
  return nullptr;
}

}  // namespace

Comparison compare_runs(const std::vector<std::string>& args, int resamples, uint64_t seed) {
  if (args.size() < 2) fail("eval compare: give at least two runs");
  std::vector<Run> runs;
  for (const auto& a : args) runs.push_back(load_run(a));
  // Labels: the model name, made unique with the directory when two runs share it.
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = 0; j < runs.size(); ++j)
      if (i != j && runs[i].label == runs[j].label) {
        runs[i].label = fmt::format("{} ({})", runs[i].report.value("model", ""), args[i]);
        break;
      }
  Comparison cmp;
  for (const auto& r : runs) cmp.labels.push_back(r.label);
  const auto& first = runs[0].report["tasks"];
  for (size_t k = 1; k < runs.size(); ++k) {
    if (runs[k].report["tasks"].size() != first.size())
      fail("eval compare: {} has {} tasks, {} has {}: compare runs of the same tasks", args[k],
           runs[k].report["tasks"].size(), args[0], first.size());
  }
  cmp.pairs.resize(runs.size() - 1);
  for (const auto& t0 : first) {
    const std::string name = t0["task"];
    const auto& items0 = t0["items"];
    cmp.tasks.push_back(name);
    cmp.n.push_back(int64_t(items0.size()));
    std::vector<double> accs;
    std::vector<bool> right0;
    for (const auto& it : items0) right0.push_back(it["outcome"] == "correct");
    accs.push_back(items0.empty() ? 0.0 : double(std::count(right0.begin(), right0.end(), true)) / double(items0.size()));
    for (size_t k = 1; k < runs.size(); ++k) {
      const nlohmann::json* tk = find_task(runs[k].report, name);
      if (!tk) fail("eval compare: {} has no task {} (in {})", args[k], name, args[0]);
      const auto& items = (*tk)["items"];
      if (items.size() != items0.size())
        fail("eval compare: task {}: {} has {} items, {} has {}: not the same items", name, args[k], items.size(), args[0],
             items0.size());
      std::vector<bool> right;
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i]["id"] != items0[i]["id"])
          fail("eval compare: task {}: item {} is {} in {} but {} in {}: not the same items", name, i,
               items0[i]["id"].dump(), args[0], items[i]["id"].dump(), args[k]);
        if (items[i]["prompt_hash"] != items0[i]["prompt_hash"])
          fail("eval compare: task {}: item {} was asked with a different prompt in {} than in {} (prompt hash {} vs {})",
               name, items0[i]["id"].get<std::string>(), args[k], args[0], items[i]["prompt_hash"].get<std::string>(),
               items0[i]["prompt_hash"].get<std::string>());
        right.push_back(items[i]["outcome"] == "correct");
      }
      PairStat ps;
      ps.task = name;
      ps.n = int64_t(items.size());
      for (size_t i = 0; i < right.size(); ++i) {
        ps.b += right0[i] && !right[i];
        ps.c += !right0[i] && right[i];
      }
      ps.acc_a = accs[0];
      ps.acc_b = right.empty() ? 0.0 : double(std::count(right.begin(), right.end(), true)) / double(right.size());
      ps.p = mcnemar_exact_p(ps.b, ps.c);
      BootstrapCi ci = paired_bootstrap_ci(right0, right, resamples, seed);
      ps.ci_lo = ci.lo;
      ps.ci_hi = ci.hi;
      accs.push_back(ps.acc_b);
      cmp.pairs[k - 1].push_back(ps);
    }
    cmp.accuracy.push_back(accs);
  }
  return cmp;
}

nlohmann::ordered_json Comparison::to_json() const {
  nlohmann::ordered_json j = {{"runs", labels}};
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t t = 0; t < tasks.size(); ++t) rows.push_back({{"task", tasks[t]}, {"n", n[t]}, {"accuracy", accuracy[t]}});
  j["table"] = rows;
  nlohmann::ordered_json pj = nlohmann::ordered_json::array();
  for (size_t k = 0; k < pairs.size(); ++k)
    for (const auto& p : pairs[k])
      pj.push_back({{"a", labels[0]}, {"b", labels[k + 1]}, {"task", p.task}, {"n", p.n}, {"a_only", p.b},
                    {"b_only", p.c}, {"difference", p.acc_b - p.acc_a}, {"mcnemar_exact_p", p.p},
                    {"bootstrap_ci95", {p.ci_lo, p.ci_hi}}});
  j["pairs"] = pj;
  return j;
}

std::string Comparison::markdown() const {
  std::string md = "| Benchmark | n |";
  for (const auto& l : labels) md += " " + l + " |";
  md += "\n|---|---:|";
  for (size_t i = 0; i < labels.size(); ++i) md += "---:|";
  md += "\n";
  for (size_t t = 0; t < tasks.size(); ++t) {
    md += fmt::format("| {} | {} |", tasks[t], n[t]);
    for (double a : accuracy[t]) md += fmt::format(" {:.2f}% |", 100 * a);
    md += "\n";
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    md += fmt::format("\n**{}** against **{}** (b = right only in {}, c = right only in {}; McNemar exact, "
                      "paired bootstrap 95% CI of the difference):\n\n",
                      labels[k + 1], labels[0], labels[0], labels[k + 1]);
    md += "| Benchmark | Difference | 95% CI | b | c | Flips | McNemar p |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& p : pairs[k])
      md += fmt::format("| {} | {:+.2f} pts | [{:+.2f}, {:+.2f}] | {} | {} | {:.1f}% | {:.4g} |\n", p.task,
                        100 * (p.acc_b - p.acc_a), 100 * p.ci_lo, 100 * p.ci_hi, p.b, p.c,
                        p.n ? 100.0 * double(p.b + p.c) / double(p.n) : 0.0, p.p);
  }
  return md;
}

}  // namespace mixq::eval
