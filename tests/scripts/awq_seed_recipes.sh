#!/bin/bash
# Both published recipes end to end with AWQ (issue 6), on the bundled tiny BF16 model and on a
# synthetic FP8-block release of the same architecture (tiny config, tokenizer copied in):
#  - minimax-m2.1-fp8-int4-awq.yaml as published: every expert INT4, attention kept FP8 when the
#    source is FP8 (BF16 otherwise);
#  - minimax-m2.7-awq-g32-strix-2h.yaml with recipes/overrides/strix-2h-tiny-depth.yaml: its
#    layers-58..61 expert carve-out becomes the tiny model's last layer (5); attention BF16.
# Each output passes `mixq validate`; carve-out experts are BF16 `weight`, every other expert
# pack-quantized INT4 g32; config.json ignores the carve-out's MoE probe names; awq_report.json has
# every layer with its norm mapping and one w3 -> w2 mapping per expert, and the carve-out layer's
# mappings skipped: no quantized layer in them, so (llm-compressor >= 0.11, spec §5.2) that layer is
# not smoothed at all; its norm and experts are the source's bytes. A smoothed norm in front of
# unsmoothed BF16 experts would change the function (on the outlier variant: mean KLD 3.1 instead of
# 0.005). End to end (quantize --eval-text): AWQ's mean KLD vs the source is at most 1.5 x RTN's on
# the same recipe. Also: a bad override exits 2 with one line naming the key, and the dry-run JSON
# keys are the same with an override.
# Small calibration set (2 samples x 64 tokens, --awq-w2-gram) to stay fast on a 2-core box.
set -euo pipefail
S="$MIXQ_SOURCE_DIR"
TINY="$S/models/tiny-minimax-m2"
FP8R="$S/recipes/minimax-m2.1-fp8-int4-awq.yaml"
STRIX="$S/recipes/minimax-m2.7-awq-g32-strix-2h.yaml"
OVR="$S/recipes/overrides/strix-2h-tiny-depth.yaml"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# Synthetic FP8-block release shaped like the tiny model (6 layers, 8 experts, vocab 6144).
"$MIXQ" synth --from-config "$TINY/config.json" --format fp8 --seed 3 --max-shard-size 4MiB --output "$T/fp8src"
cp "$TINY"/tokenizer.json "$TINY"/tokenizer_config.json "$TINY"/chat_template.jinja "$TINY"/generation_config.json "$T/fp8src/"

COMMON=(--no-progress --max-shard-size 2MiB --eval-text "$TINY/valid.txt" --eval-tokens 256)
CAL=(--calib-samples 2 --calib-seq-len 64 --awq-w2-gram)
for src in tiny fp8; do
  M="$TINY"; [ $src = fp8 ] && M="$T/fp8src"
  for q in awq rtn; do
    X=("${CAL[@]}"); [ $q = rtn ] && X=(--rtn)
    "$MIXQ" -q quantize --model "$M" --recipe "$FP8R" --output "$T/${src}_fp8int4_$q" "${COMMON[@]}" "${X[@]}"
    "$MIXQ" -q quantize --model "$M" --recipe "$STRIX" --recipe-override "$OVR" --output "$T/${src}_strix_$q" "${COMMON[@]}" "${X[@]}" \
      > "$T/${src}_strix_$q.out"
  done
  for r in fp8int4 strix; do "$MIXQ" validate "$T/${src}_${r}_awq" > /dev/null; done
done
# -q keeps the summary table off stdout; only the one result line remains.
[ "$(wc -l < "$T/tiny_strix_awq.out")" -eq 1 ] || { echo "-q printed more than the result line:"; cat "$T/tiny_strix_awq.out"; exit 1; }

TINY="$TINY" /usr/bin/python3 - "$T" <<'PY'
import json, os, struct, sys
t = sys.argv[1]
L, E = 6, 8

