#!/usr/bin/env bash
# mixq eval tasks against a fixture OpenAI server (Node, started here on a free port) that replays
# known answers built from the bundled data: right, wrong, cut by max_tokens, with the reasoning
# in its own field or before </think>. Checks the client, the extraction and scoring through the
# whole pipeline (exact counts per task), failed requests (exit 1, retried on the next run), the
# sandbox fallback being reported, and bad input (exit 2, one line).
set -euo pipefail
: "${MIXQ:?}" "${MIXQ_SOURCE_DIR:?}"
DATA="$MIXQ_SOURCE_DIR/data/eval"
WORK=$(mktemp -d)
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
cat >"$WORK/server.mjs" <<'JS'
// Answers by item index i (from the order of the data files): i % 3 == 0 right, 1 wrong, 2 cut
// by max_tokens (finish_reason "length"). Needle: the number read back from the prompt.
import http from "node:http";
import fs from "node:fs";
const [data, failFlag, portFile] = process.argv.slice(2);
const jsonl = (p) => fs.readFileSync(p, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l.replace(/\bNaN\b|-?\bInfinity\b/g, "0")));
function csv(text) {
  const rows = []; let row = [], f = "", q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) { if (c === '"') { if (text[i + 1] === '"') { f += '"'; i++; } else q = false; } else f += c; continue; }
    if (c === '"') q = true; else if (c === ",") { row.push(f); f = ""; }
    else if (c === "\n") { row.push(f); rows.push(row); row = []; f = ""; } else if (c !== "\r") f += c;
  }
  if (f || row.length) { row.push(f); rows.push(row); }
  return rows;
}
const gsm = jsonl(`${data}/gsm8k/test.jsonl`), he = jsonl(`${data}/humaneval/HumanEval.jsonl`);
const mbpp = jsonl(`${data}/mbppplus/MbppPlus.jsonl`), math = jsonl(`${data}/math500/math500.jsonl`);
const mmlu = csv(fs.readFileSync(`${data}/mmlu/test/computer_security_test.csv`, "utf8"));
function answer(p) {
  let i, right, wrong;
  if ((i = gsm.findIndex((r) => p.includes(r.question))) >= 0) {
    const g = gsm[i].answer.split("####")[1].trim();
    right = `Adding it up.\nThe final answer is ${g}`; wrong = `The final answer is ${Number(g.replace(/,/g, "")) + 1}`;
  } else if ((i = he.findIndex((r) => p.includes(r.prompt.trim()))) >= 0) {
    right = "```python\n" + he[i].prompt + he[i].canonical_solution + "```";
    wrong = "```python\n" + he[i].prompt + "    return None\n```";
  } else if ((i = mbpp.findIndex((r) => p.includes(r.prompt.replace(/'''/g, "").trim()))) >= 0) {
    right = "```python\n" + mbpp[i].canonical_solution + "```";
    wrong = "```python\ndef " + mbpp[i].entry_point + "(*a):\n    return 'wrong'\n```";
  } else if ((i = math.findIndex((r) => p.includes(r.problem))) >= 0) {
    right = `Work.\nAnswer: ${math[i].answer}`; wrong = "Answer: 123456789";
  } else if ((i = mmlu.findIndex((r) => p.includes(r[0]) && p.includes(`D) ${r[4]}`))) >= 0) {
    const g = mmlu[i][5]; right = `**Answer: ${g}**`; wrong = `Answer: ${g === "A" ? "B" : "A"}`;
  } else if (p.includes("special magic number")) {
    const m = p.match(/special magic numbers for [\w-]+ is: (\d+)/);
    return { content: `The number is ${m ? m[1] : "none"}.`, finish: "stop", i: 0 };
  } else return { content: "I do not know.", finish: "stop", i: 0 };
  if (i % 3 === 0) return { content: right, finish: "stop", i };
  if (i % 3 === 1) return { content: wrong, finish: "stop", i };
  return { content: "Let me think about this carefully and at length", finish: "length", i };
}
const srv = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const send = (code, obj) => { res.writeHead(code, { "Content-Type": "application/json" }); res.end(JSON.stringify(obj)); };
    if (fs.existsSync(failFlag)) return send(503, { error: { message: "fixture: failing on purpose", code: 503 } });
    const j = JSON.parse(body || "{}");
    if (req.url === "/tokenize" && fs.existsSync(failFlag + ".notokenize")) return send(404, { error: { message: "no such route" } });
    if (req.url === "/tokenize") return send(200, { tokens: [], count: Math.ceil((j.prompt || "").length / 4) });
    if (req.url !== "/v1/chat/completions") return send(404, { error: { message: "no such route" } });
    if (j.temperature !== 0 || j.stream !== false || !j.max_tokens) return send(400, { error: { message: "expected greedy, non-stream, max_tokens" } });
    const user = j.messages[j.messages.length - 1].content;
    const a = answer(user);
    // Reasoning: in its own field for even items, before </think> (MiniMax's pre-opened think) for odd.
    const reasoning = "Thinking: the answer might be 999999 or Answer: D.";
    const msg = a.i % 2 === 0 ? { role: "assistant", content: a.content, reasoning_content: reasoning }
                              : { role: "assistant", content: reasoning + "\n</think>\n\n" + a.content };
    send(200, { id: "x", object: "chat.completion", model: j.model,
                choices: [{ index: 0, message: msg, finish_reason: a.finish }],
                usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
  });
});
srv.listen(0, "127.0.0.1", () => fs.writeFileSync(portFile, String(srv.address().port)));
setTimeout(() => process.exit(0), 600000);  // bounded: never outlives a stuck test by long
JS
node "$WORK/server.mjs" "$DATA" "$WORK/fail" "$WORK/port" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$WORK/port")"
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$MIXQ" eval tasks --endpoint "$URL" --model fixture --limit 6 --concurrency 3 \
  --tasks gsm8k,humaneval,mbppplus,mmlu:computer_security,math500,needle --needle-lengths 200,400 --needle-depths 0,50,100 \
  --output "$WORK/run" >"$WORK/run.out" 2>"$WORK/run.err" || { bad "run failed"; cat "$WORK/run.err"; }
python3 - "$WORK/run/report.json" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
t = {x["task"]: x for x in r["tasks"]}
# items 0..5: right on 0 and 3, wrong on 1 and 4, cut by max_tokens on 2 and 5
for name in ("gsm8k", "humaneval", "mbppplus", "mmlu:computer_security", "math500"):
    x = t[name]
    got = (x["n"], x["correct"], x["wrong"], x["truncated"], x["no_answer"], x["errors"])
    assert got == (6, 2, 2, 2, 0, 0), (name, got)
    assert abs(x["accuracy"] - 2 / 6) < 1e-12 and abs(x["stderr"] - ((2 / 6) * (4 / 6) / 5) ** 0.5) < 1e-12, name
    outs = [i["outcome"] for i in x["items"]]
    assert outs == ["correct", "wrong", "truncated"] * 2, (name, outs)
assert t["mbppplus"]["base_correct"] == 2
assert t["humaneval"]["code_outcomes"] == {"pass": 2, "fail": 2}, t["humaneval"]["code_outcomes"]
n = t["needle"]
assert (n["n"], n["correct"]) == (6, 6), (n["n"], n["correct"])
assert [i["id"] for i in n["items"]] == ["needle/200/0", "needle/200/50", "needle/200/100", "needle/400/0", "needle/400/50", "needle/400/100"]
g = t["gsm8k"]["items"]
assert g[0]["extracted"] == g[0]["gold"] and g[3]["extracted"] == g[3]["gold"]
# reasoning (in its own field, or before </think>) is never scored: it mentions 999999 and "Answer: D"
assert all(i["extracted"] != "999999" for i in g)
print("ok   fixture run: exact counts for every task")
PY
grep -q "needle: counting tokens with $URL/tokenize" "$WORK/run.err" || bad "needle did not use /tokenize: $(cat "$WORK/run.err")"

# Failed requests: counted as errors, exit 1; the same command again retries only them.
touch "$WORK/fail"
rc=0; "$MIXQ" eval tasks --endpoint "$URL" --model fixture --limit 3 --tasks gsm8k --retries 0 --output "$WORK/err" \
  >"$WORK/err.out" 2>"$WORK/err.err" || rc=$?
[ "$rc" = 1 ] || bad "failing server: exit $rc, expected 1"
python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['tasks'][0]; assert t['errors']==3, t['errors']" "$WORK/err/report.json" || bad "errors not counted"
rm "$WORK/fail"
rc=0; "$MIXQ" eval tasks --endpoint "$URL" --model fixture --limit 3 --tasks gsm8k --retries 0 --output "$WORK/err" \
  >"$WORK/err2.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || bad "retry run: exit $rc"
grep -q "(0 from the log, 3 requested)" "$WORK/err2.out" || bad "retry run: $(tail -1 "$WORK/err2.out")"

# An endpoint without /tokenize: the needle counts with mixq's tokenizer (--tokenizer), and says
# so; without --tokenizer it is bad input.
touch "$WORK/fail.notokenize"
"$MIXQ" eval tasks --endpoint "$URL" --model fixture --tasks needle --needle-lengths 300 --needle-depths 50 \
  --tokenizer "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2" --output "$WORK/tok" >/dev/null 2>"$WORK/tok.err" || bad "needle with --tokenizer failed: $(cat "$WORK/tok.err")"
grep -q "counting tokens with $MIXQ_SOURCE_DIR/models/tiny-minimax-m2" "$WORK/tok.err" || bad "needle tokenizer fallback not said: $(cat "$WORK/tok.err")"
python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['tasks'][0]; it=t['items'][0]; assert t['correct']==1 and 250 < it['detail']['prompt_tokens'] <= 300, it" "$WORK/tok/report.json" || bad "needle with --tokenizer: wrong report"
rc=0; "$MIXQ" eval tasks --endpoint "$URL" --model fixture --tasks needle --output "$WORK/tok2" >/dev/null 2>"$WORK/tok2.err" || rc=$?
[ "$rc" = 2 ] && grep -q "has no /tokenize; give --tokenizer" "$WORK/tok2.err" || bad "needle without /tokenize nor --tokenizer: exit $rc $(cat "$WORK/tok2.err")"
rm "$WORK/fail.notokenize"

# The sandbox fallback is reported, never silent.
MIXQ_SANDBOX_NO_NAMESPACES=1 "$MIXQ" eval tasks --endpoint "$URL" --model fixture --limit 1 --tasks humaneval \
  --output "$WORK/fb" >/dev/null 2>"$WORK/fb.err" || bad "fallback run failed"
grep -q "namespaces refused" "$WORK/fb.err" || bad "no fallback warning on stderr"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert 'rlimits + seccomp + no_new_privs only: namespaces refused' in r['sandbox'], r['sandbox']; assert r['tasks'][0]['correct']==1" "$WORK/fb/report.json" || bad "fallback not in the report"

# Bad input: exit 2, one line on stderr naming what.
expect2() {  # name substring -- args
  local name=$1 want=$2 rc=0; shift 3
  "$MIXQ" "$@" >"$WORK/o" 2>"$WORK/e" || rc=$?
  if [ "$rc" != 2 ] || [ "$(wc -l <"$WORK/e")" != 1 ] || ! grep -qF -- "$want" "$WORK/e"; then
    bad "$name: exit $rc, stderr: $(cat "$WORK/e")"
  fi
}
expect2 "unknown task" "unknown task 'gsm9k'" -- eval tasks --endpoint "$URL" --model m --tasks gsm9k --output "$WORK/x"
expect2 "unknown subject" "unknown MMLU subject 'cooking'" -- eval tasks --endpoint "$URL" --model m --tasks mmlu:cooking --output "$WORK/x"
expect2 "https" "https is not supported" -- eval tasks --endpoint https://example.test --model m --tasks gsm8k --output "$WORK/x"
expect2 "not a URL" "expected http://HOST:PORT" -- eval tasks --endpoint localhost:1 --model m --tasks gsm8k --output "$WORK/x"
expect2 "bad kwargs" "--chat-template-kwargs" -- eval tasks --endpoint "$URL" --model m --tasks gsm8k --output "$WORK/x" --chat-template-kwargs '[1'
expect2 "bad depths" "--needle-depths" -- eval tasks --endpoint "$URL" --model m --tasks needle --output "$WORK/x" --needle-depths 0,150
expect2 "compare one run" "at least two runs" -- eval compare "$WORK/run"
expect2 "compare missing" "no report.json" -- eval compare "$WORK/run" "$WORK/nothing"
expect2 "compare different tasks" "has 1 tasks" -- eval compare "$WORK/run" "$WORK/err"

[ "$fails" = 0 ] && echo "eval_tasks_fixture: all checks passed" || { echo "eval_tasks_fixture: $fails failure(s)"; exit 1; }
