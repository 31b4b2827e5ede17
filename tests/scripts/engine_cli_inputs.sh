#!/usr/bin/env bash
# Engine commands with the inputs a new user gives them (issue 15 §3):
#  - logits --tokens takes the flat list `mixq tokenize` prints;
#  - generate reads the prompt from stdin with --prompt -, takes --system, warns past
#    max_position_embeddings;
#  - synth --tokenizer DIR copies a tokenizer in with vocab_size matched, so generate runs on it;
#  - eval kld shows progress on a terminal, and log lines go above the bar, not over it.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$MIXQ_SOURCE_DIR/models/tiny-minimax-m2
fail() { echo "FAIL: $*"; exit 1; }

echo "The capital of France is" | "$MIXQ" tokenize --tokenizer "$TINY" > "$T/ids.json"
"$MIXQ" logits --model "$TINY" --tokens "$T/ids.json" --output "$T/flat.safetensors" 2> /dev/null || fail "logits on a flat list"
python3 -c "import json; ids = json.load(open('$T/ids.json')); json.dump([ids], open('$T/nested.json', 'w'))"
"$MIXQ" logits --model "$TINY" --tokens "$T/nested.json" --output "$T/nested.safetensors" 2> /dev/null
cmp "$T/flat.safetensors" "$T/nested.safetensors" || fail "a flat list is not the same input as [list]"

# --prompt - reads stdin: the same ids as the prompt given inline.
"$MIXQ" generate --model "$TINY" --prompt "What is 2+2?" --max-tokens 4 --json > "$T/inline.json" 2> /dev/null
echo -n "What is 2+2?" | "$MIXQ" generate --model "$TINY" --prompt - --max-tokens 4 --json > "$T/stdin.json" 2> /dev/null
python3 - "$T/inline.json" "$T/stdin.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["prompt_tokens"] == b["prompt_tokens"], (a["prompt_tokens"], b["prompt_tokens"])
PY
# --system: the rendered prompt holds the system turn before the user's.
"$MIXQ" generate --model "$TINY" --system "You are terse." --prompt "What is 2+2?" --max-tokens 4 --json > "$T/sys.json" 2> /dev/null
python3 -c "import json; print(json.dumps(json.load(open('$T/sys.json'))['prompt_tokens']))" |
  "$MIXQ" detokenize --tokenizer "$TINY" > "$T/sys.txt"
python3 - "$T/sys.txt" <<'PY'
import sys
t = open(sys.argv[1]).read()
assert "system\nYou are terse." in t and t.index("You are terse.") < t.index("What is 2+2?"), t
PY
"$MIXQ" generate --model "$TINY" --prompt hi --max-tokens 2100 --json > /dev/null 2> "$T/warn" || true
grep -q "beyond the model's max_position_embeddings 2048" "$T/warn" || { cat "$T/warn"; fail "no warning past max_position_embeddings"; }

# synth --tokenizer: the tokenizer travels and vocab_size matches it; generate runs on the result.
"$MIXQ" synth --output "$T/syn" --layers 2 --tokenizer "$TINY" > /dev/null 2>&1 || fail "synth --tokenizer"
cmp "$TINY/tokenizer.json" "$T/syn/tokenizer.json" || fail "tokenizer.json not copied"
python3 -c "import json; c = json.load(open('$T/syn/config.json')); assert c['vocab_size'] >= 6000, c['vocab_size']"
"$MIXQ" generate --model "$T/syn" --prompt "hello" --max-tokens 3 > /dev/null 2>&1 || fail "generate on a synth --tokenizer model"

# eval kld on a terminal (script gives it one): a progress bar, and no log line glued to it.
if command -v script > /dev/null; then
  head -c 6000 "$TINY/valid.txt" > "$T/held.txt"
  # Without CI in the environment: the bar is (rightly) never drawn in CI.
  env -u CI script -qec "'$MIXQ' -v eval kld --reference '$TINY' --model '$TINY' --text '$T/held.txt' --max-tokens 512" "$T/tty.log" > /dev/null
  grep -q "kld \[" "$T/tty.log" || { cat -v "$T/tty.log" | tail -5; fail "eval kld shows no progress on a terminal"; }
  # A log line never starts after the bar's text on the same line.
  tr '\r' '\n' < "$T/tty.log" | grep -E "ETA [^ ]+ *mixq:" && fail "a log line was written over the progress bar"
fi
echo "engine_cli_inputs: OK"
