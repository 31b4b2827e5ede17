#!/usr/bin/env bash
# mixq eval tasks end to end against mixq serve on the bundled tiny model (scores near zero are
# expected): every task runs with a small --limit, report.json / report.md / chart.png are
# written (the PNG's chunks and zlib stream are checked with Python), a second run killed half
# way (SIGKILL) and restarted with the same arguments reuses the logged items and writes the same
# report.json byte for byte, and `eval compare` pairs the two runs.
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}"
. "$(dirname "$0")/serve_lib.sh"
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
WORK=$(mktemp -d)
EVAL_PID=""
trap 'stop_servers; [ -n "$EVAL_PID" ] && kill -9 "$EVAL_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
P=$(free_port)
URL="http://127.0.0.1:$P"
start_server "$WORK/serve.log" "$MODEL" --served-model-name tiny --port "$P" --max-model-len 4096 \
  --reasoning-parser minimax_m2
wait_ready "$URL" "$WORK/serve.log"

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ARGS=(eval tasks --endpoint "$URL/v1" --model tiny --limit 3 --max-tokens 48 --concurrency 1
      --tasks gsm8k,humaneval,mbppplus,mmlu:seed-card,math500,needle --needle-lengths 300 --needle-depths 0,100)
TOTAL=23  # 7 tasks x 3 items + 2 needle items

# A: one uninterrupted run.
"$MIXQ" "${ARGS[@]}" --output "$WORK/a" >"$WORK/a.out" 2>"$WORK/a.err" || { bad "run A failed"; cat "$WORK/a.err"; }
for f in report.json report.md chart.png requests.jsonl run.json; do
  [ -s "$WORK/a/$f" ] || bad "run A wrote no $f"
done
python3 - "$WORK/a" "$TOTAL" <<'PY' || fails=$((fails + 1))
import json, struct, sys, zlib
d, total = sys.argv[1], int(sys.argv[2])
r = json.load(open(d + "/report.json"))
names = [t["task"] for t in r["tasks"]]
want = ["gsm8k", "humaneval", "mbppplus", "mmlu:college_computer_science", "mmlu:computer_security",
        "mmlu:machine_learning", "math500", "needle"]
assert names == want, names
assert sum(t["n"] for t in r["tasks"]) == total
for t in r["tasks"]:
    for k in ("n", "correct", "accuracy", "stderr", "truncated", "no_answer", "errors", "convention", "dataset"):
        assert k in t, (t["task"], k)
    assert t["errors"] == 0, t["task"]
    assert t["correct"] + t["wrong"] + t["truncated"] + t["no_answer"] == t["n"], t["task"]
    for it in t["items"]:
        for k in ("id", "prompt_hash", "response", "extracted", "outcome"):
            assert k in it, (t["task"], k)
