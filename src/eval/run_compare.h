// `mixq eval compare RUN_A RUN_B [...]`: the card's table (one column per run, one row per task)
// from each run's report.json, and for each run against the first: items flipped both ways
// (b = first right / other wrong, c = the reverse), McNemar's exact p and a paired-bootstrap 95%
// interval of the accuracy difference (paired_stats.h). Runs made on different items or prompts
// (item ids or prompt hashes differ) are refused: a paired test needs the same items.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mixq::eval {

struct PairStat {
  std::string task;
  int64_t n = 0, b = 0, c = 0;
  double acc_a = 0, acc_b = 0, p = 1, ci_lo = 0, ci_hi = 0;
};

struct Comparison {
  std::vector<std::string> labels;     // one per run
  std::vector<std::string> tasks;
  std::vector<std::vector<double>> accuracy;  // [task][run]
  std::vector<int64_t> n;                     // per task
  std::vector<std::vector<PairStat>> pairs;   // [run - 1][task]: run k against run 0
  nlohmann::ordered_json to_json() const;
  std::string markdown() const;
};

// `runs` are run directories (or report.json paths). Throws InputError naming the run, task and
// item when they cannot be paired.
Comparison compare_runs(const std::vector<std::string>& runs, int resamples = 10000, uint64_t seed = 1234);

}  // namespace mixq::eval
