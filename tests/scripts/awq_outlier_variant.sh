#!/bin/bash
# `mixq synth --from MODEL --outlier-channels K --outlier-scale LO:HI --seed S` on the tiny model:
#  - the norm weight is multiplied by alpha in [LO, HI] on exactly K channels per layer, and the
#    router gate / every expert's w1, w3 input columns are divided by it; every other tensor and the
#    tokenizer / chat template / config files are byte-identical;
#  - the function is preserved: logits on the golden inputs equal the original's within bf16
#    rounding (max diff per input < 1e-3 of the logit range; measured ~1e-4, same argmax on >= 99%);
#  - deterministic (same seed -> same bytes); bad ranges exit 2.
set -euo pipefail
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
GOLD="$MIXQ_SHARED_DIR/assets/tiny-minimax-m2/golden"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MIXQ" synth --from "$MODEL" --outlier-channels 4 --outlier-scale 10:50 --seed 7 --output "$T/v"
"$MIXQ" synth --from "$MODEL" --outlier-channels 4 --outlier-scale 10:50 --seed 7 --output "$T/v2"
cmp "$T/v/model.safetensors" "$T/v2/model.safetensors"
for f in config.json tokenizer.json tokenizer_config.json chat_template.jinja generation_config.json; do cmp "$MODEL/$f" "$T/v/$f"; done
/usr/bin/python3 -c "import json; d=json.load(open('$GOLD/inputs.json')); json.dump([d['input%d'%i]['ids'] for i in range(4)], open('$T/ids.json','w'))"
"$MIXQ" logits --model "$MODEL" --tokens "$T/ids.json" --output "$T/a.safetensors"
"$MIXQ" logits --model "$T/v" --tokens "$T/ids.json" --output "$T/b.safetensors"
/usr/bin/python3 - "$MODEL/model.safetensors" "$T/v/model.safetensors" "$T/a.safetensors" "$T/b.safetensors" <<'PY'
import json, struct, sys, numpy as np
# bf16 -> f32 is exact: the 16 bits become the high half of the f32 (no torch needed).
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']; raw = b[8+n+s:8+n+e]
        if v['dtype'] == 'BF16':
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype={'F32': np.float32, 'I64': np.int64}[v['dtype']]).astype(np.float32)
        out[k] = (a.reshape(v['shape']), raw)
    return out
o, v = load(sys.argv[1]), load(sys.argv[2])
assert sorted(o) == sorted(v)
scaled = 0
for k in o:
    a, b = o[k][0], v[k][0]
    if 'post_attention_layernorm' in k:
        ch = np.nonzero(a != b)[0]
        assert len(ch) == 4, (k, ch)
        r = b[ch] / a[ch]
        assert (r > 9.9).all() and (r < 50.5).all(), (k, r)
        scaled += 1
    elif k.endswith('gate.weight') or k.endswith('w1.weight') or k.endswith('w3.weight'):
        cols = np.nonzero((a != b).any(0))[0]
        assert len(cols) <= 4, (k, cols)
    else:
        assert o[k][1] == v[k][1], k  # byte-identical
assert scaled == 6, scaled
x, y = load(sys.argv[3]), load(sys.argv[4])
for k in sorted(x):
    a, b = x[k][0], y[k][0]
    d = float(np.abs(a - b).max()); rng = float(a.max() - a.min())
    agree = float((a.argmax(-1) == b.argmax(-1)).mean())
    print(f"{k}: max |dlogit| {d:.3e} (logit range {rng:.1f}), argmax agreement {agree:.3f}")
    assert d < 1e-3 * rng, (k, d, rng)
    assert agree >= 0.99, (k, agree)
PY
set +e; "$MIXQ" synth --from "$MODEL" --outlier-scale 50:10 --output "$T/bad" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "outlier-scale" "$T/err" || { echo "expected exit 2 for a bad range, got $rc"; cat "$T/err"; exit 1; }
echo OK
