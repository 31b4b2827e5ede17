#!/usr/bin/env bash
# mixq serve on the bundled model, checked with the official openai npm client
# (tests/js/serve_openai_client.mjs) and with raw HTTP for what a client library hides: malformed
# JSON, oversized bodies, /health, /version, /tokenize, /detokenize, /metrics, CORS. Two servers:
# A with the minimax_m2 reasoning parser and tools, B with minimax_m2_append_think and an API key.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve.sh"
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
WORK=$(mktemp -d)
trap 'stop_servers; rm -rf "$WORK"' EXIT
PA=$(free_port); PB=$(free_port)
A="http://127.0.0.1:$PA"; B="http://127.0.0.1:$PB"
start_server "$WORK/a.log" "$MODEL" --served-model-name tiny --port "$PA" --max-model-len 1024 --max-num-seqs 8 \
  --tool-call-parser minimax_m2 --reasoning-parser minimax_m2 --enable-auto-tool-choice --max-request-bytes 64KiB \
  --allowed-origins '["http://example.test"]'
start_server "$WORK/b.log" "$MODEL" --served-model-name tiny --port "$PB" --max-model-len 1024 --max-num-seqs 4 \
  --reasoning-parser minimax_m2_append_think --api-key secret-key
wait_ready "$A" "$WORK/a.log"; wait_ready "$B" "$WORK/b.log"

fails=0
expect() {  # name expected-status actual-status [body-grep]
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected HTTP $2, got $3"; fails=$((fails + 1)); fi
}
post() { curl -s -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
expect "malformed JSON -> 400" 400 "$(post -d '{"model": "tiny", "messages": [' "$A/v1/chat/completions")"
grep -q '"type":"BadRequestError"' "$WORK/body" && grep -q '"code":400' "$WORK/body" || { echo "FAIL error shape: $(cat "$WORK/body")"; fails=$((fails + 1)); }
expect "JSON that is not an object -> 400" 400 "$(post -d '[1,2]' "$A/v1/completions")"
expect "content part whose type is an object -> 400 (fuzz finding)" 400 \
  "$(post -d '{"messages": [{"role": "user", "content": [{"type": {"name": "f"}}]}]}' "$A/v1/chat/completions")"
expect "tool whose type is a list -> 400" 400 \
  "$(post -d '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": [1]}]}' "$A/v1/chat/completions")"
expect "messages missing -> 400" 400 "$(post -d '{"model": "tiny"}' "$A/v1/chat/completions")"
expect "prompt too long for --max-model-len -> 400" 400 \
  "$(post -d "{\"prompt\": [$(seq -s, 1 1100)], \"max_tokens\": 4}" "$A/v1/completions")"
head -c 70000 /dev/zero | tr '\0' 'a' > "$WORK/big"
expect "body over --max-request-bytes -> 413" 413 \
  "$(curl -s -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/big" "$A/v1/chat/completions")"
expect "no API key -> 401" 401 "$(post -d '{"prompt": "hi"}' "$B/v1/completions")"
expect "API key -> 200" 200 "$(post -H 'Authorization: Bearer secret-key' -d '{"prompt": "hi", "max_tokens": 2}' "$B/v1/completions")"
expect "/health needs no key" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$B/health")"
expect "unknown route -> 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$A/v1/nothing")"
expect "/version" 200 "$(curl -s -o "$WORK/body" -w '%{http_code}' "$A/version")"
expect "/tokenize" 200 "$(post -d '{"model": "tiny", "prompt": "Hello world"}' "$A/tokenize")"
ids=$(node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1]));if(b.count!==b.tokens.length)process.exit(1);console.log(JSON.stringify(b.tokens))' "$WORK/body")
expect "/detokenize" 200 "$(post -d "{\"tokens\": $ids}" "$A/detokenize")"
grep -q '"prompt":"Hello world"' "$WORK/body" || { echo "FAIL detokenize round trip: $(cat "$WORK/body")"; fails=$((fails + 1)); }
cors=$(curl -s -D - -o /dev/null -H 'Origin: http://example.test' "$A/v1/models" | tr -d '\r' | grep -i '^access-control-allow-origin' || true)
[ "$cors" = "Access-Control-Allow-Origin: http://example.test" ] && echo "ok   CORS for an allowed origin" || { echo "FAIL CORS: '$cors'"; fails=$((fails + 1)); }

node "$MIXQ_SOURCE_DIR/tests/js/serve_openai_client.mjs" "$A" "$B" secret-key || fails=$((fails + 1))

curl -s "$A/metrics" > "$WORK/metrics"
for m in vllm:num_requests_running vllm:num_requests_waiting vllm:kv_cache_usage_perc vllm:prompt_tokens_total \
         vllm:generation_tokens_total vllm:num_preemptions_total vllm:time_to_first_token_seconds_count \
         vllm:inter_token_latency_seconds_bucket vllm:e2e_request_latency_seconds_sum vllm:prefix_cache_hits_total; do
  grep -q "^$m{model_name=\"tiny\"" "$WORK/metrics" || { echo "FAIL /metrics lacks $m"; fails=$((fails + 1)); }
done
grep -q '^vllm:num_requests_running{model_name="tiny"} 0$' "$WORK/metrics" || { echo "FAIL requests still running"; fails=$((fails + 1)); }
gen=$(grep '^vllm:generation_tokens_total' "$WORK/metrics" | awk '{print $2}')
[ "${gen%.*}" -gt 100 ] && echo "ok   /metrics counted $gen generated tokens" || { echo "FAIL generation tokens: $gen"; fails=$((fails + 1)); }
echo "serve_openai: $fails failure(s)"
[ "$fails" = 0 ]
