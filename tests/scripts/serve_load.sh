#!/usr/bin/env bash
# Bounded localhost load test of mixq serve (tests/js/serve_load.mjs): 64 concurrent clients for
# MIXQ_LOAD_SECONDS (default 120) with streamed, non-streamed, tool, cancelled and malformed
# requests: no 5xx, malformed -> 4xx, RSS flat after warm-up, nothing left running.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve.sh"
WORK=$(mktemp -d)
trap 'stop_servers; rm -rf "$WORK"' EXIT
P=$(free_port)
start_server "$WORK/log" "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2" --served-model-name tiny --port "$P" \
  --max-model-len 1024 --max-num-seqs 16 --tool-call-parser minimax_m2 --reasoning-parser minimax_m2 --enable-auto-tool-choice
wait_ready "http://127.0.0.1:$P" "$WORK/log"
rc=0
node "$MIXQ_SOURCE_DIR/tests/js/serve_load.mjs" "http://127.0.0.1:$P" "${SERVE_PIDS[0]}" "${MIXQ_LOAD_CLIENTS:-64}" \
  "${MIXQ_LOAD_SECONDS:-120}" || rc=$?
kill -0 "${SERVE_PIDS[0]}" || { echo "the server died:"; tail -20 "$WORK/log"; rc=1; }
exit $rc
