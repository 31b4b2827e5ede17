// Bounded load test of mixq serve (tests/scripts/serve_load.sh): C concurrent clients for S
// seconds send a mix of streamed, non-streamed, tool, cancelled and malformed requests to
// 127.0.0.1 only. Checks: no 5xx at all, every malformed request answered 4xx, the server's
// RSS flat after warm-up, and no request left running at the end.
// Usage: node serve_load.mjs URL PID CLIENTS SECONDS
import fs from "node:fs";

const [url, pid, clients, seconds] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const deadline = Date.now() + seconds * 1000;
const warmupEnd = Date.now() + Math.min(30, seconds / 4) * 1000;
const stats = { ok: 0, stream: 0, tools: 0, cancelled: 0, malformed: 0, malformed4xx: 0, err5xx: 0, other: 0, netErr: 0 };
const statusCounts = {};
const rss = [];
const readRss = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? +m[1] * 1024 : 0;
};
const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } } } }];
const prompts = ["What is the weather like in Paris right now?", "Compute 47*53 step by step.", "def add(a, b):",
  "Tell me about the creature.", "A train travels 60 miles in 1.5 hours. What is its speed?"];
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (a) => a[Math.floor(rand() * a.length)];

function malformedBody() {
  const good = JSON.stringify({ model: "tiny", messages: [{ role: "user", content: pick(prompts) }], max_tokens: 8 });
  const kinds = [
    () => good.slice(0, Math.floor(rand() * good.length)),                       // truncated JSON
    () => JSON.stringify({ model: "tiny", messages: "hello" }),                   // wrong type
    () => JSON.stringify({ model: "tiny", messages: [{ role: "robot", content: "x" }] }),
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], temperature: -1 }),
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], tools: [] }),
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], stream_options: { include_usage: true } }),
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: "many" }),
    () => JSON.stringify({ model: "tiny", prompt: [[-5]] }),
    () => Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256))).toString("latin1"),
    () => "{}",
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], n: 100000 }),
    () => JSON.stringify({ model: "tiny", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }),
  ];
  return pick(kinds)();
}

// Requests in flight, for the report if the run overstays its time (a request that never ends).
const inflight = new Map();
let nextId = 0;
setTimeout(() => {
  console.log(`FAIL: still running ${seconds + 150} s after the start; ${inflight.size} request(s) in flight:`);
  for (const [, r] of inflight) console.log(`  ${r.kind} ${r.path} phase=${r.phase} age=${((Date.now() - r.t0) / 1000).toFixed(1)}s body=${r.body.slice(0, 160)}`);
  process.exit(1);
}, (seconds + 150) * 1000).unref();