def tensors(d):
    """name -> header entry, plus "_file"/"_base" to read the bytes."""
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            with open(os.path.join(d, f), "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                h = json.loads(fh.read(n))
            out.update({k: dict(v, _file=os.path.join(d, f), _base=8 + n) for k, v in h.items() if k != "__metadata__"})
    return out

def data(ts, k):
    e = ts[k]
    with open(e["_file"], "rb") as fh:
        fh.seek(e["_base"] + e["data_offsets"][0])
        return fh.read(e["data_offsets"][1] - e["data_offsets"][0])

srcs = {"tiny": tensors(os.environ["TINY"]), "fp8": tensors(f"{t}/fp8src")}

for src in ("tiny", "fp8"):
    for recipe in ("fp8int4", "strix"):
        d = f"{t}/{src}_{recipe}_awq"
        ts = tensors(d)
        idx = json.load(open(f"{d}/model.safetensors.index.json"))
        assert set(idx["weight_map"]) == set(ts), d
        qc = json.load(open(f"{d}/config.json"))["quantization_config"]
        carve = {5} if recipe == "strix" else set()
        for l in range(L):
            for e in range(E):
                for w in ("w1", "w2", "w3"):
                    m = f"model.layers.{l}.block_sparse_moe.experts.{e}.{w}"
                    if l in carve:
                        assert ts[m + ".weight"]["dtype"] == "BF16" and m + ".weight_packed" not in ts, (d, m)
                    else:
                        assert ts[m + ".weight_packed"]["dtype"] == "I32" and m + ".weight" not in ts, (d, m)
                        assert ts[m + ".weight_scale"]["shape"][1] * 32 == ts[m + ".weight_packed"]["shape"][1] * 8, (d, m)
            q = f"model.layers.{l}.self_attn.q_proj"
            want = "F8_E4M3" if (src == "fp8" and recipe == "fp8int4") else "BF16"
            assert ts[q + ".weight"]["dtype"] == want, (d, q, ts[q + ".weight"]["dtype"])
            assert ts[f"model.layers.{l}.block_sparse_moe.gate.weight"]["dtype"] in ("F32", "BF16")
        probes = {f"model.layers.{l}.mlp.experts.0.{p}_proj" for l in carve for p in ("gate", "up", "down")}
        assert probes <= set(qc["ignore"]), (d, sorted(probes - set(qc["ignore"])))
        assert not any(".layers.4.mlp.experts" in i for i in qc["ignore"]), d
        if src == "fp8" and recipe == "fp8int4":
            assert qc["format"] == "mixed-precision", qc["format"]
        rep = json.load(open(f"{d}/awq_report.json"))
        assert rep["algorithm"] == "awq" and rep["calibration_tokens"] > 0, d
        assert [x["layer"] for x in rep["layers"]] == list(range(L)), (d, [x["layer"] for x in rep["layers"]])
        for x in rep["layers"]:
            assert len(x["w3_w2_mappings"]) == E and "norm_mapping" in x, (d, x["layer"])
            if x["layer"] in carve:
                # No quantized layer in either mapping: both skipped, the layer is not smoothed.
                assert x["norm_mapping"]["skipped"] and all(m["skipped"] for m in x["w3_w2_mappings"]), (d, x["layer"])
                names = [f"model.layers.{x['layer']}.post_attention_layernorm.weight"]
                if src == "tiny":  # BF16 source: the carved-out experts are the source's bytes
                    names += [f"model.layers.{x['layer']}.block_sparse_moe.experts.{e}.{w}.weight" for e in range(E) for w in ("w1", "w2", "w3")]
                for k in names:
                    assert data(ts, k) == data(srcs[src], k), (d, k, "changed in the carve-out layer")
                continue
            assert not x["norm_mapping"]["skipped"] and 0 <= x["norm_mapping"]["ratio"] <= 1, (d, x["layer"])
            assert x["norm_mapping"]["loss_best"] <= x["norm_mapping"]["loss_identity"], (d, x["layer"])
        man = json.load(open(f"{d}/mixq_manifest.json"))
        if recipe == "strix":
            assert "strix-2h-tiny-depth.yaml" in man["recipe"]["path"], man["recipe"]["path"]
            assert "layers\\.5\\." in man["recipe"]["text"] and "58|59" not in man["recipe"]["text"], man["recipe"]["text"]
        kq, kr = (json.load(open(f"{t}/{src}_{recipe}_{q}/eval_kld.json")) for q in ("awq", "rtn"))
        assert rep["end_to_end"]["mean_kld"] == kq["mean_kld"] and kq["positions"] == kr["positions"] == 256, d
        assert kq["mean_kld"] <= 1.5 * kr["mean_kld"], (d, kq["mean_kld"], kr["mean_kld"])
        print(f"{src:5s} {recipe:8s} ok: AWQ mean KLD {kq['mean_kld']:.5f} (RTN {kr['mean_kld']:.5f}), "
              f"{len(ts)} tensors, experts INT4 in {L - len(carve)} layers, BF16 in {sorted(carve)}, attention {want}")
PY

# A bad override: exit 2, one line on stderr naming the file and the key.
printf 'default_stage:\n  default_modifiers:\n    AWQModifier:\n      ignroe: [lm_head]\n' > "$T/bad.yaml"
set +e; "$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --recipe-override "$T/bad.yaml" --dry-run 2> "$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "bad.yaml.*unknown key 'ignroe'" "$T/err" \
  || { echo "bad override: expected exit 2 and one line naming 'ignroe', got $rc"; cat "$T/err"; exit 1; }
printf 'default_stage:\n  defualt_modifiers:\n    AWQModifier:\n      n_grid: 4\n' > "$T/bad2.yaml"
set +e; "$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --recipe-override "$T/bad2.yaml" --dry-run 2> "$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "bad2.yaml: default_stage.defualt_modifiers: no such modifier group" "$T/err" \
  || { echo "bad override 2: got $rc"; cat "$T/err"; exit 1; }
# A missing --eval-text fails before any quantizing: exit 2, nothing written.
set +e; "$MIXQ" quantize --model "$TINY" --recipe "$FP8R" --rtn --output "$T/noeval" --eval-text "$T/missing.txt" 2> "$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && [ ! -e "$T/noeval" ] && grep -q "missing.txt" "$T/err" || { echo "missing eval text: got $rc"; cat "$T/err"; exit 1; }
# Dry-run JSON: the same keys with and without an override (contract: extend, never rename).
"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --dry-run --json > "$T/p0.json"
"$MIXQ" quantize --model "$TINY" --recipe "$STRIX" --recipe-override "$OVR" --dry-run --json > "$T/p1.json"
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
a, b = json.load(open(f"{t}/p0.json")), json.load(open(f"{t}/p1.json"))
assert list(a) == list(b), (list(a), list(b))
assert b["predicted_bytes"] > a["predicted_bytes"], "the BF16 carve-out must make the checkpoint bigger"
PY
echo OK
