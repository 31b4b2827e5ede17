#!/bin/bash
# export-gguf against the real llama.cpp (node-llama-cpp's prebuilt CPU library, tests/js):
#  - the bundled model's W4A16 quant (RTN, the strix recipe: INT4 g32 experts, BF16 attention) and
#    its BF16 original are exported; llama.cpp loads both; its logits on the golden inputs match
#    `mixq logits` on the same checkpoint (tolerances below), and greedy generations are identical;
#    @huggingface/gguf parses both files;
#  - the BF16 export split into files of 8 MiB (--split-max-size) loads in llama.cpp as well;
#  - `mixq inspect FILE.gguf` reads them back (text and --json) and checks what llama.cpp's
#    minimax-m2 loader needs (exit 1 with the problems on a file that lacks it);
#  - hostile GGUF input (truncated, garbage) and a bad checkpoint exit 2 with one line and leave no file.
# Tolerances (tests/js/gguf_llama.js states them and why): llama.cpp rounds the activations (Q8_0
# blocks for Q4_0 weights, BF16 for BF16 weights) where mixq keeps them in fp32, so logits differ by
# rounding noise that grows through the 6 layers, plus a few near-tie router choices; the bounds are
# fractions of each input's logit range. The measurements are printed (docs/gguf.md has them).
set -euo pipefail
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
GOLD="$MIXQ_SHARED_DIR/assets/tiny-minimax-m2/golden"
JS="$MIXQ_SOURCE_DIR/tests/js"
if [ ! -d "$JS/node_modules/node-llama-cpp" ] || [ ! -d "$JS/node_modules/@huggingface/gguf" ]; then
  echo "gguf_llama_cpp: npm packages missing (run: cd tests/js && npm ci)"; exit 1
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MIXQ" -q quantize --model "$MODEL" --recipe "$MIXQ_SOURCE_DIR/recipes/minimax-m2.7-awq-g32-strix-2h.yaml" --rtn --no-progress \
  --output "$T/w4a16" > /dev/null
"$MIXQ" export-gguf "$T/w4a16" --output "$T/w4a16.gguf" --no-progress | tee "$T/export.txt"
grep -q "experts .*W4A16-g32 .*Q4_0 .*exact (nibbles and fp16 scales)" "$T/export.txt"
"$MIXQ" export-gguf "$MODEL" --output "$T/bf16.gguf" --no-progress --json > "$T/export.json"

# inspect reads the files back
"$MIXQ" inspect "$T/w4a16.gguf" > "$T/inspect.txt"
grep -q "architecture: minimax-m2" "$T/inspect.txt"
grep -Eq "^experts +Q4_0 +18 " "$T/inspect.txt"
"$MIXQ" inspect "$T/bf16.gguf" --json | /usr/bin/python3 -c "
import json, sys; j = json.load(sys.stdin)
assert j['metadata']['minimax-m2.expert_count'] == 8 and j['metadata']['general.file_type'] == 32, j['metadata']
cls = {(c['class'], c['gguf_type']): c for c in j['classes']}
assert cls[('experts', 'BF16')]['count'] == 18 and cls[('norms', 'F32')]['count'] == 6 * 4 + 1, cls
print('inspect OK', j['tensors'], 'tensors')"

grep -q "llama.cpp minimax-m2 check: OK" "$T/inspect.txt"
# a minimax-m2 GGUF that llama.cpp would not load (no hyperparameters, no tensors): exit 1, problems listed
/usr/bin/python3 -c "
import struct
s = lambda x: struct.pack('<Q', len(x)) + x.encode()
open('$T/bare.gguf', 'wb').write(b'GGUF' + struct.pack('<Iqq', 3, 0, 1) + s('general.architecture') + struct.pack('<i', 8) + s('minimax-m2'))"
set +e; "$MIXQ" inspect "$T/bare.gguf" > "$T/bare.txt"; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "missing minimax-m2.expert_gating_func" "$T/bare.txt" || { echo "bare gguf: rc $rc"; cat "$T/bare.txt"; exit 1; }

