// Scorers on known answers, code: HumanEval's canonical solutions pass 164/164 and MBPP+'s pass
// every base + plus test in the sandbox; a deliberately wrong variant of each fails. Programs run
// in parallel on a bounded pool (one sandbox slot per worker) to keep CI time modest.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "eval/code_exec.h"
#include "eval/code_extract.h"
#include "eval/task_data.h"
#include "eval/tasks.h"

namespace mixq::eval {
namespace {

const std::string kData = std::string(MIXQ_SOURCE_DIR) + "/data/eval";

void parallel(size_t n, const std::function<void(size_t, int)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([&, k] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i, k);
    });
  for (auto& t : ts) t.join();
}

TEST(CodeCanonical, HumanEvalCanonicalPassesAndAWrongVariantFails) {
  Task t = load_task("humaneval", kData, {});
  ASSERT_EQ(t.items.size(), 164u);
  CodeLimits lim;
  std::vector<std::string> good(t.items.size()), bad(t.items.size());
  parallel(t.items.size(), [&](size_t i, int slot) {
    const auto& d = t.items[i].data;
    const std::string prompt = d["prompt"], ep = d["entry_point"];
    // The response a chat model gives: the whole function in a markdown block.
    std::string answer = "Here you go:\n```python\n" + prompt + d["canonical"].get<std::string>() + "```\n";
    CodeResult g = run_humaneval(code_program(extract_code(answer, ep), prompt, ep), d["test"], ep, lim, slot);
    good[i] = std::string(outcome_name(g.outcome)) + (g.outcome == TestOutcome::Pass ? "" : ": " + g.detail);
    // Wrong on purpose: the canonical result, perturbed.
    std::string wrong = prompt + d["canonical"].get<std::string>() + "\n_orig = " + ep + "\ndef " + ep +
                        "(*a, **k):\n    r = _orig(*a, **k)\n    return [r, 'wrong']\n";
    CodeResult b = run_humaneval(wrong, d["test"], ep, lim, slot);
    bad[i] = std::string(outcome_name(b.outcome)) + (b.outcome == TestOutcome::Fail ? "" : ": " + b.detail);
  });
  int passed = 0, wrong_failed = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    passed += good[i] == "pass";
    wrong_failed += bad[i] == "fail";
    EXPECT_EQ(good[i], "pass") << t.items[i].id;
    EXPECT_EQ(bad[i], "fail") << t.items[i].id;
  }
  EXPECT_EQ(passed, 164);
  EXPECT_EQ(wrong_failed, 164);
}

TEST(CodeCanonical, MbppPlusCanonicalPassesBaseAndPlusTestsAndAWrongVariantFails) {
  Task t = load_task("mbppplus", kData, {});
  ASSERT_EQ(t.items.size(), 399u);
  CodeLimits lim;
  std::vector<std::string> good(t.items.size()), bad(t.items.size()), detail(t.items.size());
  std::vector<int> base_ok(t.items.size()), tests(t.items.size()), skipped(t.items.size());
  parallel(t.items.size(), [&](size_t i, int slot) {
    const auto& d = t.items[i].data;
    const std::string ep = d["entry_point"], canonical = d["canonical"];
    CodeResult r = run_mbppplus(canonical, canonical, ep, d["inputs"], d["base_count"], d["atol"], lim, slot, d["contract"]);
    good[i] = outcome_name(r.outcome);
    detail[i] = r.detail;
    base_ok[i] = r.base_pass;
    tests[i] = int(r.tests.size());
    skipped[i] = r.skipped;
    // Every 8th task also with a wrong variant (the canonical result, perturbed).
    if (i % 8 == 0) {
      std::string wrong = canonical + "\n_orig = " + ep + "\ndef " + ep + "(*a, **k):\n    return [_orig(*a, **k), 'wrong']\n";
      bad[i] = outcome_name(
          run_mbppplus(wrong, canonical, ep, d["inputs"], d["base_count"], d["atol"], lim, slot, d["contract"]).outcome);
    }
  });
  int passed = 0;
  size_t total_tests = 0, total_skipped = 0, tasks_with_skips = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    passed += good[i] == "pass";
    total_tests += size_t(tests[i]);
    total_skipped += size_t(skipped[i]);
    tasks_with_skips += skipped[i] > 0;
    EXPECT_EQ(good[i], "pass") << t.items[i].id << ": " << detail[i];
    EXPECT_TRUE(base_ok[i]) << t.items[i].id;
    if (i % 8 == 0) {
      EXPECT_EQ(bad[i], "fail") << t.items[i].id;
    }
  }
  EXPECT_EQ(passed, 399);
  std::printf("MBPP+: %zu tests run, %zu inputs skipped (the reference raises on them) in %zu tasks\n", total_tests,
              total_skipped, tasks_with_skips);
  EXPECT_EQ(total_tests + total_skipped, 1236u + 42082u);  // every base and plus input
  EXPECT_LT(total_skipped, 1000u);
}

}  // namespace
}  // namespace mixq::eval
