// Encode throughput of the text/ tokenizer. Env: MIXQ_BENCH_TOKENIZER (tokenizer.json or model
// dir; default the tiny model), MIXQ_BENCH_TEXT (text file; default a generated mixed text).
// bench/tokenizer_vs_hf.sh runs this beside HF tokenizers on the same file.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "text/tokenizer.h"

namespace {

std::string env_or(const char* k, const std::string& d) {
  const char* v = std::getenv(k);
  return v && *v ? v : d;
}

const mixq::text::Tokenizer& tokenizer() {
  static auto tk = mixq::text::Tokenizer::load(
      env_or("MIXQ_BENCH_TOKENIZER", std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2"));
  return *tk;
}

const std::string& text() {
  static std::string t = [] {
    std::string path = env_or("MIXQ_BENCH_TEXT", "");
    if (!path.empty()) {
      std::ifstream f(path, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      return ss.str();
    }
    std::string s;
    const char* parts[] = {"The quick brown fox jumps over the lazy dog. ", "Grüße aus Zürich! ", "今天天气很好。",
                           "def f(x):\n    return x ** 2\n", "    \n\t", "1234567 3.14159 ", "Emoji 😀 👍🏽 "};
    for (int i = 0; s.size() < (8u << 20); ++i) s += parts[(i * 7 + i / 3) % 7];
    return s;
  }();
  return t;
}

// 4 KiB documents cut at line boundaries (as bench_hf.js does).
std::vector<std::string_view> docs() {
  std::vector<std::string_view> out;
  const std::string& t = text();
  size_t start = 0;
  while (start < t.size()) {
    size_t end = std::min(t.size(), start + 4096);
    size_t nl = t.find('\n', end);
    end = nl == std::string::npos ? t.size() : nl + 1;
    out.emplace_back(t.data() + start, end - start);
    start = end;
  }
  return out;
}

void BM_EncodeWhole(benchmark::State& st) {
  const auto& tk = tokenizer();
  const auto& t = text();
  size_t n = 0;
  for (auto _ : st) n = tk.encode(t, false).size();
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * t.size()));
  st.counters["tokens"] = static_cast<double>(n);
}

void BM_EncodeDocs(benchmark::State& st) {
  const auto& tk = tokenizer();
  auto d = docs();
  for (auto _ : st)
    for (auto s : d) benchmark::DoNotOptimize(tk.encode(s, false));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * text().size()));
}

}  // namespace

BENCHMARK(BM_EncodeWhole)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_EncodeDocs)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
