# Shared by the serve_* script tests (sourced, not run; kept out of tests/scripts/*.sh, which CMake runs as tests): a free localhost port, a server started
# in the background and stopped on exit whatever happens, and a bounded wait for /health.
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
SERVE_PIDS=()
stop_servers() {
  for p in "${SERVE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVE_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}
# start_server LOG ARGS... : mixq serve ARGS in the background; its pid goes to SERVE_PIDS.
start_server() {
  local log=$1; shift
  "$MIXQ" serve "$@" >"$log" 2>&1 &
  SERVE_PIDS+=($!)
}
# wait_ready URL LOG: /health 200 within 120 s, else the log and failure.
wait_ready() {
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ] && return 0
    sleep 0.2
  done
  echo "server at $1 did not become ready:"; cat "$2"; return 1
}
