#!/usr/bin/env bash
# CLI contract of the foundation commands (issue 2):
#  - bad input (safetensors files, indexes, configs, synth options): exit 2, exactly ONE line on
#    stderr naming the file and the tensor/field, nothing on stdout, no partial output;
#  - `mixq inspect --config-only` on the real M2.7 config: the minimax-m2.md §2.5 numbers, and the
#    --json contract (total_parameters; per class count, parameters, bytes);
#  - `mixq synth`: deterministic, and its FP8 output passes conformance with every linear FP8-block.
set -euo pipefail
MIXQ="${MIXQ:-build/mixq}"
SRC="${MIXQ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
SHARED="${MIXQ_SHARED_DIR:-$SRC/../shared}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# u64 little-endian length + header + N zero bytes of data
mkst() {  # file header data_bytes [declared_len]
  local f=$1 h=$2 n=$3 len=${4:-${#2}} i
  : >"$f"
  for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((len >> (8 * i)) & 255)))" >>"$f"; done
  printf '%s' "$h" >>"$f"
  head -c "$n" /dev/zero >>"$f"
}

# expect_error NAME "substr1|substr2|..." -- command...
expect_error() {
  local name=$1 want=$2
  shift 3
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" != 2 ]; then bad "$name: exit $rc, expected 2 ($(head -c 300 "$T/err"))"; return; fi
  if [ "$(wc -l <"$T/err")" != 1 ]; then bad "$name: stderr is not one line:"; cat "$T/err" >&2; return; fi
  if [ -s "$T/out" ]; then bad "$name: wrote to stdout"; return; fi
  local IFS='|' s
  for s in $want; do
    grep -qF -- "$s" "$T/err" || { bad "$name: stderr lacks '$s': $(cat "$T/err")"; return; }
  done
  ok
}

# ---- bad safetensors files, through `mixq inspect FILE` ----
D="$T/files"
mkdir -p "$D"
H='{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}'
mkst "$D/ok.safetensors" "$H" 8
printf 'abc' >"$D/short.safetensors"
expect_error truncated "short.safetensors|truncated" -- "$MIXQ" inspect "$D/short.safetensors"
mkst "$D/trunc_data.safetensors" "$H" 5
expect_error truncated_data "trunc_data.safetensors|'w'|past the data section" -- "$MIXQ" inspect "$D/trunc_data.safetensors"
mkst "$D/hdrlen.safetensors" "$H" 8 5000
expect_error header_past_end "hdrlen.safetensors|header length 5000|past the end" -- "$MIXQ" inspect "$D/hdrlen.safetensors"
mkst "$D/range.safetensors" '{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"v":{"dtype":"U8","shape":[4],"data_offsets":[8,99]}}' 12
expect_error offsets_out_of_range "range.safetensors|'v'|data_offsets end 99" -- "$MIXQ" inspect "$D/range.safetensors"
mkst "$D/overlap.safetensors" '{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"v":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}' 8
expect_error overlap "overlap.safetensors|'v'|overlap" -- "$MIXQ" inspect "$D/overlap.safetensors"
mkst "$D/count.safetensors" '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}' 8
expect_error byte_count "count.safetensors|'w'|holds 8 bytes|F32 x [2, 2] needs 16" -- "$MIXQ" inspect "$D/count.safetensors"
mkst "$D/dtype.safetensors" '{"w":{"dtype":"Q4_K","shape":[2,2],"data_offsets":[0,8]}}' 8
expect_error unknown_dtype "dtype.safetensors|'w'|unknown dtype 'Q4_K'" -- "$MIXQ" inspect "$D/dtype.safetensors"
mkst "$D/json.safetensors" '{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}' 8
expect_error invalid_json "json.safetensors|not valid JSON" -- "$MIXQ" inspect "$D/json.safetensors"
mkst "$D/dup.safetensors" '{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}' 8
expect_error duplicate "dup.safetensors|'w'|twice" -- "$MIXQ" inspect "$D/dup.safetensors"
expect_error no_such_file "nothere|no such file" -- "$MIXQ" inspect "$D/nothere"

# ---- sharded directory problems ----
"$MIXQ" -q synth --output "$T/sh" --max-shard-size 3MB --seed 1 >/dev/null
[ -f "$T/sh/model.safetensors.index.json" ] && ok || bad "synth --max-shard-size did not shard"
"$MIXQ" inspect "$T/sh" >/dev/null && ok || bad "inspect of a sharded synth model failed"
cp -r "$T/sh" "$T/missing_shard"
rm "$T/missing_shard/model-00002-of-"*.safetensors
expect_error index_missing_shard "model.safetensors.index.json|model-00002-of-|does not exist" -- "$MIXQ" inspect "$T/missing_shard"
cp -r "$T/sh" "$T/bad_index"
printf '{"weight_map": {' >"$T/bad_index/model.safetensors.index.json"
expect_error index_invalid_json "model.safetensors.index.json|invalid JSON" -- "$MIXQ" inspect "$T/bad_index"