async function one() {
  const r = rand();
  let body, kind, abortAfter = -1, path = "/v1/chat/completions";
  if (r < 0.15) { kind = "malformed"; body = malformedBody(); if (rand() < 0.3) path = "/v1/completions"; }
  else if (r < 0.30) { kind = "cancelled"; body = JSON.stringify({ model: "tiny", messages: [{ role: "user", content: pick(prompts) }], max_tokens: 200, stream: rand() < 0.5 }); abortAfter = 50 + rand() * 800; }
  else if (r < 0.45) { kind = "tools"; body = JSON.stringify({ model: "tiny", messages: [{ role: "user", content: prompts[0] }], tools, max_tokens: 96, temperature: 0, stream: rand() < 0.5 }); }
  else if (r < 0.75) { kind = "stream"; body = JSON.stringify({ model: "tiny", messages: [{ role: "user", content: pick(prompts) }], max_tokens: 16 + Math.floor(rand() * 48), stream: true, stream_options: { include_usage: true } }); }
  else { kind = "ok"; body = JSON.stringify(rand() < 0.5 ? { model: "tiny", prompt: pick(prompts), max_tokens: 16 + Math.floor(rand() * 48) } : { model: "tiny", messages: [{ role: "user", content: pick(prompts) }], max_tokens: 16 + Math.floor(rand() * 48) }); if (body.includes('"prompt"')) path = "/v1/completions"; }
  const id = nextId++, rec = { kind, path, body, t0: Date.now(), phase: "fetch" };
  inflight.set(id, rec);
  const ac = new AbortController();
  const timer = abortAfter >= 0 ? setTimeout(() => ac.abort(), abortAfter) : setTimeout(() => ac.abort(), 120000);
  try {
    const res = await fetch(url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: ac.signal });
    statusCounts[res.status] = (statusCounts[res.status] || 0) + 1;
    rec.phase = `body(${res.status})`;
    // Node 20's fetch can leave res.text() pending forever when the signal aborts between the
    // headers and the body (seen: no socket left, the promise never settles), so the abort is
    // raced in explicitly.
    await Promise.race([res.text(), new Promise((_, reject) => {
      if (ac.signal.aborted) reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
      ac.signal.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
    })]);
    if (res.status >= 500) { stats.err5xx++; console.log(`5xx ${res.status} for ${kind}: ${body.slice(0, 200)}`); }
    else if (kind === "malformed") { stats.malformed++; if (res.status >= 400 && res.status < 500) stats.malformed4xx++; else console.log(`malformed answered ${res.status}: ${body.slice(0, 200)}`); }
    else if (res.status === 200) stats[kind]++;
    else { stats.other++; console.log(`${kind} answered ${res.status}`); }
  } catch (e) {
    if (abortAfter >= 0 && e.name === "AbortError") stats.cancelled++;
    else { stats.netErr++; console.log(`${kind}: ${e.name} ${e.message}`); }
  } finally {
    clearTimeout(timer);
    inflight.delete(id);
  }
}

const sampler = setInterval(() => rss.push({ t: Date.now(), rss: readRss() }), 2000);
await Promise.all(Array.from({ length: clients }, async () => { while (Date.now() < deadline) await one(); }));
clearInterval(sampler);
// The scheduler frees cancelled sequences at its next steps; give it a moment, bounded.
let running = -1, aborted = 0;
for (let i = 0; i < 100; i++) {
  const text = await (await fetch(url + "/metrics", { signal: AbortSignal.timeout(10000) })).text();
  const m = /^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(text);
  running = m ? +m[1] : -1;
  const a = /^vllm:request_success_total\{[^}]*finished_reason="abort"\} (\S+)$/m.exec(text);
  aborted = a ? +a[1] : 0;
  if (running === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const after = rss.filter((s) => s.t >= warmupEnd).map((s) => s.rss);
const base = after.length ? after[0] : 0, peak = after.length ? Math.max(...after) : 0;
const growth = base ? (peak - base) / base : 0;
console.log(JSON.stringify({ stats, statusCounts, rss_after_warmup_mib: (base / 2 ** 20).toFixed(1), rss_peak_mib: (peak / 2 ** 20).toFixed(1), rss_growth: growth.toFixed(3), running_at_end: running, sequences_aborted_by_disconnect: aborted }));
const failures = [];
if (stats.err5xx) failures.push(`${stats.err5xx} 5xx answers`);
if (stats.malformed4xx !== stats.malformed) failures.push("a malformed request was not answered 4xx");
if (stats.netErr) failures.push(`${stats.netErr} connection errors`);
if (stats.other) failures.push(`${stats.other} unexpected statuses`);
if (running !== 0) failures.push(`vllm:num_requests_running is ${running} at the end`);
// Clients that went away must have ended their sequences early (finish_reason abort), not run on.
if (stats.cancelled > 10 && aborted === 0) failures.push("no sequence was aborted although clients disconnected");
if (growth > 0.10 && peak - base > 64 * 2 ** 20) failures.push(`RSS grew ${(growth * 100).toFixed(1)} % after warm-up`);
const total = Object.values(stats).reduce((a, b) => a + b, 0);
if (total < clients) failures.push("too few requests completed");
console.log(failures.length ? `FAIL: ${failures.join("; ")}` : `ok: ${total} requests`);
process.exit(failures.length ? 1 : 0);