assert "sandbox" in r and "seccomp" in r["sandbox"], r.get("sandbox")
assert "105 items (the final release, cais/mmlu, has 112)" in r["tasks"][5]["dataset"], r["tasks"][5]["dataset"]
lines = open(d + "/requests.jsonl").read().splitlines()
assert len(lines) == total, len(lines)
png = open(d + "/chart.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n"
p, idat, w = 8, b"", 0
while p < len(png):
    n, = struct.unpack(">I", png[p:p + 4]); t = png[p + 4:p + 8]; c = png[p + 8:p + 8 + n]
    assert zlib.crc32(t + c) == struct.unpack(">I", png[p + 8 + n:p + 12 + n])[0], t
    if t == b"IHDR": w, h = struct.unpack(">II", c[:8])
    if t == b"IDAT": idat += c
    p += 12 + n
assert len(zlib.decompress(idat)) == h * (1 + 3 * w)
print("ok   run A: report, log and chart")
PY

# B: the same run, killed half way, then restarted.
"$MIXQ" "${ARGS[@]}" --output "$WORK/b" >"$WORK/b1.out" 2>"$WORK/b1.err" &
EVAL_PID=$!
killed=0
for _ in $(seq 1200); do
  n=0; [ -f "$WORK/b/requests.jsonl" ] && n=$(wc -l <"$WORK/b/requests.jsonl")
  if [ "$n" -ge 8 ]; then kill -9 "$EVAL_PID"; killed=1; break; fi
  kill -0 "$EVAL_PID" 2>/dev/null || break
  sleep 0.05
done
wait "$EVAL_PID" 2>/dev/null || true
EVAL_PID=""
[ "$killed" = 1 ] || bad "run B finished before it could be killed"
n=$(wc -l <"$WORK/b/requests.jsonl")
[ "$n" -lt "$TOTAL" ] || bad "run B logged every item before the kill ($n)"
[ ! -e "$WORK/b/report.json" ] || bad "a killed run left a report"
"$MIXQ" "${ARGS[@]}" --output "$WORK/b" >"$WORK/b2.out" 2>"$WORK/b2.err" || { bad "resumed run B failed"; cat "$WORK/b2.err"; }
grep -qE "^$TOTAL items \(([0-9]+) from the log" "$WORK/b2.out" || bad "resume summary: $(tail -1 "$WORK/b2.out")"
reused=$(sed -nE "s/^$TOTAL items \(([0-9]+) from the log.*/\1/p" "$WORK/b2.out")
[ "${reused:-0}" -ge 8 ] || bad "resumed run reused ${reused:-0} items, expected >= 8"
if cmp -s "$WORK/a/report.json" "$WORK/b/report.json"; then echo "ok   killed + resumed run: same report.json ($reused reused)"
else bad "resumed report differs"; diff <(python3 -m json.tool "$WORK/a/report.json") <(python3 -m json.tool "$WORK/b/report.json") | head -20; fi
cmp -s "$WORK/a/report.md" "$WORK/b/report.md" || bad "resumed report.md differs"
# A third start does no request at all.
"$MIXQ" "${ARGS[@]}" --output "$WORK/b" >"$WORK/b3.out" 2>&1 || bad "third run failed"
grep -q "($TOTAL from the log, 0 requested)" "$WORK/b3.out" || bad "third run: $(tail -1 "$WORK/b3.out")"

# compare: the two runs pair item by item (no flips), a run asked with another prompt is refused.
"$MIXQ" eval compare "$WORK/a" "$WORK/b" >"$WORK/cmp.md" || bad "compare failed"
grep -q "| Benchmark | n |" "$WORK/cmp.md" || bad "compare table: $(head -3 "$WORK/cmp.md")"
grep -q "| gsm8k | +0.00 pts | \[+0.00, +0.00\] | 0 | 0 | 0.0% | 1 |" "$WORK/cmp.md" || bad "compare pair row: $(grep gsm8k "$WORK/cmp.md")"
"$MIXQ" eval tasks --endpoint "$URL" --model tiny --limit 2 --max-tokens 8 --tasks gsm8k --system "Be brief." \
  --output "$WORK/c" >/dev/null 2>&1 || bad "run C failed"
"$MIXQ" eval tasks --endpoint "$URL" --model tiny --limit 2 --max-tokens 8 --tasks gsm8k --output "$WORK/d" >/dev/null 2>&1 || bad "run D failed"
rc=0; "$MIXQ" eval compare "$WORK/d" "$WORK/c" >/dev/null 2>"$WORK/cmp.err" || rc=$?
[ "$rc" = 2 ] && grep -q "different prompt" "$WORK/cmp.err" && [ "$(wc -l <"$WORK/cmp.err")" = 1 ] ||
  bad "compare of runs with different prompts: exit $rc, $(cat "$WORK/cmp.err")"

[ "$fails" = 0 ] && echo "eval_tasks_e2e: all checks passed" || { echo "eval_tasks_e2e: $fails failure(s)"; exit 1; }