# ---- configs ----
CFG="$SRC/models/tiny-minimax-m2/config.json"
sed '/"hidden_size"/d' "$CFG" >"$T/no_hidden.json"
expect_error config_missing "no_hidden.json|'hidden_size'|missing" -- "$MIXQ" inspect --config-only "$T/no_hidden.json"
sed 's/"num_key_value_heads": 2/"num_key_value_heads": 3/' "$CFG" >"$T/kv.json"
expect_error config_contradiction "kv.json|num_attention_heads 8|num_key_value_heads 3" -- "$MIXQ" inspect --config-only "$T/kv.json"
sed 's/"rotary_dim": 32/"rotary_dim": 32, "partial_rotary_factor": 0.25/' "$CFG" >"$T/rot.json"
expect_error config_rotary "rot.json|rotary_dim 32|partial_rotary_factor 0.25" -- "$MIXQ" inspect --config-only "$T/rot.json"
printf '{"hidden_size": ' >"$T/broken.json"
expect_error config_json "broken.json|invalid JSON" -- "$MIXQ" inspect --config-only "$T/broken.json"
cp -r "$T/sh" "$T/cfgdir" && cp "$T/kv.json" "$T/cfgdir/config.json"
expect_error checkpoint_config "cfgdir/config.json|num_key_value_heads 3" -- "$MIXQ" inspect "$T/cfgdir"

# ---- synth options: one line, exit 2, no output directory ----
expect_error synth_heads "num_attention_heads 6|num_key_value_heads 4" -- "$MIXQ" synth --output "$T/s_bad" --heads 6 --kv-heads 4
expect_error synth_topk "num_experts_per_tok 9" -- "$MIXQ" synth --output "$T/s_bad" --experts 8 --experts-per-tok 9
expect_error synth_shard "--max-shard-size|12XB" -- "$MIXQ" synth --output "$T/s_bad" --max-shard-size 12XB
expect_error synth_format "--format" -- "$MIXQ" synth --output "$T/s_bad" --format int3
[ ! -e "$T/s_bad" ] && ok || bad "a failed synth left $T/s_bad behind"

# ---- inspect --config-only on the real M2.7 config (minimax-m2.md §2.5) ----
M27="$SHARED/configs/minimax-m2.7/config.json"
if [ -f "$M27" ]; then
  "$MIXQ" inspect --config-only "$M27" >"$T/m27.txt"
  grep -q "228,689,764,864" "$T/m27.txt" && ok || bad "inspect --config-only M2.7 lacks 228,689,764,864"
  "$MIXQ" inspect --config-only "$M27" --json >"$T/m27.json"
  python3 - "$T/m27.json" <<'PY' && ok || bad "inspect --json contract / §2.5 numbers"
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j["total_parameters"], int) and j["total_parameters"] == 228_689_764_864, j["total_parameters"]
cls = {(c["kind"], c["storage"]): c for c in j["classes"]}
for c in j["classes"]:
    for k in ("count", "parameters", "bytes"):
        assert isinstance(c[k], int), (c, k)
assert sum(c["parameters"] for c in j["classes"]) == j["total_parameters"]
assert cls[("embedding", "BF16")]["parameters"] == 614_596_608
assert cls[("lm_head", "BF16")]["parameters"] == 614_596_608
att = cls[("attention", "FP8-block")]
assert att["count"] == 62 * 4 and att["parameters"] == 62 * 44_040_192, att
exp = cls[("experts", "FP8-block")]
assert exp["count"] == 62 * 256 * 3 and exp["parameters"] == 62 * 256 * 14_155_776, exp
assert cls[("router_gate", "F32")]["parameters"] == 62 * 256 * 3072
assert cls[("router_bias", "F32")]["parameters"] == 62 * 256
assert cls[("norm", "BF16")]["parameters"] == 62 * 2 * 3072 + 3072
assert cls[("qk_norm", "BF16")]["parameters"] == 62 * (6144 + 1024)
pc = j["parameter_counts"]
assert pc["per_expert"] == 14_155_776 and pc["attention_per_layer"] == 44_040_192 and pc["per_layer"] == 3_668_718_848
assert j["active_parameters"] == 9_801_356_800
assert abs(j["total_bytes"] / 1e9 - 230.1) < 0.05, j["total_bytes"]   # FP8 release ≈230.1 GB
PY
fi

# ---- synth: deterministic; FP8 output conformant with every linear FP8-block ----
"$MIXQ" -q synth --output "$T/a" --format fp8 --seed 5 --layers 2 --experts 4 --hidden-size 384 --intermediate-size 200
"$MIXQ" -q synth --output "$T/b" --format fp8 --seed 5 --layers 2 --experts 4 --hidden-size 384 --intermediate-size 200
diff -r "$T/a" "$T/b" >/dev/null && ok || bad "synth is not deterministic"
"$MIXQ" inspect "$T/a" --json >"$T/a.json" && ok || bad "inspect of synth FP8 output did not exit 0"
python3 - "$T/a.json" <<'PY' && ok || bad "synth FP8 storage classes"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["conformant"] is True and not [p for p in j["problems"] if p["severity"] == "error"]
st = {(c["kind"], c["storage"]) for c in j["classes"]}
assert st == {("attention", "FP8-block"), ("experts", "FP8-block"), ("router_gate", "F32"), ("router_bias", "F32"),
              ("embedding", "BF16"), ("lm_head", "BF16"), ("norm", "BF16"), ("qk_norm", "BF16")}, st
PY
grep -q '"quant_method": "fp8"' "$T/a/config.json" && grep -q '"weight_block_size"' "$T/a/config.json" && ok || bad "synth FP8 config.json"
[ -f "$T/a/generation_config.json" ] && ok || bad "synth wrote no generation_config.json"

echo "foundation_cli: $pass passed, $fails failed"
[ "$fails" = 0 ]
