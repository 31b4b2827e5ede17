// Runs a model's Python solution against a task's tests in the sandbox (sandbox.h) with the
// driver (code_driver.h), and turns how the process ended into one outcome per test:
// pass / fail / timeout / out-of-memory / crashed / sandbox-refused.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/sandbox.h"

namespace mixq::eval {

enum class TestOutcome { Pass, Fail, Timeout, OutOfMemory, Crashed, SandboxRefused };
const char* outcome_name(TestOutcome o);  // "pass", "fail", "timeout", "out-of-memory", "crashed", "sandbox-refused"

struct CodeLimits {
  double humaneval_timeout = 10;  // s for check(); human-eval uses 3 s on an idle machine
  double min_time = 4, factor = 4, task_limit = 60;  // evalplus per-test / per-task limits
  uint64_t memory = 4ull << 30;
  std::string python = "/usr/bin/python3";
};

struct CodeResult {
  TestOutcome outcome = TestOutcome::Fail;  // Pass when every test passed, else the first other outcome
  std::vector<TestOutcome> tests;           // one per test run (a run stops at the first failure)
  std::vector<int> test_index;              // the input index of each of `tests`
  int total_tests = 0, base_tests = 0;
  int skipped = 0;  // MBPP+ inputs the reference solution itself raises on (no expected output)
  bool base_pass = false;  // MBPP+: every base test passed (evalplus's "mbpp (base tests)")
  std::string detail;
  nlohmann::json to_json() const;
};

CodeResult run_humaneval(const std::string& code, const std::string& test, const std::string& entry_point,
                         const CodeLimits& lim, int slot);
// inputs: base inputs followed by plus inputs (base_count of them first). `contract`: the task's
// input contract (its isinstance(x, tuple) asserts say which arguments are tuples).
CodeResult run_mbppplus(const std::string& code, const std::string& reference, const std::string& entry_point,
                        const nlohmann::json& inputs, int base_count, double atol, const CodeLimits& lim, int slot,
                        const std::string& contract = "");

// Lower level, for the sandbox tests: run `job` through the driver; how the process ended and the
// driver's lines make `expected_tests` outcomes.
CodeResult run_driver_job(const nlohmann::json& job, int expected_tests, const SandboxLimits& sl,
                          const std::string& python, int slot, const Sandbox& sandbox = Sandbox::get());

}  // namespace mixq::eval
