// mixq bench --model DIR [--prompt-tokens N] [--decode-tokens N] [--kv bf16|fp8|f32] [--json]
// Prefill and decode tokens/s at batch 1 on seeded random token ids, the bytes of weights one
// decoded token reads (attention + router + k experts per layer + lm_head), the read bandwidth of
// this machine measured in the same run, and their ratio: % of the memory-bandwidth roofline.
// Prefill is compute-bound: its matmul GFLOP/s (2 x weights touched per token: attention, router,
// k experts; the lm_head runs for the last position only and is left out) is reported against the
// fp32 FMA peak measured in the same run (kernels/cpu/peak.h).
//
// Roofline, three ways (the machine may be shared; docs/perf-engine.md "Measurement"):
//   decode_roofline_fraction         mean decode tok/s x bytes/token / best bandwidth pass (strict:
//                                    a mean over contention against a best case);
//   decode_paired_roofline_fraction  median over tokens of (bytes / token time) / (the bandwidth
//                                    pass timed right before that token): same contention in both;
//   decode_best_roofline_fraction    fastest token / best pass: what the engine does when it gets
//                                    the machine, against what the memory does when we get it;
//   decode_median_roofline_fraction  median token / best pass: the strict ratio without the few
//                                    tokens a neighbour's burst slowed 2-7x (they move the mean);
//   decode_bracketed_roofline_fraction  as paired, against the mean of the passes right before
//                                    and right after the token (contention that changed during
//                                    the token shows in one of the two).
// The bandwidth pass reads 4 streams per thread (kernels/cpu/bandwidth.cpp), the fastest way this
// machine was measured to read memory (a one-stream pass read up to 1.5x less), from a buffer in
// 2 MB huge pages (util/huge_page_buffer.h): in 4 KB pages the page walks of this VM cost the
// pass as much as they cost decode, and the roofline would flatter a mapped model. Weights read
// into RAM (--no-mmap, or the automatic choice; weights_residency_reason says which) sit in the
// same pages.
// The *_with_kv_fraction variants count the KV cache bytes decode attention reads
// (decode_kv_bytes_per_token, the mean over the timed tokens) with the weights: at long contexts
// they are a large part of what a token moves.
// decode_cpu_share = process CPU time during the decoded tokens / (their wall time x threads):
// below 1 means our threads were waiting for a CPU (or for each other). decode_cpu_efficiency =
// (pass CPU-seconds per byte) / (decode CPU-seconds per weight byte): insensitive to preemption.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <sys/resource.h>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/command.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/peak.h"
#include "runtime/model.h"
#include "runtime/phase_times.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt + u.ru_majflt;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Opts {
  mixq::cli::ResidencyFlags residency;
  std::string model, kv = "bf16";
  int64_t prompt = 128, decode = 16, bw_mib = 512, warm_decode = 8;
  bool json = false;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory")->required();
  app.add_option("--prompt-tokens", o->prompt, "Prefill length (default 128)");
  app.add_option("--decode-tokens", o->decode, "Decoded tokens timed (default 16)");
  app.add_option("--kv", o->kv, "KV cache type: bf16 (default), fp8, f32");
  app.add_option("--bandwidth-mib", o->bw_mib, "Buffer for the bandwidth measurement (default 512 MiB)");
  app.add_option("--warmup-decode-tokens", o->warm_decode, "Untimed decode steps before the timed ones (default 8)");
  app.add_flag("--json", o->json, "Machine-readable output");
  mixq::cli::add_residency_flags(app, o->residency);
  return [o]() -> int {
    using namespace mixq;
    using clock = std::chrono::steady_clock;
    if (o->prompt < 1 || o->decode < 1) fail("bench: --prompt-tokens and --decode-tokens must be >= 1");
    if (o->warm_decode < 0) fail("bench: --warmup-decode-tokens must be >= 0");
    const auto load0 = clock::now();
    const ResidencyChoice where = mixq::cli::resolve_residency(o->residency, {o->model});
    Model m(o->model, where.residency);
    const double load_s = std::chrono::duration<double>(clock::now() - load0).count();
    const bool in_ram = where.residency == Residency::Ram;
    const int64_t V = m.vocab();
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> tok(0, int32_t(V - 1));
    std::vector<int32_t> ids(size_t(o->prompt + o->decode));
    for (auto& x : ids) x = tok(rng);
    KvCache cache(m.config(), o->prompt + o->decode + 1, parse_kv_type(o->kv));
    std::vector<float> logits(static_cast<size_t>(V));
    // Warm-up (untimed): a prefill of up to 64 other tokens routes to (nearly) every expert, so the
    // timed runs see steady state: weight pages mapped (a first touch of an mmap'd 4 KB page is a
    // page fault, ~80k of them per token at these widths) and the thread pool and workspaces live.
    // Then --warmup-decode-tokens single-token steps on the same cache. The bandwidth probe's
    // buffer is allocated and passed over twice before all of it: right after allocating it, the
    // first passes and decode steps ran 2-10x slower for about a second (fresh memory in this VM;
    // docs/perf-engine.md), which the timed tokens are not meant to measure.
    kernels::ReadBandwidthProbe probe(uint64_t(o->bw_mib) << 20);
    for (int i = 0; i < 2; ++i) probe.pass();
    {
      const int64_t w = std::min<int64_t>(64, o->prompt + o->decode);
      std::vector<int32_t> wids(static_cast<size_t>(w + o->warm_decode));
      for (auto& x : wids) x = tok(rng);
      KvCache warm(m.config(), w + o->warm_decode + 1, parse_kv_type(o->kv));
      m.forward(wids.data(), w, warm, nullptr, logits.data());
      for (int64_t i = 0; i < o->warm_decode; ++i) m.forward(&wids[size_t(w + i)], 1, warm, nullptr, logits.data());
    }
    auto t0 = clock::now();
    m.forward(ids.data(), o->prompt, cache, nullptr, logits.data());
    const double prefill_s = std::chrono::duration<double>(clock::now() - t0).count();
    // Decode, one token at a time, each right after one read-bandwidth pass: the roofline's
    // numerator and denominator are then measured under the same contention (this machine is
    // shared; the old method measured them seconds apart). The passes are not part of decode_s.
    std::vector<double> tok_s, pass_bps;
    std::vector<int> pass_threads;
    double decode_s = 0;
    const double cpu0 = process_cpu_seconds();
    double cpu_in_passes = 0;
    long decode_faults = 0;
    PhaseTimes phases;  // summed over the timed tokens
    ForwardOptions fopt;
    fopt.phases = &phases;
    for (int64_t i = 0; i < o->decode; ++i) {
      const double c = process_cpu_seconds();
      pass_bps.push_back(probe.pass());
      pass_threads.push_back(probe.last_pass_threads());
      cpu_in_passes += process_cpu_seconds() - c;
      const long f0 = minor_faults();
      const auto t = clock::now();
      m.forward(&ids[size_t(o->prompt + i)], 1, cache, nullptr, logits.data(), fopt);
      decode_faults += minor_faults() - f0;
      tok_s.push_back(std::chrono::duration<double>(clock::now() - t).count());
      decode_s += tok_s.back();
    }
    const double decode_cpu_s = process_cpu_seconds() - cpu0 - cpu_in_passes;
    for (int r = 0; r < 5; ++r) pass_bps.push_back(probe.pass());  // the old best-of-5, after decode
    const double bw = *std::max_element(pass_bps.begin(), pass_bps.end());
    const auto peak = kernels::measure_fma_peak();
    double prefill_flops_per_token = 0;
    for (int l = 0; l < int(m.config().num_hidden_layers); ++l) {
      const auto& L = m.layer(l);
      double p = 0;
      for (const Linear* x : {&L.q, &L.k, &L.v, &L.o, &L.gate}) p += double(x->out()) * double(x->in());
      double e = 0;
      for (size_t i = 0; i < L.w1.size(); ++i)
        e += double(L.w1[i].out()) * double(L.w1[i].in()) + double(L.w2[i].out()) * double(L.w2[i].in()) +
             double(L.w3[i].out()) * double(L.w3[i].in());
      p += e / double(L.w1.size()) * double(m.config().num_experts_per_tok);
      prefill_flops_per_token += 2 * p;
    }
    const double dec_tps = double(o->decode) / decode_s, pre_tps = double(o->prompt) / prefill_s;
    const uint64_t bpt = m.decode_weight_bytes();
    const double roofline = double(bpt) * dec_tps / bw;
    const double prefill_flops = prefill_flops_per_token * pre_tps;
    // Paired: each token's bytes/s over the pass timed right before it; the median over tokens.
    // Only passes that ran on every pool thread count (see ReadBandwidthProbe::last_pass_threads);
    // a token whose pass ran on fewer threads is left out. bytes(i): what token i moved.
    const int threads = int(ThreadPool::global().size());
    size_t paired_tokens = 0;
    auto paired_median_of = [&](const auto& bytes) {
      std::vector<double> r;
      for (size_t i = 0; i < tok_s.size(); ++i)
        if (pass_threads[i] == threads) r.push_back(bytes(i) / tok_s[i] / pass_bps[i]);
      paired_tokens = r.size();
      return median(r);
    };
    const double paired_median = paired_median_of([&](size_t) { return double(bpt); });
    // Bracketed: pass i is right before token i, pass i + 1 right after it (the first of the 5
    // after decode for the last token).
    std::vector<double> bracketed;
    for (size_t i = 0; i < tok_s.size(); ++i)
      if (pass_threads[i] == threads && (i + 1 >= pass_threads.size() || pass_threads[i + 1] == threads))
        bracketed.push_back(double(bpt) / tok_s[i] / (0.5 * (pass_bps[i] + pass_bps[i + 1])));
    const double bracketed_median = median(bracketed);
    // The KV cache read by decode attention: token i attends prompt + i + 1 positions of every
    // layer's K and V. Not weights, so not in the roofline above (nor in the phase bytes); at a
    // long context it is a large share of what a token moves, so the bench also reports the
    // roofline of weights + KV.
    const double kv_per_position = double(KvCache::bytes_per_token(m.config(), cache.type()));
    auto kv_bytes = [&](size_t i) { return kv_per_position * double(o->prompt + int64_t(i) + 1); };
    double kv_mean = 0;
    for (size_t i = 0; i < tok_s.size(); ++i) kv_mean += kv_bytes(i) / double(tok_s.size());
    const double roofline_kv = (double(bpt) + kv_mean) * dec_tps / bw;
    const double paired_kv_median = paired_median_of([&](size_t i) { return double(bpt) + kv_bytes(i); });
    const double median_tps = 1.0 / median(tok_s);
    const double median_roofline = double(bpt) * median_tps / bw;
    const double best_tps = 1.0 / *std::min_element(tok_s.begin(), tok_s.end());
    const double best_roofline = double(bpt) * best_tps / bw;
    const double cpu_share = decode_cpu_s / (decode_s * double(ThreadPool::global().size()));
    // CPU-seconds per byte of the bandwidth passes over those of decode: how close decode comes to
    // the streaming loop while it runs. Time spent descheduled counts in neither, so this stays
    // meaningful on a loaded machine (pool spin-waits count against decode).
    const double cpu_eff = (cpu_in_passes / (double(probe.bytes()) * double(o->decode))) / (decode_cpu_s / (double(bpt) * double(o->decode)));
    // Per phase, per decoded token: mean seconds and the weight bytes it reads ("other": embedding,
    // norms, residual adds, i.e. the token time no phase claimed).
    const auto phase_bytes = m.decode_phase_bytes();
    nlohmann::json phase_s = nlohmann::json::object(), phase_b = nlohmann::json::object();
    double claimed = 0;
    for (size_t p = 0; p < kPhaseCount; ++p) {
      phase_s[kPhaseNames[p]] = phases.seconds[p] / double(o->decode);
      phase_b[kPhaseNames[p]] = phase_bytes[p];
      claimed += phases.seconds[p];
    }
    phase_s["other"] = std::max(0.0, decode_s - claimed) / double(o->decode);
    phase_b["other"] = 0;
    const double pass_median = median(pass_bps);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 1) load[0] = -1;
    if (o->json) {
      nlohmann::json j{{"model", o->model}, {"describe", m.describe()}, {"threads", ThreadPool::global().size()},
                       {"isa", kernels::matmul_target_name()}, {"prompt_tokens", o->prompt}, {"decode_tokens", o->decode},
                       {"warmup_decode_tokens", o->warm_decode},
                       {"prefill_tokens_per_second", pre_tps}, {"decode_tokens_per_second", dec_tps},
                       {"decode_weight_bytes_per_token", bpt}, {"measured_read_bandwidth_bytes_per_second", bw},
                       {"decode_roofline_fraction", roofline}, {"prefill_matmul_flops_per_second", prefill_flops},
                       {"measured_fma_peak_flops_per_second", peak.flops_per_second},
                       {"prefill_peak_fraction", prefill_flops / peak.flops_per_second},
                       {"decode_token_seconds", tok_s}, {"bandwidth_pass_bytes_per_second", pass_bps},
                       {"bandwidth_pass_threads", pass_threads},
                       {"decode_paired_roofline_fraction", paired_median},
                       {"decode_kv_bytes_per_token", kv_mean}, {"decode_roofline_with_kv_fraction", roofline_kv},
                       {"decode_paired_roofline_with_kv_fraction", paired_kv_median},
                       {"decode_bracketed_roofline_fraction", bracketed_median},
                       {"decode_median_tokens_per_second", median_tps},
                       {"decode_median_roofline_fraction", median_roofline},
                       {"bandwidth_pass_streams_per_thread", kernels::kStreamsPerThread},
                       {"decode_phase_seconds_per_token", phase_s}, {"decode_phase_bytes_per_token", phase_b},
                       {"weights_in_ram", in_ram}, {"weights_residency_reason", where.why},
                       {"weights_huge_page_bytes", m.checkpoint().huge_page_bytes()},
                       {"load_seconds", load_s}, {"bandwidth_pass_huge_page_bytes", probe.huge_page_bytes()},
                       {"weights_int4_rows16_matrices", m.int4_rows16_matrices()},
                       {"decode_best_tokens_per_second", best_tps}, {"decode_best_roofline_fraction", best_roofline},
                       {"decode_cpu_share", cpu_share}, {"decode_cpu_efficiency", cpu_eff},
                       {"decode_page_faults_per_token", double(decode_faults) / double(o->decode)}, {"load_average_1min", load[0]}};
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print("model:      {} ({})\n", o->model, m.describe());
      fmt::print("machine:    {} threads, ISA {}\n", ThreadPool::global().size(), kernels::matmul_target_name());
      fmt::print("weights:    {}\n            {:.2f} s to load{}{}\n", where.why, load_s,
                 in_ram ? fmt::format(", {:.0f} of {:.0f} MB in 2 MB huge pages", m.checkpoint().huge_page_bytes() / 1e6,
                                          m.checkpoint().tensor_bytes() / 1e6)
                            : "",
                 m.int4_rows16_matrices() ? fmt::format(", {} INT4 matrices interleaved for the rows16 kernel",
                                                        m.int4_rows16_matrices())
                                          : "");
      fmt::print("prefill:    {} tokens in {:.3f} s = {:.1f} tok/s\n", o->prompt, prefill_s, pre_tps);
      fmt::print("decode:     {} tokens in {:.3f} s = {:.2f} tok/s (batch 1, KV {})\n", o->decode, decode_s, dec_tps, o->kv);
      fmt::print("weights/token: {:.2f} MB read per decoded token\n", double(bpt) / 1e6);
      fmt::print("kv/token:   {:.2f} MB of KV cache read per decoded token (mean context {:.1f} positions, KV {})\n",
                 kv_mean / 1e6, kv_mean / kv_per_position, o->kv);
      fmt::print("bandwidth:  {:.2f} GB/s best read pass ({} MiB buffer, {:.0f}% in 2 MB huge pages, {} streams per thread; one pass before each token + 5 after)\n",
                 bw / 1e9, o->bw_mib, 100.0 * double(probe.huge_page_bytes()) / double(probe.bytes()), kernels::kStreamsPerThread);
      fmt::print("roofline:   {:.1f}% mean decode / best pass ({:.2f} tok/s possible)\n", 100 * roofline, bw / double(bpt));
      fmt::print("            {:.1f}% median of each token / the pass right before it ({} of {} passes ran on all threads)\n",
                 100 * paired_median, paired_tokens, tok_s.size());
      fmt::print("            {:.1f}% median token ({:.2f} tok/s) / best pass\n", 100 * median_roofline, median_tps);
      fmt::print("            {:.1f}% median of each token / the mean of the passes right before and after it\n",
                 100 * bracketed_median);
      fmt::print("            {:.1f}% best token ({:.2f} tok/s) / best pass\n", 100 * best_roofline, best_tps);
      fmt::print("            with the KV cache's bytes: {:.1f}% mean decode / best pass, {:.1f}% paired\n",
                 100 * roofline_kv, 100 * paired_kv_median);
      fmt::print("phases:     per decoded token (mean); GB/s of the weights each reads, and that over the median pass ({:.1f} GB/s)\n",
                 pass_median / 1e9);
      std::vector<std::string> order(kPhaseNames.begin(), kPhaseNames.end());
      order.push_back("other");
      for (const auto& name : order) {
        const double b = phase_b[name].get<double>(), t = phase_s[name].get<double>();
        if (b > 0 && t > 0)
          fmt::print("            {:<10} {:7.3f} ms {:7.1f} MB {:6.1f} GB/s {:5.1f}%\n", name, 1e3 * t, b / 1e6, b / t / 1e9,
                     100 * b / t / pass_median);
        else
          fmt::print("            {:<10} {:7.3f} ms\n", name, 1e3 * t);
      }
      fmt::print("cpu share:  {:.0f}% of {} threads x decode wall time (load average {:.2f}); per CPU-second decode\n"
                 "            streams {:.1f}% as many bytes as the bandwidth passes\n", 100 * cpu_share,
                 ThreadPool::global().size(), load[0], 100 * cpu_eff);
      fmt::print("page faults: {:.1f} per decoded token (0 in steady state; more = weights being paged back in)\n",
                 double(decode_faults) / double(o->decode));
      fmt::print("prefill:    {:.1f} GFLOP/s matmul = {:.1f}% of the measured fp32 FMA peak {:.1f} GFLOP/s ({} threads x {} lanes)\n",
                 prefill_flops / 1e9, 100 * prefill_flops / peak.flops_per_second, peak.flops_per_second / 1e9, peak.threads,
                 peak.lanes);
    }
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("bench", "Prefill/decode tokens per second and % of the memory-bandwidth roofline", setup);
