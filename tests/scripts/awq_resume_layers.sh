#!/bin/bash
# AWQ per-layer resume (issue 6): `mixq quantize` with an AWQ recipe on the tiny model (6 layers),
# killed with SIGKILL right after layer n's state is persisted (the test-only hook
# MIXQ_TEST_KILL_AFTER_LAYER=n) and restarted with the same command:
#  - the restart logs "awq: resuming at layer R" with R > 0 and computes no layer below R;
#  - the output directory (shards, index, config, awq_report.json, manifest) is byte-identical
#    (diff -r) to an uninterrupted run's, and the resume state (.mixq_awq_state) is gone;
#  - a truncated newest state file is rejected with a warning and the restart still ends identical;
#  - with a tiny --calib-memory the hidden states are spilled to a file-backed mapping and the
#    output is still identical;
#  - re-running the finished job computes nothing and changes nothing (awq_report.json kept).
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
RECIPE="$MIXQ_SHARED_DIR/recipes/minimax-m2.1-fp8-int4-awq.yaml"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# -v: the per-layer "awq: layer N:" lines this test counts are debug detail since issue 15.
ARGS=(-v --model "$MODEL" --recipe "$RECIPE" --calib-samples 4 --calib-seq-len 128 --awq-w2-gram --max-shard-size 512KiB --no-progress)
now() { date +%s.%N; }

t0=$(now)
"$MIXQ" quantize "${ARGS[@]}" --output "$T/ref" > /dev/null 2> "$T/ref.log"
t1=$(now)
[ ! -e "$T/ref/.mixq_awq_state" ] || { echo "FAIL: resume state left behind after success"; exit 1; }
[ "$(grep -c 'awq: layer [0-9]*:' "$T/ref.log")" -eq 6 ] || { echo "FAIL: reference run did not compute 6 layers"; exit 1; }
# A re-run of the finished job computes nothing and leaves everything (awq_report.json included) as is.
cp -r "$T/ref" "$T/ref_copy"
"$MIXQ" quantize "${ARGS[@]}" --output "$T/ref_copy" > /dev/null 2> "$T/rerun.log"
! grep -q 'awq: layer [0-9]*:' "$T/rerun.log" || { echo "FAIL: the re-run of a finished job computed a layer"; exit 1; }
diff -r "$T/ref" "$T/ref_copy" > /dev/null || { echo "FAIL: re-running a finished job changed its output"; diff -r "$T/ref" "$T/ref_copy" | head; exit 1; }

# kill_run OUT N: run with the kill hook after layer N; it must die by SIGKILL with state on disk.
kill_run() {
  set +e
  # (in a subshell whose stderr is dropped: bash's own "Killed" job message)
  (MIXQ_TEST_KILL_AFTER_LAYER=$2 "$MIXQ" quantize "${ARGS[@]}" --output "$1" > /dev/null 2> "$1.kill.log"; exit $?) 2> /dev/null
  local rc=$?
  set -e
  [ $rc -eq 137 ] || { echo "FAIL: kill after layer $2: exit $rc, expected 137 (SIGKILL)"; cat "$1.kill.log"; exit 1; }
  ls "$1/.mixq_awq_state"/layer_$2.json > /dev/null || { echo "FAIL: no saved report of layer $2"; exit 1; }
}
# resume OUT: restart; echo the layer it resumed at (0: none); checks no layer below it was computed.
resume() {
  "$MIXQ" quantize "${ARGS[@]}" --output "$1" > /dev/null 2> "$1.resume.log"
  local r
  r=$(grep -o 'awq: resuming at layer [0-9]*' "$1.resume.log" | grep -o '[0-9]*$' || echo 0)
  local low
  low=$(grep -o 'awq: layer [0-9]*:' "$1.resume.log" | grep -o '[0-9]*' | sort -n | head -1 || true)
  if [ -n "$low" ] && [ "$low" -lt "$r" ]; then echo "FAIL: resumed at $r but recomputed layer $low" >&2; exit 1; fi
  diff -r "$T/ref" "$1" > /dev/null || { echo "FAIL: $1 differs from the uninterrupted run" >&2; diff -r "$T/ref" "$1" | head >&2; exit 1; }
  echo "$r"
}

for n in 1 3 4 5; do
  out="$T/k$n"
  t2=$(now)
  kill_run "$out" $n
  t3=$(now)
  r=$(resume "$out")
  t4=$(now)
  [ $n -eq 4 ] && times4=$(awk -v a="$t2" -v b="$t3" -v c="$t4" 'BEGIN { printf "killed run %.2f s + restart %.2f s = %.2f s", b - a, c - b, c - a }')
  computed=$(grep -c 'awq: layer [0-9]*:' "$out.resume.log" || true)
  echo "kill after layer $n: resumed at layer $r, $computed layer(s) computed on restart, output identical"
  [ "$r" -gt 0 ] && [ "$r" -le $((n + 1)) ] || { echo "FAIL: kill after layer $n resumed at layer $r"; cat "$out.resume.log"; exit 1; }
done

# A truncated state: the one the restart needs (the oldest kept: the resume floor's) is cut short;
# it is rejected with a warning, the embeddings are recomputed from layer 0, the end is identical.
out="$T/trunc"
kill_run "$out" 3
floor=$(ls "$out/.mixq_awq_state"/hidden_*.bin | sort -V | head -1)
truncate -s 1000 "$floor"
r=$(resume "$out")
grep -q "warning: awq: ignoring resume state .*$(basename "$floor")" "$out.resume.log" ||
  { echo "FAIL: no warning for the truncated state"; cat "$out.resume.log"; exit 1; }
echo "truncated $(basename "$floor"): rejected with a warning, resumed at layer $r, output identical"

# Spill: a 64 KiB budget puts the hidden states (tokens x 256 x 4 B) in a file-backed mapping.
"$MIXQ" quantize "${ARGS[@]}" --calib-memory 64KiB --output "$T/spill" > /dev/null 2> "$T/spill.log"
grep -q "awq: hidden states .* spilled to a file-backed mapping" "$T/spill.log" || { echo "FAIL: no spill"; cat "$T/spill.log"; exit 1; }
diff -r "$T/ref" "$T/spill" > /dev/null || { echo "FAIL: spilled run differs"; exit 1; }
echo "spill (--calib-memory 64KiB): output identical"

awk -v a="$t0" -v b="$t1" 'BEGIN { printf "uninterrupted run %.2f s; ", b - a }'
echo "kill after layer 4: $times4"
echo OK
