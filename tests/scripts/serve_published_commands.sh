#!/usr/bin/env bash
# The two published launch commands (../shared/docs/published-deployments.md, read at test time),
# with `vllm serve` replaced by `mixq serve` and the model by a mixq checkpoint of the bundled
# model (RTN W4A16 with each card's recipe) and nothing else changed, start the server; the
# card's smoke request then answers HTTP 200. The FrankenQuant script binds vLLM's default port
# 8000, so each command runs in its own network namespace (unshare -n) where that port is free.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}" "${MIXQ_SHARED_DIR:?}"
DOC="$MIXQ_SHARED_DIR/docs/published-deployments.md"
SRC="$MIXQ_SOURCE_DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The ```sh block following a line that contains $1.
extract() { awk -v start="$1" 'index($0, start) { f = 1; next } f && /^```sh/ { g = 1; next } g && /^```/ { exit } g { print }' "$DOC"; }
extract "Launch command, verbatim:" > "$WORK/strix.card.sh"
extract "Launch script, verbatim:" > "$WORK/franken.card.sh"
grep -q '^vllm serve /path/to/model' "$WORK/strix.card.sh" || { echo "STRIX-2H launch command not found in $DOC"; exit 1; }
grep -q '^vllm serve "${MODEL}"' "$WORK/franken.card.sh" || { echo "FrankenQuant launch script not found in $DOC"; exit 1; }

"$MIXQ" -q quantize --model "$SRC/models/tiny-minimax-m2" --recipe "$SRC/recipes/minimax-m2.7-awq-g32-strix-2h.yaml" \
  --recipe-override "$SRC/recipes/overrides/strix-2h-tiny-depth.yaml" --output "$WORK/strix-ckpt" --rtn
"$MIXQ" -q quantize --model "$SRC/models/tiny-minimax-m2" --recipe "$SRC/recipes/minimax-m2.1-fp8-int4-awq.yaml" \
  --output "$WORK/franken-ckpt" --rtn

# The only substitutions: the program and the model path.
sed 's#^vllm serve /path/to/model#exec "$MIXQ" serve "$CKPT"#' "$WORK/strix.card.sh" > "$WORK/strix.sh"
sed -e 's#^MODEL=.*#MODEL="$CKPT"#' -e 's#^vllm serve#exec "$MIXQ" serve#' "$WORK/franken.card.sh" > "$WORK/franken.sh"
changed() { { diff "$1" "$2" || true; } | grep -c '^[<>]'; }
[ "$(changed "$WORK/strix.card.sh" "$WORK/strix.sh")" = 2 ] || { echo "STRIX: more than the program and model path changed"; exit 1; }
[ "$(changed "$WORK/franken.card.sh" "$WORK/franken.sh")" = 4 ] || { echo "FrankenQuant: more than the program and model changed"; exit 1; }

# Runs inside the namespace: loopback up, the launch script in the background, the smoke request.
cat > "$WORK/run.sh" <<'RUN'
set -u
ip link set lo up
script=$1 port=$2 name=$3 log=$4
PORT=$port bash "$script" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; sleep 0.5; kill -9 $pid 2>/dev/null' EXIT
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
  kill -0 $pid 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
  sleep 0.2
done
code=$(curl -s -o "$log.smoke" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"model\": \"$name\", \"messages\": [{\"role\": \"user\", \"content\": \"Compute 47*53 step by step.\"}], \"max_tokens\": 32}" \
  "http://127.0.0.1:$port/v1/chat/completions")
echo "HTTP $code"
[ "$code" = 200 ] && grep -q '"object":"chat.completion"' "$log.smoke"
RUN
NS=(unshare -n)
if ! unshare -n true 2>/dev/null; then NS=(unshare -rn); fi
export MIXQ
fails=0
for card in strix franken; do
  if [ $card = strix ]; then port=18123 name=minimax-m2-7-awq-g32-strix-2h; else port=8000 name=MiniMax-M2.1; fi
  if CKPT="$WORK/$card-ckpt" "${NS[@]}" bash "$WORK/run.sh" "$WORK/$card.sh" $port $name "$WORK/$card.log"; then
    echo "ok   $card card's launch command serves (smoke request HTTP 200)"
  else
    echo "FAIL $card card's launch command"; cat "$WORK/$card.log"; fails=$((fails + 1))
  fi
done
# The notices a user of these commands reads.
grep -q "only mean something to a GPU engine" "$WORK/strix.log" || { echo "FAIL: no GPU-flags notice"; fails=$((fails + 1)); }
grep -q "runs on this one machine" "$WORK/strix.log" || { echo "FAIL: no single-machine notice"; fails=$((fails + 1)); }
grep -q "frequency_penalty' has no effect" "$WORK/franken.log" || { echo "FAIL: no notice for frequency_penalty"; fails=$((fails + 1)); }
grep -q '"temperature":0.2' "$WORK/strix.log" || { echo "FAIL: STRIX sampling override not applied"; cat "$WORK/strix.log"; fails=$((fails + 1)); }
echo "serve_published_commands: $fails failure(s)"
[ "$fails" = 0 ]
