// Continuous batching on the bundled tiny model: greedy outputs of 8 concurrent sequences of
// different lengths equal each sequence run alone and the single-sequence engine (generate), with
// and without a KV pool so small that sequences are preempted and recomputed; prefix caching
// reuses a shared prompt's blocks and changes nothing in the output; cancellation frees blocks.
#include <gtest/gtest.h>

#include <memory>

#include "runtime/generate.h"
#include "runtime/scheduler.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace mixq {
namespace {

const std::string kModel = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";

const Model& tiny() {
  static Model m(kModel);
  return m;
}

struct Collect : SeqSink {
  std::vector<int32_t> tokens;
  SeqResult result;
  bool done = false;
  int64_t stop_after = -1;  // on_token returns false after this many tokens
  bool on_token(const TokenEvent& ev) override {
    tokens.push_back(ev.id);
    return stop_after < 0 || int64_t(tokens.size()) < stop_after;
  }
  void on_finish(const SeqResult& r) override {
    result = r;
    done = true;
  }
};

std::vector<std::vector<int32_t>> prompts() {
  auto tk = text::Tokenizer::load(kModel);
  const char* texts[] = {
      "It was on a dreary night of November that I beheld the accomplishment of my toils.",
      "def fibonacci(n):\n    ",
      "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many?",
      "The",
      "import os\nimport sys\n\ndef main():\n    args = sys.argv[1:]\n    for a in args:\n        print(",
      "I saw the dull yellow eye of the creature open; it breathed hard, and a convulsive motion agitated its limbs. "
      "How can I describe my emotions at this catastrophe, or how delineate the wretch whom with such infinite pains "
      "and care I had endeavoured to form?",
      "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):",
      "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
  };
  std::vector<std::vector<int32_t>> out;
  for (const char* t : texts) out.push_back(tk->encode(t, false));
  return out;
}

SeqParams greedy(int64_t max_tokens) {
  SeqParams p;
  p.max_tokens = max_tokens;
  p.eos_ids = default_stop_ids(tiny());
  return p;
}

// Runs the prompts through one scheduler (all submitted at once), stepping until every one ends.
std::vector<std::shared_ptr<Collect>> run_all(const std::vector<std::vector<int32_t>>& ps, int64_t blocks,
                                              SchedulerOptions so, int64_t max_tokens, SchedulerStats* stats = nullptr) {
  KvPool pool(tiny().config(), blocks, 32, kernels::KvType::BF16);
  Scheduler s(tiny(), pool, so);
  std::vector<std::shared_ptr<Collect>> sinks;
  for (const auto& p : ps) {
    sinks.push_back(std::make_shared<Collect>());
    s.submit(p, greedy(max_tokens), sinks.back());
  }
  for (int i = 0; i < 100000 && s.step(); ++i) {
  }
  for (auto& c : sinks) EXPECT_TRUE(c->done);
  EXPECT_EQ(pool.blocks_in_use(), 0);
  if (stats) *stats = s.stats();
  return sinks;
}

TEST(Scheduler, BatchedGreedyOutputsEqualEachSequenceAlone) {
  const auto ps = prompts();
  const int64_t N = 24;
  SchedulerOptions so;
  so.max_model_len = 512;
  so.max_batched_tokens = 64;  // prompts are chunked, and prefill chunks share steps with decodes
  SchedulerStats st;
  auto batched = run_all(ps, 64, so, N, &st);
  EXPECT_GT(st.steps, 0);
  for (size_t i = 0; i < ps.size(); ++i) {
    auto alone = run_all({ps[i]}, 64, so, N);
    EXPECT_EQ(batched[i]->tokens, alone[0]->tokens) << "prompt " << i;
    // The single-sequence engine (contiguous KV cache, generate.h) agrees too.
    GenerateOptions g;
    g.max_new_tokens = N;
    g.stop_ids = default_stop_ids(tiny());
    const auto r = generate(tiny(), ps[i], g);
    EXPECT_EQ(alone[0]->tokens, r.tokens) << "prompt " << i;
    EXPECT_EQ(batched[i]->result.finish_reason, r.finish_reason == "stop" ? "stop" : "length");
  }
}

TEST(Scheduler, PreemptionRecomputesAndKeepsOutputsExact) {
  const auto ps = prompts();
  SchedulerOptions so;
  so.max_model_len = 192;  // 6 blocks of 32: the pool below holds 2 such sequences, not 8
  so.max_batched_tokens = 256;
  SchedulerStats st;
  auto small = run_all(ps, 12, so, 40, &st);
  EXPECT_GT(st.preemptions, 0) << "the pool was meant to run out";
  auto big = run_all(ps, 128, so, 40);
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(small[i]->tokens, big[i]->tokens) << "prompt " << i;
}

TEST(Scheduler, PrefixCacheReusesSharedPromptBlocks) {
  auto ps = prompts();
  // A 100-token shared "system prompt" (3 full blocks) ahead of two different questions.
  std::vector<int32_t> system;
  for (const auto& p : ps)
    for (int32_t t : p)
      if (system.size() < 100) system.push_back(t);
  std::vector<int32_t> a = system, b = system;
  a.insert(a.end(), ps[2].begin(), ps[2].end());
  b.insert(b.end(), ps[7].begin(), ps[7].end());
  SchedulerOptions so;
  so.max_model_len = 512;
  KvPool pool(tiny().config(), 64, 32, kernels::KvType::BF16);
  Scheduler s(tiny(), pool, so);
  auto ca = std::make_shared<Collect>(), cb = std::make_shared<Collect>();
  s.submit(a, greedy(8), ca);
  while (s.step()) {
  }
  s.submit(b, greedy(8), cb);
  while (s.step()) {
  }
  EXPECT_EQ(ca->result.cached_tokens, 0);
  EXPECT_EQ(cb->result.cached_tokens, 96);  // 3 full blocks of the shared prefix
  EXPECT_EQ(s.stats().prefix_hits, 96);
  // The same output as without the cache.
  SchedulerOptions off = so;
  off.prefix_caching = false;
  auto ref = run_all({b}, 64, off, 8);
  EXPECT_EQ(cb->tokens, ref[0]->tokens);
}

TEST(Scheduler, CancelledAndStoppedSequencesEndAndFreeTheirBlocks) {
  const auto ps = prompts();
  SchedulerOptions so;
  so.max_model_len = 512;
  KvPool pool(tiny().config(), 64, 32, kernels::KvType::BF16);
  Scheduler s(tiny(), pool, so);
  auto c1 = std::make_shared<Collect>(), c2 = std::make_shared<Collect>();
  c2->stop_after = 3;
  auto h1 = s.submit(ps[0], greedy(100), c1);
  s.submit(ps[1], greedy(100), c2);
  s.step();
  s.step();
  h1->cancelled.store(true);
  for (int i = 0; i < 1000 && s.step(); ++i) {
  }
  EXPECT_EQ(c1->result.finish_reason, "abort");
  EXPECT_EQ(c2->result.finish_reason, "stop");
  EXPECT_EQ(c2->tokens.size(), 3u);
  EXPECT_EQ(pool.blocks_in_use(), 0);
  EXPECT_EQ(s.stats().running, 0);
}

TEST(Scheduler, RefusesAPoolSmallerThanOneFullLengthSequence) {
  SchedulerOptions so;
  so.max_model_len = 2048;
  KvPool pool(tiny().config(), 4, 32, kernels::KvType::BF16);
  EXPECT_THROW(Scheduler(tiny(), pool, so), InputError);
}

TEST(Scheduler, QueueBoundRefusesBeyondMaxWaiting) {
  SchedulerOptions so;
  so.max_model_len = 512;
  so.max_waiting = 2;
  KvPool pool(tiny().config(), 64, 32, kernels::KvType::BF16);
  Scheduler s(tiny(), pool, so);
  const auto ps = prompts();
  s.submit(ps[0], greedy(4), std::make_shared<Collect>());
  s.submit(ps[1], greedy(4), std::make_shared<Collect>());
  EXPECT_THROW(s.submit(ps[2], greedy(4), std::make_shared<Collect>()), QueueFull);
  while (s.step()) {
  }
}

}  // namespace
}  // namespace mixq
