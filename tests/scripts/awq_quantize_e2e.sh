#!/bin/bash
# AWQ inside `mixq quantize` end to end on the tiny model's outlier variant (issue 6):
#  - an AWQModifier recipe runs the sequential AWQ pipeline (small calibration set for speed), the
#    checkpoint validates, and awq_report.json beside it has every layer with per-mapping ratios,
#    losses (best <= identity) and routing-change rates (compensated << uncompensated);
#  - --rtn gives plain RTN of the same targets, and by `mixq eval kld` AWQ's mean KLD is <= 0.6 x
#    RTN's with top-1 agreement >= RTN's;
#  - an AWQ run killed with SIGKILL and restarted resumes (complete shards kept) and ends
#    byte-identical to the uninterrupted run, awq_report.json included;
#  - a model without tokenizer.json fails clearly (exit 2, names --rtn, writes nothing);
#  - the quantize --dry-run JSON is the same with and without the AWQ flags (stable contract).
set -euo pipefail
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
RECIPE="$MIXQ_SHARED_DIR/recipes/minimax-m2.1-fp8-int4-awq.yaml"
A="$MIXQ_SHARED_DIR/assets"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MIXQ" synth --from "$MODEL" --outlier-channels 4 --outlier-scale 10:50 --seed 1 --output "$T/ov"
"$MIXQ" quantize --model "$T/ov" --recipe "$RECIPE" --output "$T/rtn" --rtn --no-progress
AWQ=(--recipe "$RECIPE" --calib-samples 4 --calib-seq-len 192 --max-shard-size 1MiB --no-progress)
"$MIXQ" quantize --model "$T/ov" --output "$T/awq" "${AWQ[@]}"
"$MIXQ" validate "$T/awq" > /dev/null
[ ! -e "$T/rtn/awq_report.json" ] || { echo "--rtn wrote an AWQ report"; exit 1; }
for m in rtn awq; do
  "$MIXQ" eval kld --reference "$T/ov" --model "$T/$m" --text "$A/tiny-minimax-m2/valid.txt" --gsm8k "$A/gsm8k/test.jsonl" \
      --max-tokens 1024 --seq-len 256 --json > "$T/$m.json"
done
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
rep = json.load(open(f"{t}/awq/awq_report.json"))
assert rep["algorithm"] == "awq" and rep["calibration_tokens"] > 0
assert [l["layer"] for l in rep["layers"]] == list(range(6)), rep["layers"]
comp = unc = 0.0
for l in rep["layers"]:
    maps = [l["norm_mapping"]] + l["w3_w2_mappings"]
    assert len(maps) == 9
    for m in maps:
        assert not m["skipped"] and 0 <= m["ratio"] <= 1
        assert m["loss_best"] <= m["loss_identity"], m
    assert sum(l["routed_tokens"]) == 2 * l["tokens"]
    comp += l["routing_change_compensated"]; unc += l["routing_change_uncompensated"]
assert comp < 0.2 * unc, (comp, unc)
r, a = json.load(open(f"{t}/rtn.json")), json.load(open(f"{t}/awq.json"))
print(f"RTN: mean KLD {r['mean_kld']:.5f} top-1 {r['top1_agreement']:.4f}; AWQ: mean KLD {a['mean_kld']:.5f} top-1 {a['top1_agreement']:.4f}; "
      f"ratio {a['mean_kld'] / r['mean_kld']:.3f}; routing change compensated {comp/6:.4f} vs uncompensated {unc/6:.4f}")
assert r["positions"] == a["positions"] == 1024
assert a["mean_kld"] <= 0.6 * r["mean_kld"], (a["mean_kld"], r["mean_kld"])
assert a["top1_agreement"] >= r["top1_agreement"]
PY
"$MIXQ" quantize --model "$T/ov" --output "$T/kill" "${AWQ[@]}" > /dev/null 2>&1 & pid=$!
sleep 3; kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
"$MIXQ" quantize --model "$T/ov" --output "$T/kill" "${AWQ[@]}" > /dev/null 2>&1
diff -r "$T/awq" "$T/kill" || { echo "resumed AWQ output differs"; exit 1; }
"$MIXQ" quantize --model "$T/ov" --recipe "$RECIPE" --dry-run --json > "$T/p1.json"
"$MIXQ" quantize --model "$T/ov" --recipe "$RECIPE" --dry-run --json --rtn --no-router-compensation > "$T/p2.json"
cmp "$T/p1.json" "$T/p2.json"
# A model without a tokenizer: AWQ cannot calibrate -> exit 2 with one line that names --rtn, no output.
mkdir "$T/notok"; cp "$T/ov/config.json" "$T/ov/model.safetensors" "$T/notok/"
set +e; "$MIXQ" quantize --model "$T/notok" --recipe "$RECIPE" --output "$T/notok_q" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q -- "--rtn" "$T/err" && [ ! -e "$T/notok_q" ] || { echo "expected exit 2 naming --rtn, got $rc"; cat "$T/err"; exit 1; }
echo OK
