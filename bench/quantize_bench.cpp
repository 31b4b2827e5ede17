// Quantization throughput against the machine's copy bandwidth, measured in the same run.
//
//   build-quant/quantize_bench                 kernels (Google Benchmark): RTN int4 from BF16 and
//                                              from FP8-block, fused QDQ; counter frac_of_memcpy =
//                                              input bytes/s divided by single-stream memcpy bytes/s
//   build-quant/quantize_bench --rss [GB...]   end to end: `run_quantize` (STRIX recipe) on
//                                              synthetic FP8 releases of 1, 2, 4 GB, each in a
//                                              child process; reports input GB/s and the child's
//                                              peak RSS (must stay flat as the model grows)
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "model/synth.h"
#include "quant/quantize_job.h"
#include "quant/recipe.h"
#include "quant/rtn_int4.h"
#include "util/dtype.h"

using namespace mixq;

namespace {

// Single-stream memcpy bandwidth over a buffer far larger than the caches (bytes copied / s).
double memcpy_bandwidth() {
  static double bw = [] {
    const size_t n = 256ull << 20;
    std::vector<char> a(n, 1), b(n, 2);
    std::memcpy(b.data(), a.data(), n);
    double best = 0;
    for (int i = 0; i < 5; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      std::memcpy(b.data(), a.data(), n);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, double(n) / s);
    }
    benchmark::DoNotOptimize(b.data());
    return best;
  }();
  return bw;
}

constexpr int64_t kOut = 1536, kIn = 3072, kG = 32;  // a MiniMax-M2 expert w1/w3

std::vector<uint16_t> random_bf16(size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0, 0.02f);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = f32_to_bf16(d(rng));
  return v;
}

void set_counters(benchmark::State& st, double input_bytes) {
  st.SetBytesProcessed(int64_t(input_bytes) * st.iterations());
  st.counters["memcpy_GBps"] = memcpy_bandwidth() / 1e9;
  st.counters["frac_of_memcpy"] = benchmark::Counter(input_bytes * double(st.iterations()) / memcpy_bandwidth(), benchmark::Counter::kIsRate);
}

void BM_Memcpy(benchmark::State& st) {
  const size_t n = size_t(kOut * kIn * 2);
  std::vector<char> a(n, 1), b(n);
  for (auto _ : st) {
    std::memcpy(b.data(), a.data(), n);
    benchmark::ClobberMemory();
  }
  set_counters(st, double(n));
}

void BM_RtnInt4FromBf16(benchmark::State& st) {
  auto w = random_bf16(size_t(kOut * kIn));
  std::vector<uint32_t> packed(size_t(kOut * kIn / 8));
  std::vector<uint16_t> scales(size_t(kOut * kIn / kG));
  for (auto _ : st) {
    quantize_pack_int4_bf16(w.data(), kOut, kIn, kG, packed.data(), scales.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, double(w.size() * 2));
}

void BM_RtnInt4FromFp8Block(benchmark::State& st) {
  std::vector<uint8_t> w(size_t(kOut * kIn));
  std::mt19937 rng(2);
  for (auto& x : w) { x = uint8_t(rng()); if ((x & 0x7f) == 0x7f) x = 0; }  // no NaN codes
  std::vector<float> sc(size_t((kOut / 128) * (kIn / 128)), 1e-3f);
  std::vector<uint32_t> packed(size_t(kOut * kIn / 8));
  std::vector<uint16_t> scales(size_t(kOut * kIn / kG));
  for (auto _ : st) {
    quantize_pack_int4_fp8block(w.data(), sc.data(), kOut, kIn, 128, 128, kG, packed.data(), scales.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, double(w.size()));
}

void BM_QdqInt4Fp32(benchmark::State& st) {  // AWQ grid-search inner step
  auto b = random_bf16(size_t(kOut * kIn));
  std::vector<float> w(b.size()), out(b.size());
  for (size_t i = 0; i < b.size(); ++i) w[i] = bf16_to_f32(b[i]);
  for (auto _ : st) {
    qdq_int4(w.data(), kOut, kIn, kG, out.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, double(w.size() * 4));
}

BENCHMARK(BM_Memcpy)->UseRealTime();
BENCHMARK(BM_RtnInt4FromBf16)->UseRealTime();
BENCHMARK(BM_RtnInt4FromFp8Block)->UseRealTime();
BENCHMARK(BM_QdqInt4Fp32)->UseRealTime();

// ---- end to end, one child process per step so each peak RSS is its own ----
template <typename F>
long in_child(F fn, double* seconds) {
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    try { fn(); } catch (const std::exception& e) { std::fprintf(stderr, "%s\n", e.what()); _exit(1); }
    _exit(0);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { std::fprintf(stderr, "child failed\n"); std::exit(1); }
  return ru.ru_maxrss;  // KiB
}

uint64_t dir_bytes(const std::string& d) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(d))
    if (e.path().extension() == ".safetensors") n += e.file_size();
  return n;
}

int rss_mode(const std::vector<double>& sizes_gb) {
  const std::string tmp = std::filesystem::temp_directory_path() / ("mixq_qbench_" + std::to_string(getpid()));
  const std::string recipe = std::string(MIXQ_SHARED_DIR) + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml";
  std::printf("memcpy bandwidth (single stream): %.2f GB/s\n", memcpy_bandwidth() / 1e9);
  std::printf("%8s %7s %12s %12s %9s %9s %12s %14s\n", "model", "layers", "input_bytes", "output_bytes", "synth_s", "quant_s", "quant_GB/s",
              "peak_RSS_MiB");
  for (double gb : sizes_gb) {
    SynthOptions so;
    so.config = default_synth_config();
    auto& c = so.config;
    c.hidden_size = 1024; c.intermediate_size = 512; c.num_local_experts = 32; c.num_attention_heads = 8;
    c.num_key_value_heads = 2; c.head_dim = 128; c.rotary_dim = 64; c.vocab_size = 8192;
    const double per_layer = 32.0 * 3 * 512 * 1024 + 2.0 * 1024 * 1024 + 2.0 * 256 * 1024;  // FP8 bytes
    c.num_hidden_layers = int64_t(std::max(1.0, (gb * 1e9 - 4.0 * 8192 * 1024) / per_layer));
    so.fp8 = true;
    so.seed = 1;
    so.max_shard_bytes = 500'000'000;
    const std::string src = tmp + "/src", out = tmp + "/out";
    std::filesystem::remove_all(tmp);
    double ts = 0, tq = 0;
    in_child([&] { write_synthetic_model(so, src); }, &ts);
    long rss = in_child([&] {
      QuantizeOptions o;
      o.model_dir = src;
      o.output_dir = out;
      o.progress = false;
      run_quantize(load_recipe(recipe), o);
    }, &tq);
    uint64_t in = dir_bytes(src), ob = dir_bytes(out);
    std::printf("%6.1fGB %7lld %12llu %12llu %9.1f %9.1f %12.3f %14.1f\n", gb, (long long)c.num_hidden_layers, (unsigned long long)in,
                (unsigned long long)ob, ts, tq, double(in) / tq / 1e9, double(rss) / 1024.0);
    std::fflush(stdout);
    std::filesystem::remove_all(tmp);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--rss") {
    std::vector<double> sizes;
    for (int i = 2; i < argc; ++i) sizes.push_back(std::atof(argv[i]));
    if (sizes.empty()) sizes = {1, 2, 4};
    return rss_mode(sizes);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
