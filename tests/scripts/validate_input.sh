#!/usr/bin/env bash
# `mixq validate` on what is not a checkpoint to check (issue 15 §3): a missing path or a plain
# file is exit 2 with one line; an unquantized model gets one line saying it is not
# compressed-tensors; a real check states the vLLM version and GPU generations it needs.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
STRIX=$MIXQ_SHARED_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
FRANKEN=$MIXQ_SHARED_DIR/recipes/minimax-m2.1-fp8-int4-awq.yaml
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect RC PATTERN ARGS...
  local want=$1 pat=$2 rc=0; shift 2
  "$MIXQ" "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$T/err" "$T/out"; fail "mixq $*: exit $rc, want $want"; }
  [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] || { cat "$T/err" "$T/out"; fail "mixq $*: want one line"; }
  grep -q -- "$pat" "$T/err" || { cat "$T/err"; fail "mixq $*: stderr lacks '$pat'"; }
}
expect 2 "$T/nope: no such file or directory" validate "$T/nope"
expect 2 "not a directory" validate "$TINY/config.json"
expect 2 "not a compressed-tensors checkpoint" validate "$TINY"

"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --output "$T/q" --rtn --no-progress > /dev/null 2>&1
"$MIXQ" validate "$T/q" > "$T/v.txt" || { cat "$T/v.txt"; fail "validate on our output"; }
grep -q "needs   vLLM with MiniMax-M2's packed_modules_mapping (PR #32763" "$T/v.txt" || { cat "$T/v.txt"; fail "vLLM version"; }
grep -q "needs   INT4 W4A16 layers: NVIDIA SM 80" "$T/v.txt" || { cat "$T/v.txt"; fail "W4A16 GPU generation"; }
# Tiny at TP 8: 256/8 = 32 intermediate rows per rank is below Marlin MoE's 64, so vLLM falls back
# to a slower MoE kernel; that is servable, and said so (it used to read "not servable").
grep -q "servable at TP 1/2/4/8 (TP 8 on the slower non-Marlin MoE kernel)" "$T/v.txt" || { cat "$T/v.txt"; fail "TP 8 fallback"; }
"$MIXQ" validate "$T/q" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert len(j["requirements"]) >= 2 and j["servable_tp_non_marlin_moe"] == [8], j'

# FP8-block attention kept: the quantize run says so, and validate names the SM 89 condition.
"$MIXQ" synth --format fp8 --output "$T/fp8" > /dev/null 2>&1
"$MIXQ" quantize --model "$T/fp8" --recipe "$FRANKEN" --output "$T/fq" --rtn --no-progress > "$T/fq.txt" 2>&1 || { cat "$T/fq.txt"; fail "FP8 quantize"; }
grep -q "kept as FP8" "$T/fq.txt" || { cat "$T/fq.txt"; fail "the FP8 flow does not say FP8 attention was kept"; }
"$MIXQ" validate "$T/fq" > "$T/fv.txt" || { cat "$T/fv.txt"; fail "validate FP8"; }
grep -q "FP8-block layers: NVIDIA SM 89" "$T/fv.txt" || { cat "$T/fv.txt"; fail "FP8 GPU generation"; }
echo "validate_input: OK"
