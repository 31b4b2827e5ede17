#!/usr/bin/env bash
# CLI contract of the text layer (outside checks rely on these exact names and shapes):
#   mixq tokenize --tokenizer FILE|DIR       stdin text -> JSON list of ids
#   mixq detokenize --tokenizer FILE|DIR [--skip-special-tokens]   JSON ids -> text, exactly
#   mixq render-chat --model DIR             chat request JSON -> prompt, exactly (no newline)
set -euo pipefail
: "${MIXQ:?path of the mixq binary}" "${MIXQ_SOURCE_DIR:?}"
M="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
fails=0
check() {  # name expected actual
  if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2] got [$3]"; fails=$((fails + 1)); fi
}

ids=$(printf 'Hello world' | "$MIXQ" tokenize --tokenizer "$M")
check "tokenize prints a JSON list" 1 "$(echo "$ids" | grep -cE '^\[[0-9]+(, [0-9]+)*\]$')"
check "tokenize accepts the tokenizer.json path" "$ids" "$(printf 'Hello world' | "$MIXQ" tokenize --tokenizer "$M/tokenizer.json")"
check "detokenize round trip" "Hello world" "$(echo "$ids" | "$MIXQ" detokenize --tokenizer "$M")"

special=$(printf ']~!b[hi[e~[<think>' | "$MIXQ" tokenize --tokenizer "$M")
check "special tokens are single ids" "[6139, " "${special:0:7}"
check "detokenize keeps specials" "]~!b[hi[e~[<think>" "$(echo "$special" | "$MIXQ" detokenize --tokenizer "$M")"
check "detokenize --skip-special-tokens" "hi<think>" "$(echo "$special" | "$MIXQ" detokenize --tokenizer "$M" --skip-special-tokens)"

# Exact bytes: trailing newlines survive, nothing is added.
out=$(printf 'a\n\n' | "$MIXQ" tokenize --tokenizer "$M" | "$MIXQ" detokenize --tokenizer "$M" | od -An -c | tr -s ' ')
check "detokenize output is exact" " a \n \n" "$out"

req='{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true}'
want=$(printf ']~!b[]~b]system\nYou are a helpful assistant.[e~[\n]~b]user\nhi[e~[\n]~b]ai\n<think>\n' | od -An -c)
got=$(echo "$req" | "$MIXQ" render-chat --model "$M" | od -An -c)
check "render-chat prints the prompt exactly" "$want" "$got"
tools_req='{"messages": [{"role": "user", "content": "w?"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}], "add_generation_prompt": false}'
check "render-chat renders tools" 1 "$(echo "$tools_req" | "$MIXQ" render-chat --model "$M" | grep -c '<tool>{"name": "f"')"

# Bad input: one line on stderr, exit code 2.
set +e
echo '{not json' | "$MIXQ" render-chat --model "$M" >/dev/null 2>"$MIXQ_BUILD_DIR/.text_cli_err"; rc=$?
check "render-chat bad JSON exits 2" 2 "$rc"
check "one error line" 1 "$(wc -l < "$MIXQ_BUILD_DIR/.text_cli_err")"
echo 'x' | "$MIXQ" tokenize --tokenizer /nonexistent >/dev/null 2>&1; check "missing tokenizer exits 2" 2 "$?"
echo '[1, "a"]' | "$MIXQ" detokenize --tokenizer "$M" >/dev/null 2>&1; check "non-integer id exits 2" 2 "$?"
echo '{"messages": [{"role": "tool", "content": "x"}]}' | "$MIXQ" render-chat --model "$M" >/dev/null 2>&1
check "template raise_exception exits 2" 2 "$?"
set -e
rm -f "$MIXQ_BUILD_DIR/.text_cli_err"

if [ "$fails" -ne 0 ]; then echo "text_cli: FAIL ($fails)"; exit 1; fi
echo "text_cli: PASS"
