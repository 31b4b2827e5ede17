#!/usr/bin/env bash
# The command line a new user meets (issue 15 §3): an unknown command names itself with a
# did-you-mean; -q/-v work before or after the subcommand; usage says `mixq`, not the binary's
# path; numeric options are range-checked and typed INT in --help (one line, exit 2).
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
STRIX=$MIXQ_SHARED_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
fail() { echo "FAIL: $*"; exit 1; }
# expect RC PATTERN ARGS...: exit status RC, exactly one stderr line matching PATTERN.
expect() {
  local want=$1 pat=$2 rc=0; shift 2
  "$MIXQ" "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$T/err"; fail "mixq $*: exit $rc, want $want"; }
  [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; fail "mixq $*: want one line on stderr"; }
  grep -q -- "$pat" "$T/err" || { cat "$T/err"; fail "mixq $*: stderr lacks '$pat'"; }
}

expect 2 "unknown command 'quantise' (did you mean 'quantize'?)" quantise --model x
expect 2 "unknown command 'version' (did you mean '--version'?)" version
expect 2 "unknown command 'frobnicate' (commands: " frobnicate
expect 2 "unknown command 'valdiate' (did you mean 'validate'?)" -q valdiate x
"$MIXQ" --version | grep -q '^mixq '

# -q / -v after the subcommand, as docs/quantize.md writes them.
"$MIXQ" inspect "$TINY" -q > /dev/null || fail "-q after the subcommand"
"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --dry-run -v > /dev/null || fail "-v after the subcommand"

# Usage names the program, not the path it was started by.
"$MIXQ" plan --help > "$T/help" || true
head -3 "$T/help" | grep -q "mixq plan" || { head -3 "$T/help"; fail "usage does not say 'mixq plan'"; }
grep -q "$MIXQ" "$T/help" && fail "usage shows the binary's path"

# Numbers: refused out of range instead of silently replaced; integers typed INT in --help.
expect 2 "calib-samples" quantize --model "$TINY" --recipe "$STRIX" --output "$T/q" --calib-samples 0
expect 2 "calib-samples" quantize --model "$TINY" --recipe "$STRIX" --output "$T/q" --calib-samples -3
expect 2 "calib-seq-len" quantize --model "$TINY" --recipe "$STRIX" --output "$T/q" --calib-seq-len 0
expect 2 "max-tokens" generate --model "$TINY" --prompt hi --max-tokens 0
[ ! -e "$T/q" ] || fail "a refused quantize left $T/q behind"
"$MIXQ" quantize --help | grep -E -- "--calib-samples (INT|:INT)" > /dev/null || fail "--calib-samples not INT in --help"
"$MIXQ" plan --help | grep -E -- "--max-num-seqs (INT|:INT)" > /dev/null || fail "plan --max-num-seqs not INT in --help"
# Numbers in reports: a tiny model's parameters are "14.57 M", not "0.01 B"; plan's counts have commas.
"$MIXQ" inspect "$TINY" > "$T/inspect.txt"
grep -q "total parameters:  14,568,496 (14.57 M)" "$T/inspect.txt" || { grep parameters "$T/inspect.txt"; fail "inspect parameter count"; }
"$MIXQ" plan --config "$MIXQ_SHARED_DIR/configs/minimax-m2.7/config.json" --recipe "$STRIX" > "$T/plan.txt"
grep -Eq "experts +W4A16-g32 +44,544 " "$T/plan.txt" || { grep W4A16 "$T/plan.txt"; fail "plan count without commas"; }
echo "cli_usage: OK"
