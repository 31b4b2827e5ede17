// `eval compare` on a small fixture: McNemar's exact p by hand, the paired bootstrap, the table,
// and the refusal to pair runs made on different items or prompts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "eval/paired_stats.h"
#include "eval/run_compare.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq::eval {
namespace {

TEST(PairedStats, McNemarExactByHand) {
  // b = 7, c = 2: 2 * (C(9,0) + C(9,1) + C(9,2)) / 2^9 = 2 * 46 / 512.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(7, 2), 92.0 / 512.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(2, 7), 92.0 / 512.0);
  // b = 12, c = 0 (the card's HumanEval gap, all one way): 2 / 2^12.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(12, 0), 2.0 / 4096.0);
  // b = 3, c = 1: 2 * (1 + 4) / 16.
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(3, 1), 0.625);
  // 22 / 10 (eval-tasks.md: "about .05"): 2 * sum_{i<=10} C(32, i) / 2^32.
  EXPECT_NEAR(mcnemar_exact_p(22, 10), 0.050102459732443094, 1e-12);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  // A gap of 5 items can never reach p < .05 (eval-tasks.md §4).
  EXPECT_GT(mcnemar_exact_p(5, 0), 0.05);
}

TEST(PairedStats, StderrAndBootstrap) {
  EXPECT_NEAR(accuracy_stderr(50, 100), std::sqrt(0.25 / 99), 1e-15);  // stddev(ddof=1)/sqrt(n)
  EXPECT_EQ(accuracy_stderr(0, 1), 0);
  std::vector<bool> a(200), b(200);
  for (int i = 0; i < 200; ++i) { a[size_t(i)] = i % 2 == 0; b[size_t(i)] = a[size_t(i)]; }
  BootstrapCi same = paired_bootstrap_ci(a, b);
  EXPECT_EQ(same.lo, 0);  // identical answers: no difference in any resample
  EXPECT_EQ(same.hi, 0);
  for (int i = 1; i < 60; i += 2) b[size_t(i)] = true;  // B right on 30 more items
  BootstrapCi up = paired_bootstrap_ci(a, b);
  EXPECT_GT(up.lo, 0.0);
  EXPECT_LT(up.lo, 0.15);
  EXPECT_GT(up.hi, 0.15);
  EXPECT_LT(up.hi, 0.25);
  BootstrapCi again = paired_bootstrap_ci(a, b);  // fixed seed: reproducible
  EXPECT_EQ(up.lo, again.lo);
  EXPECT_EQ(up.hi, again.hi);
}

// A report with one task whose items are right where `right` says.
nlohmann::json report(const std::string& model, const std::vector<bool>& right, const std::string& prompt_salt = "") {
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < right.size(); ++i)
    items.push_back({{"id", "t/" + std::to_string(i)}, {"prompt_hash", "h" + std::to_string(i) + prompt_salt},
                     {"outcome", right[i] ? "correct" : "wrong"}});
  return {{"model", model}, {"tasks", {{{"task", "t"}, {"items", items}}}}};
}

struct Fixture : ::testing::Test {
  std::string dir = std::filesystem::temp_directory_path() / ("mixq_compare_" + std::to_string(getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string put(const std::string& name, const nlohmann::json& j) {
    std::filesystem::create_directories(dir + "/" + name);
    write_file_atomic(dir + "/" + name + "/report.json", j.dump());
    return dir + "/" + name;
  }
};

TEST_F(Fixture, CompareReproducesHandComputedMcNemar) {
  // 20 items: both right on 8, A only on 7, B only on 2, both wrong on 3.
  std::vector<bool> a, b;
  for (int i = 0; i < 8; ++i) { a.push_back(true); b.push_back(true); }
  for (int i = 0; i < 7; ++i) { a.push_back(true); b.push_back(false); }
  for (int i = 0; i < 2; ++i) { a.push_back(false); b.push_back(true); }
  for (int i = 0; i < 3; ++i) { a.push_back(false); b.push_back(false); }
  std::string ra = put("a", report("base", a)), rb = put("b", report("quant", b));
  Comparison c = compare_runs({ra, rb});
  ASSERT_EQ(c.pairs.size(), 1u);
  ASSERT_EQ(c.pairs[0].size(), 1u);
  const PairStat& p = c.pairs[0][0];
  EXPECT_EQ(p.b, 7);
  EXPECT_EQ(p.c, 2);
  EXPECT_DOUBLE_EQ(p.p, 92.0 / 512.0);
  EXPECT_DOUBLE_EQ(c.accuracy[0][0], 0.75);
  EXPECT_DOUBLE_EQ(c.accuracy[0][1], 0.50);
  EXPECT_LE(p.ci_lo, -0.25);
  EXPECT_GE(p.ci_hi, -0.25);
  std::string md = c.markdown();
  EXPECT_NE(md.find("| Benchmark | n | base | quant |"), std::string::npos) << md;
  EXPECT_NE(md.find("| t | 20 | 75.00% | 50.00% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 7 | 2 | 45.0% | 0.1797 |"), std::string::npos) << md;
  // A third run: one more pair against the first column.
  std::string rc = put("c", report("other", a));
  Comparison c3 = compare_runs({ra, rb, rc});
  ASSERT_EQ(c3.pairs.size(), 2u);
  EXPECT_EQ(c3.pairs[1][0].b + c3.pairs[1][0].c, 0);
  EXPECT_DOUBLE_EQ(c3.pairs[1][0].p, 1.0);
}

TEST_F(Fixture, RefusesDifferentItemsOrPrompts) {
  std::vector<bool> a(10, true);
  std::string ra = put("a", report("m1", a));
  std::string rp = put("p", report("m2", a, "-other-system-prompt"));
  EXPECT_THROW(compare_runs({ra, rp}), InputError);
  std::vector<bool> shorter(9, true);
  std::string rs = put("s", report("m3", shorter));
  EXPECT_THROW(compare_runs({ra, rs}), InputError);
  nlohmann::json renamed = report("m4", a);
  renamed["tasks"][0]["items"][3]["id"] = "t/other";
  std::string rr = put("r", renamed);
  try {
    compare_runs({ra, rr});
    FAIL() << "expected a refusal";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not the same items"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compare_runs({ra, dir + "/missing"}), InputError);
}

}  // namespace
}  // namespace mixq::eval
