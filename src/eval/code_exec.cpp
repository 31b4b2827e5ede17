#include "eval/code_exec.h"

#include <signal.h>

#include <algorithm>
#include <sstream>

#include "eval/code_driver.h"

namespace mixq::eval {

const char* outcome_name(TestOutcome o) {
  switch (o) {
    case TestOutcome::Pass: return "pass";
    case TestOutcome::Fail: return "fail";
    case TestOutcome::Timeout: return "timeout";
    case TestOutcome::OutOfMemory: return "out-of-memory";
    case TestOutcome::Crashed: return "crashed";
    case TestOutcome::SandboxRefused: return "sandbox-refused";
  }
  return "?";
}

nlohmann::json CodeResult::to_json() const {
  nlohmann::json j = {{"outcome", outcome_name(outcome)}, {"tests_run", tests.size()}, {"total_tests", total_tests}};
  int passed = 0;
  for (auto t : tests) passed += t == TestOutcome::Pass;
  j["tests_passed"] = passed;
  if (skipped) j["skipped_inputs"] = skipped;
  if (base_tests) {
    j["base_tests"] = base_tests;
    j["base_pass"] = base_pass;
  }
  if (!detail.empty()) j["detail"] = detail;
  return j;
}

namespace {

// How the process ended, as the outcome of the test that was running.
TestOutcome process_outcome(const SandboxResult& r, const SandboxLimits& sl, std::string& detail) {
  using End = SandboxResult::End;
  switch (r.end) {
    case End::SetupFailed: detail = "sandbox: " + r.setup_error; return TestOutcome::SandboxRefused;
    case End::WallTimeout: detail = "wall-clock deadline"; return TestOutcome::Timeout;
    case End::Exited:
      detail = "the program exited (code " + std::to_string(r.exit_code) + ") before its tests finished";
      if (r.output.find("MemoryError") != std::string::npos) return TestOutcome::OutOfMemory;
      return TestOutcome::Crashed;
    case End::Signaled: break;
  }
  detail = std::string("killed by ") + (sigabbrev_np(r.signal) ? std::string("SIG") + sigabbrev_np(r.signal) : std::to_string(r.signal));
  if (r.signal == SIGSYS) return TestOutcome::SandboxRefused;  // the seccomp filter
  if (r.signal == SIGXCPU) return TestOutcome::Timeout;
  // SIGKILL we did not send: the CPU hard limit or the kernel's OOM killer.
  if (r.signal == SIGKILL) return r.wall_seconds >= sl.cpu_seconds ? TestOutcome::Timeout : TestOutcome::OutOfMemory;
  return TestOutcome::Crashed;
}

TestOutcome parse_status(const std::string& s) {
  if (s == "pass") return TestOutcome::Pass;
  if (s == "timeout") return TestOutcome::Timeout;
  if (s == "oom") return TestOutcome::OutOfMemory;
  return TestOutcome::Fail;
}

}  // namespace

CodeResult run_driver_job(const nlohmann::json& job, int expected_tests, const SandboxLimits& sl,
                          const std::string& python, int slot, const Sandbox& sandbox) {
  SandboxResult r = sandbox.run({python, "-I", "-S", "-B", "-c", code_driver_source()}, job.dump(), sl, slot);
  CodeResult c;
  c.total_tests = expected_tests;
  bool done = false;
  std::istringstream lines(r.results);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("done")) { done = true; continue; }
    std::string s = j.value("s", "");
    TestOutcome o = parse_status(s);
    if (s == "ref-error") {
      c.detail = "the reference solution failed on input " + std::to_string(j.value("t", 0)) + ": " + j.value("d", "");
      c.outcome = TestOutcome::Crashed;
      return c;
    }
    if (s == "skipped") {
      ++c.skipped;
      continue;
    }
    c.tests.push_back(o);
    c.test_index.push_back(j.value("t", 0));
    if (o != TestOutcome::Pass && c.detail.empty()) c.detail = j.value("d", "");
  }
  bool all_pass = done && int(c.tests.size()) + c.skipped == expected_tests && !c.tests.empty();
  for (auto t : c.tests) all_pass = all_pass && t == TestOutcome::Pass;
  if (all_pass) {
    c.outcome = TestOutcome::Pass;
  } else if (!c.tests.empty() && c.tests.back() != TestOutcome::Pass) {
    c.outcome = c.tests.back();
  } else {
    std::string why;
    c.outcome = done ? TestOutcome::Fail : process_outcome(r, sl, why);
    if (!done) c.tests.push_back(c.outcome);
    if (!done) c.test_index.push_back(c.test_index.empty() ? 0 : c.test_index.back() + 1);
    c.detail = done ? (c.tests.empty() ? "no input has an expected output" : "the driver stopped early") : why;
  }
  return c;
}

CodeResult run_humaneval(const std::string& code, const std::string& test, const std::string& entry_point,
                         const CodeLimits& lim, int slot) {
  nlohmann::json job = {{"kind", "humaneval"}, {"code", code}, {"test", test}, {"entry_point", entry_point},
                        {"timeout", lim.humaneval_timeout}};
  SandboxLimits sl;
  sl.address_space = lim.memory;
  sl.cpu_seconds = int(lim.humaneval_timeout) + 5;
  sl.wall_seconds = lim.humaneval_timeout + 10;
  return run_driver_job(job, 1, sl, lim.python, slot);
}

CodeResult run_mbppplus(const std::string& code, const std::string& reference, const std::string& entry_point,
                        const nlohmann::json& inputs, int base_count, double atol, const CodeLimits& lim, int slot,
                        const std::string& contract) {
  nlohmann::json job = {{"kind", "mbpp"}, {"code", code}, {"reference", reference}, {"entry_point", entry_point},
                        {"inputs", inputs}, {"atol", atol}, {"min_time", lim.min_time}, {"factor", lim.factor},
                        {"task_limit", lim.task_limit}, {"ref_timeout", lim.task_limit}, {"contract", contract}};
  SandboxLimits sl;
  sl.address_space = lim.memory;
  // The reference runs first (bounded by task_limit in all in practice), then the candidate.
  sl.cpu_seconds = int(2 * lim.task_limit) + 10;
  sl.wall_seconds = 2 * lim.task_limit + 20;
  CodeResult c = run_driver_job(job, int(inputs.size()), sl, lim.python, slot);
  c.base_tests = base_count;
  // Base tests pass when no base input failed and the run got past them (evalplus's "base").
  bool ok = true;
  int last_base_pass = -1;
  for (size_t i = 0; i < c.tests.size(); ++i) {
    if (c.test_index[i] >= base_count) break;
    if (c.tests[i] != TestOutcome::Pass) { ok = false; break; }
    last_base_pass = c.test_index[i];
  }
  bool reached = c.outcome == TestOutcome::Pass || last_base_pass == base_count - 1 ||
                 std::any_of(c.test_index.begin(), c.test_index.end(), [&](int t) { return t >= base_count; });
  c.base_pass = ok && reached && !c.tests.empty();
  return c;
}

}  // namespace mixq::eval
