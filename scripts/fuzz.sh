#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang and runs each for a bounded time (default 60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-60}"
OUT="${MIXQ_BUILD_DIR:-build}/fuzz"
mkdir -p "$OUT"
for src in fuzz/*_fuzz.cpp; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .cpp)
  deps=$(sed -n 's#^// fuzz-sources: ##p' "$src")
  libs=$(sed -n 's#^// fuzz-libs: ##p' "$src")
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc -I/usr/include \
    "$src" $deps -lfmt $libs -o "$OUT/$name"
  mkdir -p "$OUT/$name.corpus"
  seeds="fuzz/corpus/${name%_fuzz}"
  echo "fuzz: $name for ${SECS}s"
  dict=$( [ -f "fuzz/$name.dict" ] && echo "-dict=fuzz/$name.dict" )
  "$OUT/$name" -max_total_time="$SECS" -print_final_stats=0 $dict "$OUT/$name.corpus" $( [ -d "$seeds" ] && echo "$seeds" ) \
    >"$OUT/$name.log" 2>&1 || { tail -50 "$OUT/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E '^(Done|#[0-9]+.*DONE)' "$OUT/$name.log" | tail -1 || true
done
