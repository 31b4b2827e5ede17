#!/usr/bin/env bash
# Sets up (deps + build) and runs the main job on the bundled tiny MiniMax-M2 model:
# inspect -> quantize with the published FP8-INT4 AWQ recipe -> validate against the vLLM loader
# rules -> measure quality against the original -> chat with the quantized model -> serve it over
# the OpenAI API and send the published smoke request with curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MIXQ="${MIXQ_BUILD_DIR:-build}/mixq"
MODEL=models/tiny-minimax-m2
OUT=out/tiny-minimax-m2-w4a16
step() { printf '\n== %s\n' "$*"; }

step "mixq inspect $MODEL"
"$MIXQ" inspect "$MODEL"

# AWQ calibrates on the bundled default set; 32 samples keep this demo to a minute or two
# (drop --calib-samples to use all 128).
step "mixq quantize --model $MODEL --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output $OUT --calib-samples 32"
"$MIXQ" quantize --model "$MODEL" --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output "$OUT" --calib-samples 32

step "mixq validate $OUT"
"$MIXQ" validate "$OUT"

step "mixq eval kld --reference $MODEL --model $OUT --text $MODEL/valid.txt"
"$MIXQ" eval kld --reference "$MODEL" --model "$OUT" --text "$MODEL/valid.txt" --max-tokens 2048

step "mixq generate --model $OUT --prompt ..."
"$MIXQ" generate --model "$OUT" --max-tokens 200 \
  --prompt "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?"

step "mixq serve $OUT --port 0 (OpenAI API on 127.0.0.1), the published smoke request with curl"
LOG=$(mktemp)
"$MIXQ" serve "$OUT" --served-model-name tiny-w4a16 --port 0 --max-num-seqs 4 --reasoning-parser minimax_m2 > "$LOG" 2>&1 &
SERVE_PID=$!
# (|| true: errexit applies inside the trap, and the server is normally stopped already.)
trap 'kill $SERVE_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
URL=""
for _ in $(seq 300); do
  URL=$(grep -o 'ready: model .* at http://[0-9.:]*' "$LOG" | grep -o 'http://[0-9.:]*' || true)
  [ -n "$URL" ] && break
  kill -0 $SERVE_PID 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.2
done
[ -n "$URL" ] || { echo "mixq serve did not become ready"; cat "$LOG"; exit 1; }
echo "$URL/v1/chat/completions <- {\"messages\": [{\"role\": \"user\", \"content\": \"Compute 47*53 step by step.\"}]}"
curl -sS -H 'Content-Type: application/json' "$URL/v1/chat/completions" \
  -d '{"model": "tiny-w4a16", "messages": [{"role": "user", "content": "Compute 47*53 step by step."}], "max_tokens": 200, "temperature": 0}' \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s),m=r.choices[0].message;
      console.log("reasoning: "+(m.reasoning_content||""));console.log("answer:    "+(m.content||""));
      console.log("finish_reason "+r.choices[0].finish_reason+", usage "+JSON.stringify(r.usage))})'
kill $SERVE_PID; wait $SERVE_PID 2>/dev/null || true
echo "(server stopped)"
