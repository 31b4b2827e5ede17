#!/usr/bin/env bash
# Kill-and-resume (issue 3): `mixq quantize` killed with SIGKILL at several moments and restarted
# with the same command must finish with output byte-identical to an uninterrupted run.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
RECIPE=$MIXQ_SHARED_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
run() { "$MIXQ" quantize --model "$TINY" --recipe "$RECIPE" --output "$1" --rtn --max-shard-size 1MiB --no-progress > /dev/null 2>&1; }
digest() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

run "$T/ref"
digest "$T/ref" > "$T/ref.sum"
nshards=$(ls "$T/ref"/*.safetensors | wc -l)
[ "$nshards" -gt 4 ] || { echo "FAIL: want several shards, got $nshards"; exit 1; }
killed=0
for delay in 0.02 0.05 0.1 0.15 0.2 0.3 0.4; do
  out="$T/run_$delay"
  "$MIXQ" quantize --model "$TINY" --recipe "$RECIPE" --output "$out" --rtn --max-shard-size 1MiB --no-progress > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2> /dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2> /dev/null || true
  partial=$(ls "$out" 2> /dev/null | grep -c '\.safetensors$' || true)
  run "$out"
  digest "$out" > "$T/got.sum"
  if ! diff -q "$T/ref.sum" "$T/got.sum" > /dev/null; then
    echo "FAIL: output after kill at ${delay}s (with $partial complete shard(s)) differs"; diff "$T/ref.sum" "$T/got.sum" | head; exit 1
  fi
  "$MIXQ" validate "$out" > /dev/null || { echo "FAIL: validate after resume"; exit 1; }
  echo "kill at ${delay}s: $partial shard(s) on disk, resumed, identical"
done
# Killed before its identity file landed: only a temporary of it is left. That is a fresh start
# (the temporary removed), not "a different job".
mkdir "$T/early"; echo '{"trunc' > "$T/early/.mixq_job.json.tmp.99999"
run "$T/early" || { echo "FAIL: an output dir holding only a killed run's temporary was refused"; exit 1; }
digest "$T/early" > "$T/got.sum"
diff -q "$T/ref.sum" "$T/got.sum" > /dev/null || { echo "FAIL: output after an early kill differs"; exit 1; }
echo "quant kill/resume OK ($killed of 7 runs killed mid-way)"