# hostile GGUF and bad checkpoints: exit 2, one line, no file left
head -c 1000 "$T/w4a16.gguf" > "$T/cut.gguf"
printf 'GGUF\003\000\000\000\377\377\377\377\377\377\377\177\000\000\000\000\000\000\000\000' > "$T/huge.gguf"
for f in cut huge; do
  set +e; "$MIXQ" inspect "$T/$f.gguf" > /dev/null 2> "$T/err"; rc=$?; set -e
  [ $rc -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "$f.gguf" "$T/err" || { echo "inspect $f: rc $rc"; cat "$T/err"; exit 1; }
done
mkdir "$T/notok" && cp "$MODEL/config.json" "$MODEL/model.safetensors" "$T/notok/"
set +e; "$MIXQ" export-gguf "$T/notok" --output "$T/notok.gguf" 2> "$T/err"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "tokenizer.json" "$T/err" && [ ! -e "$T/notok.gguf" ] && ! ls "$T" | grep -q '\.tmp\.' \
  || { echo "bad checkpoint: rc $rc"; cat "$T/err"; exit 1; }

# llama.cpp vs mixq on the same checkpoints
/usr/bin/python3 -c "import json; d=json.load(open('$GOLD/inputs.json')); json.dump([d['input%d'%i]['ids'] for i in range(4)], open('$T/ids.json','w'))"
N_GREEDY=${GGUF_GREEDY_TOKENS:-64}
for m in w4a16 bf16; do
  src="$T/$m"; [ $m = bf16 ] && src="$MODEL"
  "$MIXQ" logits --model "$src" --tokens "$T/ids.json" --output "$T/$m.logits.safetensors"
  /usr/bin/python3 -c "import json; g=json.load(open('$GOLD/greedy.json')); [print(','.join(map(str,e['prompt_ids']))) for e in g[1:3]]" > "$T/prompts"
  : > "$T/$m.greedy.jsonl"
  while read -r p; do
    "$MIXQ" generate --model "$src" --tokens "$p" --max-tokens "$N_GREEDY" --kv f32 --json \
      | /usr/bin/python3 -c "import json,sys; print(json.dumps({'prompt_ids': [int(x) for x in sys.argv[1].split(',')], 'mixq_ids': json.load(sys.stdin)['tokens']}))" "$p" \
      >> "$T/$m.greedy.jsonl"
  done < "$T/prompts"
  /usr/bin/python3 -c "
import json
spec = {'gguf': '$T/$m.gguf', 'ids': json.load(open('$T/ids.json')), 'mixq_logits': '$T/$m.logits.safetensors',
        'greedy': [json.loads(l) for l in open('$T/$m.greedy.jsonl')], 'threads': 2}
json.dump(spec, open('$T/$m.spec.json', 'w'))"
  echo "== llama.cpp vs mixq: $m"
  (cd "$JS" && node gguf_llama.js "$T/$m.spec.json") || { [ -n "${GGUF_KEEP:-}" ] && cp -r "$T" "$GGUF_KEEP"; exit 1; }
done

# split files (llama.cpp's naming and split.* keys): llama.cpp loads them from the first part
"$MIXQ" export-gguf "$MODEL" --output "$T/split.gguf" --split-max-size 8MiB --no-progress > "$T/split.txt"
n=$(grep -c "^wrote " "$T/split.txt"); [ "$n" -ge 3 ] || { echo "expected >= 3 split files, got $n"; exit 1; }
/usr/bin/python3 -c "
import json; s = json.load(open('$T/bf16.spec.json')); s['gguf'] = '$T/split-00001-of-0000$n.gguf'; s['greedy'] = []
json.dump(s, open('$T/split.spec.json', 'w'))"
echo "== llama.cpp vs mixq: bf16 in $n split files"
(cd "$JS" && node gguf_llama.js "$T/split.spec.json")
echo OK
