// safetensors read throughput against the machine's own memory bandwidth, measured side by side.
//
// A ~1 GB synthetic BF16 model (mixq synth; reused when already complete) is read through the
// mmap'd zero-copy views: every byte of every tensor is summed. Page cache is warm (the model was
// just written or read). Peers in the same run: memcpy of a 256 MiB buffer and the same summation
// loop over an anonymous in-memory buffer (the roofline the reader can at best reach).
//
//   build-found/safetensors_bench (env MIXQ_BENCH_DIR to place the model)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/synth.h"
#include "util/log.h"

namespace {

std::string model_dir() {
  const char* env = std::getenv("MIXQ_BENCH_DIR");
  return env ? env : "/tmp/mixq_bench_model_1g";
}

// ~1.07 GB of BF16: 16 layers x 16 experts (hidden 1024, expert width 512) + 32k vocab, 4 shards.
const std::string& ensure_model() {
  static const std::string dir = [] {
    mixq::SynthOptions o;
    o.config = mixq::default_synth_config();
    auto& c = o.config;
    c.hidden_size = 1024;
    c.intermediate_size = 512;
    c.num_hidden_layers = 16;
    c.num_attention_heads = 8;
    c.num_key_value_heads = 2;
    c.head_dim = 128;
    c.rotary_dim = 64;
    c.num_local_experts = 16;
    c.vocab_size = 32768;
    o.max_shard_bytes = 300'000'000;
    o.seed = 1;
    std::string d = model_dir();
    mixq::write_synthetic_model(o, d);  // resumes: a complete model is only re-validated
    return d;
  }();
  return dir;
}

// Sums 8-byte words (and the tail bytes); four independent accumulators keep the loop load-bound.
uint64_t sum_bytes(const uint8_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    a += w[0];
    b += w[1];
    c += w[2];
    d += w[3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

uint64_t sum_checkpoint(const mixq::Checkpoint& ck) {
  uint64_t s = 0;
  for (const auto& sh : ck.shards())
    for (const auto& t : sh->tensors()) {
      auto v = sh->view(t);
      s += sum_bytes(v.data, v.nbytes);
    }
  return s;
}

// The checkpoint opened once: steady-state reads of already-mapped, already-faulted pages.
void BM_SafetensorsRead_Mapped(benchmark::State& st) {
  mixq::Checkpoint ck(ensure_model());
  benchmark::DoNotOptimize(sum_checkpoint(ck));  // fault everything in once
  for (auto _ : st) benchmark::DoNotOptimize(sum_checkpoint(ck));
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(ck.tensor_bytes()));
}

// Open + validate every header + map + fault + read, every pass: what one streaming pass costs.
void BM_SafetensorsRead_OpenEachPass(benchmark::State& st) {
  uint64_t bytes = 0;
  for (auto _ : st) {
    mixq::Checkpoint ck(ensure_model());
    benchmark::DoNotOptimize(sum_checkpoint(ck));
    bytes += ck.tensor_bytes();
  }
  st.SetBytesProcessed(int64_t(bytes));
}

// Open every pass, but copy each tensor through a reused 8 MiB buffer with pread (no page mapping).
void BM_SafetensorsRead_PreadEachPass(benchmark::State& st) {
  uint64_t bytes = 0;
  std::vector<uint8_t> buf(8u << 20);
  for (auto _ : st) {
    mixq::Checkpoint ck(ensure_model());
    uint64_t s = 0;
    for (const auto& sh : ck.shards())
      for (const auto& t : sh->tensors())
        for (uint64_t off = 0; off < t.end - t.begin; off += buf.size()) {
          const uint64_t n = std::min<uint64_t>(buf.size(), t.end - t.begin - off);
          sh->read(t, buf.data(), off, n);
          s += sum_bytes(buf.data(), size_t(n));
        }
    benchmark::DoNotOptimize(s);
    bytes += ck.tensor_bytes();
  }
  st.SetBytesProcessed(int64_t(bytes));
}

constexpr size_t kBuf = 256u << 20;

void BM_Memcpy(benchmark::State& st) {
  std::vector<uint8_t> a(kBuf, 1), b(kBuf, 2);
  for (auto _ : st) {
    std::memcpy(b.data(), a.data(), kBuf);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(kBuf));  // bytes copied (read once, written once)
}

void BM_SumAnonymousMemory(benchmark::State& st) {
  std::vector<uint8_t> a(kBuf, 3);
  for (auto _ : st) benchmark::DoNotOptimize(sum_bytes(a.data(), a.size()));
  st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(kBuf));
}

BENCHMARK(BM_SafetensorsRead_Mapped)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);
BENCHMARK(BM_SafetensorsRead_OpenEachPass)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);
BENCHMARK(BM_SafetensorsRead_PreadEachPass)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_SumAnonymousMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

// Console output plus a record of each benchmark's bytes/s for the closing ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rate;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      auto it = r.counters.find("bytes_per_second");
      if (it != r.counters.end() && r.run_type == Run::RT_Iteration) rate[r.benchmark_name()] = it->second;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  mixq::set_log_level(mixq::LogLevel::Warn);
  ensure_model();
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  auto get = [&](const std::string& n) {  // names carry suffixes such as "/min_time:3.000/real_time"
    for (const auto& [k, v] : rep.rate)
      if (k.compare(0, n.size() + 1, n + "/") == 0) return v;
    return 0.0;
  };
  const double mapped = get("BM_SafetensorsRead_Mapped"), open = get("BM_SafetensorsRead_OpenEachPass");
  const double pread = get("BM_SafetensorsRead_PreadEachPass");
  const double mc = get("BM_Memcpy"), sum = get("BM_SumAnonymousMemory");
  std::printf("\nsafetensors read (mapped, warm)  %7.2f GB/s\n", mapped / 1e9);
  std::printf("safetensors read (open each pass) %7.2f GB/s\n", open / 1e9);
  std::printf("safetensors read (pread, 8 MiB)   %7.2f GB/s\n", pread / 1e9);
  std::printf("memcpy                           %7.2f GB/s\n", mc / 1e9);
  std::printf("sum of anonymous memory          %7.2f GB/s\n", sum / 1e9);
  if (mc > 0 && sum > 0) {
    std::printf("ratio read(mapped) / memcpy      %7.2f\n", mapped / mc);
    std::printf("ratio read(mapped) / memory sum  %7.2f\n", mapped / sum);
    std::printf("ratio read(open) / memory sum    %7.2f\n", open / sum);
    std::printf("ratio read(pread) / memory sum   %7.2f\n", pread / sum);
  }
  benchmark::Shutdown();
  return 0;
}
