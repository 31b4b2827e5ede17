// Continuous-batching decode throughput of the engine behind `mixq serve` (runtime/scheduler.h),
// measured against the roofline of what each step must read:
//   attention, router and head weights once per step + every distinct expert the step's tokens
//   route to, once + each sequence's K and V over its context,
// divided by a read-bandwidth pass timed right before the step (the paired roofline of
// docs/perf-engine.md: numerator and denominator see the same contention). For 1/4/16 (or
// --streams) concurrent sequences it prints aggregate decode tokens/s, the step's bytes, the
// fraction of the roofline, and the aggregate-vs-single-stream ratio. Then time to first token
// for a prompt behind a --system-tokens shared system prompt, without and with a prefix-cache hit.
// Usage: serve_batch_bench --model DIR [--model DIR2] [--streams 1,4,16] [--steps 24] [--json]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/residency.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/peak.h"
#include "runtime/generate.h"
#include "runtime/scheduler.h"
#include "util/thread_pool.h"

namespace {

using namespace mixq;
using Clock = std::chrono::steady_clock;

struct Count : SeqSink {
  int64_t n = 0;
  Clock::time_point first;
  bool on_token(const TokenEvent&) override {
    if (n++ == 0) first = Clock::now();
    return true;
  }
  void on_finish(const SeqResult&) override {}
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<int32_t> random_tokens(std::mt19937& g, int64_t n, int64_t vocab) {
  std::uniform_int_distribution<int32_t> d(0, int32_t(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(g);
  return t;
}

struct StreamResult {
  int streams = 0;
  double step_seconds = 0, tokens_per_second = 0, bytes_per_step = 0, roofline = 0, bandwidth = 0;
  double expert_bytes = 0, kv_bytes = 0;
  double compute = 0;             // the step's fp32 flops at the FMA peak / the step's time
  double bound = 0;               // max(memory time, compute time) / step time: the roofline proper
  PhaseTimes phases;              // per timed step
};

// fp32 flops of a decode step over `rows` tokens whose attention reads `context` positions in all:
// 2 per multiply-add of every weight a token uses (attention, router, its k experts, head) plus
// scores and p.V.
double step_flops(const MiniMaxM2Config& c, int64_t rows, int64_t context) {
  const double H = double(c.hidden_size), Q = double(c.q_width()), KV = double(c.kv_width()), L = double(c.num_hidden_layers);
  const double per_layer = H * Q + 2 * H * KV + Q * H + H * double(c.num_local_experts) +
                           double(c.num_experts_per_tok) * 3 * H * double(c.intermediate_size);
  return 2 * double(rows) * (L * per_layer + H * double(c.vocab_size)) +
         4 * double(c.num_attention_heads) * double(c.head_dim) * double(context) * L;
}

StreamResult run_streams(const Model& m, int streams, int steps, int64_t prompt, kernels::ReadBandwidthProbe& probe,
                         double peak) {
  const auto& cfg = m.config();
  const int warm = 4;
  const int64_t len = prompt + warm + steps + 8;
  const int64_t B = 32, blocks = streams * ((len + B - 1) / B) + 4;
  KvPool pool(cfg, blocks, B, kernels::KvType::BF16);
  SchedulerOptions so;
  so.max_num_seqs = streams;
  so.max_batched_tokens = std::max<int64_t>(2048, streams * prompt);
  so.max_model_len = len;
  PhaseTimes phases;
  so.phases = &phases;
  Scheduler s(m, pool, so);
  std::mt19937 g(7);
  std::vector<std::shared_ptr<Count>> sinks;
  for (int i = 0; i < streams; ++i) {
    SeqParams p;
    p.max_tokens = warm + steps + 4;
    p.ignore_eos = true;
    sinks.push_back(std::make_shared<Count>());
    s.submit(random_tokens(g, prompt, cfg.vocab_size), p, sinks.back());
  }
  // Prefill and a few decode steps untimed (every sequence past its prompt, pages touched).
  for (int i = 0; i < 10000; ++i) {
    bool all = true;
    for (auto& c : sinks) all &= c->n >= warm;
    if (all) break;
    s.step();
  }
  const auto phase = m.decode_phase_bytes();
  const double fixed = double(phase[size_t(Phase::QkvProj)] + phase[size_t(Phase::OProj)] + phase[size_t(Phase::Router)] +
                              phase[size_t(Phase::LmHead)]);
  const double kv_per_token = double(KvCache::bytes_per_token(cfg, kernels::KvType::BF16));
  std::vector<double> dts, fracs, bytes, bws, eb, kvb, comp, bound;
  phases = PhaseTimes{};
  int timed = 0;
  for (int i = 0; i < steps; ++i) {
    const double bw = probe.pass();
    const auto t0 = Clock::now();
    s.step();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    const SchedulerStats st = s.stats();
    if (st.last_step_sequences != streams) continue;  // a step that was not a full decode step
    ++timed;
    const double kv = kv_per_token * double(st.last_step_context);
    const double b = fixed + double(st.last_step_expert_bytes) + kv;
    dts.push_back(dt);
    bytes.push_back(b);
    bws.push_back(bw);
    eb.push_back(double(st.last_step_expert_bytes));
    kvb.push_back(kv);
    fracs.push_back(b / dt / bw);
    const double fl = step_flops(cfg, streams, st.last_step_context);
    comp.push_back(fl / peak / dt);
    bound.push_back(std::max(b / bw, fl / peak) / dt);
  }
  StreamResult r;
  r.streams = streams;
  r.step_seconds = median(dts);
  r.tokens_per_second = streams / r.step_seconds;
  r.bytes_per_step = median(bytes);
  r.roofline = median(fracs);
  r.bandwidth = median(bws);
  r.expert_bytes = median(eb);
  r.kv_bytes = median(kvb);
  r.compute = median(comp);
  r.bound = median(bound);
  for (size_t p = 0; p < kPhaseCount; ++p) r.phases.seconds[p] = timed ? phases.seconds[p] / timed : 0;
  return r;
}

// Time to first token of a request whose prompt is `system` + `question`, with the scheduler idle.
double ttft(Scheduler& s, const std::vector<int32_t>& prompt, int64_t* cached) {
  SeqParams p;
  p.max_tokens = 1;
  p.ignore_eos = true;
  struct Keep : Count {
    SeqResult r;
    void on_finish(const SeqResult& x) override { r = x; }
  };
  auto k = std::make_shared<Keep>();
  const auto t0 = Clock::now();
  s.submit(prompt, p, k);
  while (k->n == 0 && s.step()) {
  }
  const double t = std::chrono::duration<double>(k->first - t0).count();
  while (s.step()) {
  }
  *cached = k->r.cached_tokens;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  std::vector<int> streams = {1, 4, 16};
  int steps = 24;
  int64_t prompt = 32, system_tokens = 2000;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { fmt::print(stderr, "{} needs a value\n", a); std::exit(2); }
      return argv[++i];
    };
    if (a == "--model") models.push_back(next());
    else if (a == "--steps") steps = std::stoi(next());
    else if (a == "--prompt-tokens") prompt = std::stoll(next());
    else if (a == "--system-tokens") system_tokens = std::stoll(next());
    else if (a == "--json") json = true;
    else if (a == "--streams") {
      streams.clear();
      std::string v = next(), cur;
      for (char c : v + ",") {
        if (c == ',') { if (!cur.empty()) streams.push_back(std::stoi(cur)); cur.clear(); }
        else cur += c;
      }
    } else {
      fmt::print(stderr, "usage: serve_batch_bench --model DIR [--model DIR] [--streams 1,4,16] [--steps N] "
                         "[--prompt-tokens N] [--system-tokens N] [--json]\n");
      return 2;
    }
  }
  if (models.empty()) models.push_back(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  nlohmann::json out = nlohmann::json::array();
  kernels::ReadBandwidthProbe probe(512ull << 20);
  const double peak = kernels::measure_fma_peak().flops_per_second;
  for (const auto& dir : models) {
    const Model m(dir, auto_residency({dir}).residency);
    if (!json)
      fmt::print("{}: {}, {} threads, fp32 FMA peak {:.1f} GFLOP/s\n"
                 "  streams  step ms  agg tok/s  vs 1 stream  MB/step (experts, KV)  GB/s pass  memory roofline  "
                 "compute  max(both)\n",
                 dir, m.describe(), ThreadPool::global().size(), peak / 1e9);
    nlohmann::json mj = {{"model", dir}, {"describe", m.describe()}, {"threads", ThreadPool::global().size()}};
    double single = 0;
    for (int c : streams) {
      const StreamResult r = run_streams(m, c, steps, prompt, probe, peak);
      if (c == 1) single = r.tokens_per_second;
      const double ratio = single > 0 ? r.tokens_per_second / single : 0;
      if (!json)
        fmt::print("  {:7d}  {:7.2f}  {:9.1f}  {:10.2f}x  {:7.1f} ({:.1f}, {:.2f})  {:9.1f}  {:14.1f}%  {:6.1f}%  {:8.1f}%\n",
                   c, 1e3 * r.step_seconds, r.tokens_per_second, ratio, r.bytes_per_step / 1e6, r.expert_bytes / 1e6,
                   r.kv_bytes / 1e6, r.bandwidth / 1e9, 100 * r.roofline, 100 * r.compute, 100 * r.bound);
      if (!json) {
        std::string ph;
        for (size_t p = 0; p < kPhaseCount; ++p) ph += fmt::format(" {} {:.2f}", kPhaseNames[p], 1e3 * r.phases.seconds[p]);
        fmt::print("           phases (ms per step):{}\n", ph);
      }
      mj["streams"].push_back({{"streams", c}, {"step_seconds", r.step_seconds}, {"tokens_per_second", r.tokens_per_second},
                               {"vs_single", ratio}, {"bytes_per_step", r.bytes_per_step}, {"expert_bytes", r.expert_bytes},
                               {"kv_bytes", r.kv_bytes}, {"bandwidth", r.bandwidth}, {"roofline_fraction", r.roofline},
                               {"compute_fraction", r.compute}, {"bound_fraction", r.bound}});
    }
    // TTFT: the shared system prompt cold, then a second question behind the same system prompt.
    const auto& cfg = m.config();
    const int64_t len = std::min<int64_t>(system_tokens + 64, cfg.max_position_embeddings);
    const int64_t sys_n = len - 64;
    KvPool pool(cfg, 4 * ((len + 31) / 32), 32, kernels::KvType::BF16);
    SchedulerOptions so;
    so.max_model_len = len;
    so.max_batched_tokens = 2048;
    Scheduler s(m, pool, so);
    std::mt19937 g(11);
    const auto system = random_tokens(g, sys_n, cfg.vocab_size);
    auto with = [&](int64_t q) {
      auto p = system;
      auto t = random_tokens(g, q, cfg.vocab_size);
      p.insert(p.end(), t.begin(), t.end());
      return p;
    };
    int64_t c1 = 0, c2 = 0;
    const double cold = ttft(s, with(20), &c1);
    const double hit = ttft(s, with(24), &c2);
    if (!json)
      fmt::print("  time to first token, {}-token shared system prompt + question: {:.1f} ms cold, {:.1f} ms with the "
                 "prefix cache ({} tokens reused): {:.1f}x\n",
                 sys_n, 1e3 * cold, 1e3 * hit, c2, cold / hit);
    mj["ttft"] = {{"system_tokens", sys_n}, {"cold_seconds", cold}, {"prefix_hit_seconds", hit}, {"cached_tokens", c2}};
    out.push_back(mj);
  }
  if (json) fmt::print("{}\n", out.dump(2));
  return 0;
}
