#!/usr/bin/env bash
# CLI contract of `mixq quantize` / `mixq validate` (issue 3): dry-run JSON with predicted_bytes
# within 0.1% of the published STRIX-2H artifact, exit 2 with one line on bad input, validate
# exit 0 on our output and non-zero on broken checkpoints.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
CFG=$MIXQ_SHARED_DIR/configs/minimax-m2.7/config.json
STRIX=$MIXQ_SHARED_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
FP8R=$MIXQ_SHARED_DIR/recipes/minimax-m2.1-fp8-int4-awq.yaml
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
fail() { echo "FAIL: $*" >&2; exit 1; }

for extra in "" "--source-dtype bf16"; do
  "$MIXQ" quantize --config "$CFG" --recipe "$STRIX" --dry-run --json $extra > "$T/plan.json"
  python3 - "$T/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
pub = 155271743469
err = abs(p["predicted_bytes"] / pub - 1)
assert err < 0.001, (p["predicted_bytes"], err)
assert p["num_shards"] == 32, p["num_shards"]
print("predicted", p["predicted_bytes"], "rel.err %.5f%%" % (100 * err))
PY
done
"$MIXQ" quantize --config "$CFG" --recipe "$STRIX" --dry-run | grep -q "predicted size" || fail "text dry-run"
"$MIXQ" quantize --model "$TINY" --recipe "$FP8R" --dry-run | grep -q "neither matched nor ignored" || fail "unmatched list"

expect2() {  # expect exit code 2 and a one-line error
  local rc=0; "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = 2 ] || fail "exit $rc (want 2): $*"
  [ "$(wc -l < "$T/err")" -ge 1 ] || fail "no message: $*"
}
printf 'default_stage:\n  default_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: ["re:(?=x)"]\n          weights: {num_bits: 4, type: int, group_size: 32}\n' > "$T/badre.yaml"
printf 'a: [\n' > "$T/badyaml.yaml"
printf 'default_stage:\n  default_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, group_size: 32, what: 1}\n' > "$T/unknown.yaml"
printf 'default_stage:\n  default_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head, "re:.*gate$"]\n      config_groups:\n        g:\n          targets: ["re:.*w[123]$"]\n          weights: {num_bits: 4, type: int, group_size: 128, strategy: group}\n        h:\n          targets: ["re:.*experts.*"]\n          weights: {num_bits: 4, type: int, group_size: 32}\n' > "$T/overlap.yaml"
expect2 "$MIXQ" quantize --model "$TINY" --recipe "$T/badre.yaml" --dry-run
expect2 "$MIXQ" quantize --model "$TINY" --recipe "$T/badyaml.yaml" --dry-run
expect2 "$MIXQ" quantize --model "$TINY" --recipe "$T/unknown.yaml" --dry-run
expect2 "$MIXQ" quantize --model "$TINY" --recipe "$T/overlap.yaml" --dry-run
expect2 "$MIXQ" quantize --model "$T/nonexistent" --recipe "$STRIX" --output "$T/x"
mkdir -p "$T/foreign"; echo hi > "$T/foreign/file"
expect2 "$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --output "$T/foreign"

"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --output "$T/q" --rtn --no-progress --max-shard-size 4MiB
"$MIXQ" validate "$T/q" > "$T/v.txt" || { cat "$T/v.txt"; fail "validate on our output"; }

broken() {  # copy, break with python, expect validate to fail and mention $2
  rm -rf "$T/b"; cp -r "$T/q" "$T/b"; python3 -c "$1" "$T/b"
  local rc=0; "$MIXQ" validate "$T/b" > "$T/bv.txt" || rc=$?
  [ "$rc" != 0 ] || { cat "$T/bv.txt"; fail "validate accepted a broken checkpoint ($2)"; }
  grep -q -- "$2" "$T/bv.txt" || { cat "$T/bv.txt"; fail "finding '$2' not reported"; }
}
CFGPY='import json,sys; p=sys.argv[1]+"/config.json"; c=json.load(open(p)); q=c["quantization_config"]; g=q["config_groups"]["group_0"]'
broken "$CFGPY; g['weights']['scale_dtype']=None; json.dump(c,open(p,'w'))" "scale_dtype"
broken "$CFGPY; g['targets']=g['targets'][:1]; json.dump(c,open(p,'w'))" "probe"
broken "$CFGPY; q['ignore']=[x for x in q['ignore'] if 'self_attn' not in x]; json.dump(c,open(p,'w'))" "KeyError"
broken "$CFGPY; q['config_groups']['group_1']=dict(g); json.dump(c,open(p,'w'))" "also in"
broken 'import sys,glob; f=sorted(glob.glob(sys.argv[1]+"/*.safetensors"))[0]; b=bytearray(open(f,"rb").read()); b[-1]^=1; open(f,"wb").write(bytes(b))' "sha256"
echo "quant CLI contract OK"
