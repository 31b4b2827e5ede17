#!/usr/bin/env bash
# `mixq quantize`'s output directory and recipe as a new user meets them (issue 15 §3):
#  - an unrelated non-empty --output says what it holds and offers --overwrite, which replaces it;
#    the input model's own directory is refused even with --overwrite;
#  - a recipe whose config group matches no module is refused (exit 2), naming the group;
#  - Ctrl-C says the run was interrupted and that rerunning resumes; validate / inspect /
#    generate on that output say it is an incomplete quantize run (exit 2, one line);
#  - --rtn does not warn about missing calibration statistics.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
STRIX=$MIXQ_SHARED_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect RC PATTERN ARGS...
  local want=$1 pat=$2 rc=0; shift 2
  "$MIXQ" "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$T/err"; fail "mixq $*: exit $rc, want $want"; }
  [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; fail "mixq $*: want one line on stderr"; }
  grep -q -- "$pat" "$T/err" || { cat "$T/err"; fail "mixq $*: stderr lacks '$pat'"; }
}
rtn() { "$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --rtn --no-progress "$@"; }

mkdir -p "$T/notes"; echo hi > "$T/notes/todo.txt"
expect 2 "holds 1 unrelated entry (todo.txt).*--overwrite" quantize --model "$TINY" --recipe "$STRIX" --rtn --output "$T/notes"
[ -f "$T/notes/todo.txt" ] || fail "the refused directory was changed"
expect 2 "is the input model's directory" quantize --model "$TINY" --recipe "$STRIX" --rtn --output "$TINY" --overwrite
rtn --output "$T/notes" --overwrite > /dev/null 2> "$T/err" || { cat "$T/err"; fail "--overwrite"; }
[ ! -e "$T/notes/todo.txt" ] && "$MIXQ" validate "$T/notes" > /dev/null || fail "--overwrite did not give a valid checkpoint"
# Another job's output: named as such.
expect 2 "a mixq quantize output of another job (different options)" \
  quantize --model "$TINY" --recipe "$STRIX" --rtn --output "$T/notes" --max-shard-size 1MiB

# --rtn was asked for: no "no calibration statistics" warning.
rtn --output "$T/rtn" 2> "$T/err" > /dev/null
grep -q "no calibration statistics" "$T/err" && { cat "$T/err"; fail "--rtn warns about calibration statistics"; }

# A config group that matches nothing.
sed 's/block_sparse_moe/no_such_module/g' "$STRIX" > "$T/nomatch.yaml"
grep -q no_such_module "$T/nomatch.yaml" || fail "test recipe not rewritten"
expect 2 "config group '.*' matches no module" quantize --model "$TINY" --recipe "$T/nomatch.yaml" --rtn --output "$T/nm"
[ ! -e "$T/nm" ] || [ -z "$(ls -A "$T/nm")" ] || fail "a refused recipe left files in $T/nm"

# Ctrl-C during an AWQ run: a line saying so, exit 130; the output is an incomplete run.
"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --output "$T/int" --calib-samples 16 --no-progress > /dev/null 2> "$T/int.err" &
pid=$!
for _ in $(seq 600); do [ -e "$T/int/.mixq_job.json" ] && break; sleep 0.1; done
[ -e "$T/int/.mixq_job.json" ] || { kill "$pid"; fail "quantize never started writing"; }
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { cat "$T/int.err"; fail "Ctrl-C: exit $rc, want 130"; }
grep -q "quantize interrupted; run the same command again to resume" "$T/int.err" || { cat "$T/int.err"; fail "Ctrl-C message"; }
[ ! -e "$T/int/mixq_manifest.json" ] || fail "interrupted before the end but has a manifest"
expect 2 "an incomplete mixq quantize run" validate "$T/int"
expect 2 "an incomplete mixq quantize run" inspect "$T/int"
expect 2 "an incomplete mixq quantize run" generate --model "$T/int" --prompt hi
echo "quantize_output_dir: OK"
