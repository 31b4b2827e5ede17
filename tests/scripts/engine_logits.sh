#!/bin/bash
# CLI contract of `mixq logits` / `mixq generate` on the bundled tiny model:
#  - logits: one float32 tensor input<i> of shape [tokens, vocab] per id list, equal to the golden
#    PyTorch fp32 reference (max abs diff < 5e-4, identical argmax);
#  - bad input exits 2 with one line and leaves no output file;
#  - greedy generate reproduces golden/greedy.json's first continuation.
set -euo pipefail
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
GOLD="$MIXQ_SHARED_DIR/assets/tiny-minimax-m2/golden"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 -c "import json; d=json.load(open('$GOLD/inputs.json')); json.dump([d['input%d'%i]['ids'] for i in range(4)], open('$T/ids.json','w'))"
"$MIXQ" logits --model "$MODEL" --tokens "$T/ids.json" --output "$T/out.safetensors"
/usr/bin/python3 - "$T/out.safetensors" "$GOLD/logits.safetensors" <<'PY'
import json, struct, sys, numpy as np
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        assert v['dtype'] == 'F32', (k, v['dtype'])
        s, e = v['data_offsets']; out[k] = np.frombuffer(b[8+n+s:8+n+e], dtype=np.float32).reshape(v['shape'])
    return out
got, want = load(sys.argv[1]), load(sys.argv[2])
assert sorted(got) == ['input0', 'input1', 'input2', 'input3'], sorted(got)
for k in sorted(want):
    assert got[k].shape == want[k].shape, (k, got[k].shape, want[k].shape)
    d = float(np.abs(got[k] - want[k]).max())
    assert d < 5e-4, (k, d)
    assert (got[k].argmax(-1) == want[k].argmax(-1)).all(), k
    print(f"{k}: {got[k].shape} max abs diff {d:.2e}")
PY
# bad input: exit 2, no output left behind
echo '[[1, 2], "x"]' > "$T/bad.json"
set +e; "$MIXQ" logits --model "$MODEL" --tokens "$T/bad.json" --output "$T/bad.safetensors" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 2 ] || { echo "expected exit 2, got $rc"; exit 1; }
[ ! -e "$T/bad.safetensors" ] || { echo "half-written output left"; exit 1; }
echo '[[1, 999999]]' > "$T/oov.json"
set +e; "$MIXQ" logits --model "$MODEL" --tokens "$T/oov.json" --output "$T/oov.safetensors" 2>"$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "outside the vocabulary" "$T/err" || { echo "expected a vocabulary error"; cat "$T/err"; exit 1; }
# greedy generation == reference
/usr/bin/python3 -c "import json; g=json.load(open('$GOLD/greedy.json'))[2]; print(','.join(map(str,g['prompt_ids']))); print(json.dumps(g['gen_ids']))" > "$T/g"
out=$("$MIXQ" generate --model "$MODEL" --tokens "$(sed -n 1p "$T/g")" --max-tokens 160 --kv f32 --json)
/usr/bin/python3 -c "import json,sys; a=json.loads(sys.argv[1])['tokens']; b=json.loads(sys.argv[2]); assert a==b, (a,b); print('greedy OK', len(a))" "$out" "$(sed -n 2p "$T/g")"
echo OK
