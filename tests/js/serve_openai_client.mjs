// mixq serve driven by the official `openai` npm client (tests/scripts/serve_openai.sh starts the
// servers): chat and completions, streamed and not (the concatenated stream must equal the
// non-streamed result), tool calls parsed from the bundled model's greedy output, a tool-result
// turn, both reasoning parsers, include_usage, n, seed reproducibility, the published smoke
// request, and error cases read through the client's error classes.
// Usage: node serve_openai_client.mjs URL_MINIMAX_M2 URL_APPEND_THINK API_KEY_OF_THE_SECOND
import OpenAI from "openai";
import assert from "node:assert/strict";

const [urlA, urlB, keyB] = process.argv.slice(2);
const a = new OpenAI({ baseURL: urlA + "/v1", apiKey: "unused", maxRetries: 0, timeout: 120000 });
const b = new OpenAI({ baseURL: urlB + "/v1", apiKey: keyB, maxRetries: 0, timeout: 120000 });
const MODEL = "tiny";
let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const tools = [
  { type: "function", function: { name: "get_weather", description: "Get the current weather for a city",
    parameters: { type: "object", properties: { location: { type: "string", description: "City name" } }, required: ["location"] } } },
  { type: "function", function: { name: "calculator", description: "Evaluate an arithmetic expression",
    parameters: { type: "object", properties: { expression: { type: "string", description: "The expression" } }, required: ["expression"] } } },
];
const toolPrompt = process.env.TOOL_PROMPT || "What is the weather like in Paris right now?";

// Concatenates streamed chat deltas per field; tool calls assembled by index.
async function collectChat(stream) {
  const out = { content: "", reasoning_content: "", reasoning: "", tool_calls: [], finish_reason: null, usage: null, chunks: 0, role: null };
  for await (const ch of stream) {
    out.chunks++;
    if (ch.usage) out.usage = ch.usage;
    for (const c of ch.choices) {
      const d = c.delta || {};
      if (d.role) out.role = d.role;
      if (d.content) out.content += d.content;
      if (d.reasoning_content) out.reasoning_content += d.reasoning_content;
      if (d.reasoning) out.reasoning += d.reasoning;
      for (const t of d.tool_calls || []) {
        const cur = out.tool_calls[t.index] || (out.tool_calls[t.index] = { id: "", type: "function", function: { name: "", arguments: "" } });
        if (t.id) cur.id = t.id;
        if (t.function?.name) cur.function.name += t.function.name;
        if (t.function?.arguments) cur.function.arguments += t.function.arguments;
      }
      if (c.finish_reason) out.finish_reason = c.finish_reason;
    }
  }
  return out;
}

const chatReq = { model: MODEL, messages: [{ role: "user", content: "Janet has 3 apples and buys 5 more. How many apples does she have?" }],
                  temperature: 0, max_tokens: 48 };

await check("models lists the served name", async () => {
  const list = await a.models.list();
  assert.equal(list.data[0].id, MODEL);
});

await check("published smoke test: Compute 47*53 step by step. -> 200 with a chat.completion", async () => {
  const r = await a.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Compute 47*53 step by step." }], max_tokens: 64 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, "assistant");
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
});

let whole;
await check("chat non-stream (minimax_m2 reasoning parser): reasoning split from content", async () => {
  whole = await a.chat.completions.create(chatReq);
  const m = whole.choices[0].message;
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(typeof m.reasoning_content, "string", "the bundled model thinks first, so reasoning is set");
  assert.equal(m.reasoning, m.reasoning_content);
  assert.ok(!(m.content || "").includes("</think>"));
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);
});

await check("chat stream concatenates to the non-streamed message; include_usage", async () => {
  const s = await collectChat(await a.chat.completions.create({ ...chatReq, stream: true, stream_options: { include_usage: true } }));
  const m = whole.choices[0].message;
  assert.equal(s.role, "assistant");
  assert.equal(s.content, m.content || "");
  assert.equal(s.reasoning_content, m.reasoning_content || "");
  assert.equal(s.reasoning, m.reasoning || "");
  assert.equal(s.finish_reason, whole.choices[0].finish_reason);
  // The same prompt again: its full 32-token KV blocks come from the prefix cache.
  const { prompt_tokens_details: cached, ...counts } = s.usage;
  const { prompt_tokens_details: _, ...wholeCounts } = whole.usage;
  assert.deepEqual(counts, wholeCounts);
  assert.equal(cached.cached_tokens, Math.floor((whole.usage.prompt_tokens - 1) / 32) * 32);
});

await check("completions non-stream and stream agree", async () => {
  const req = { model: MODEL, prompt: "def fibonacci(n):\n", max_tokens: 40, temperature: 0 };
  const r = await a.completions.create(req);
  assert.equal(r.object, "text_completion");
  assert.ok(r.choices[0].text.length > 0);
  let text = "", fin = null, usage = null;
  for await (const ch of await a.completions.create({ ...req, stream: true, stream_options: { include_usage: true } })) {
    for (const c of ch.choices) { text += c.text; if (c.finish_reason) fin = c.finish_reason; }
    if (ch.usage) usage = ch.usage;
  }
  assert.equal(text, r.choices[0].text);
  assert.equal(fin, r.choices[0].finish_reason);
  assert.deepEqual(usage, r.usage);
});

await check("stop strings cut the text the same way streamed and not", async () => {
  const req = { model: MODEL, prompt: "def fibonacci(n):\n", max_tokens: 60, temperature: 0, stop: ["\n\n", "return"] };
  const r = await a.completions.create(req);
  let text = "";
  for await (const ch of await a.completions.create({ ...req, stream: true })) for (const c of ch.choices) text += c.text;
  assert.equal(text, r.choices[0].text);
  assert.ok(!r.choices[0].text.includes("return") && !r.choices[0].text.includes("\n\n"));
});

let call;
await check("tools: greedy output is a <minimax:tool_call>, parsed into tool_calls (non-stream)", async () => {
  const r = await a.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: toolPrompt }], tools, temperature: 0, max_tokens: 160 });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, "tool_calls", JSON.stringify(m));
  assert.ok(m.tool_calls.length >= 1);
  call = m.tool_calls[0];
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.ok(["get_weather", "calculator"].includes(call.function.name));
  JSON.parse(call.function.arguments);
  assert.ok(!(m.content || "").includes("<minimax:tool_call>"));
  const s = await collectChat(await a.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: toolPrompt }], tools, temperature: 0, max_tokens: 160, stream: true }));
  assert.equal(s.finish_reason, "tool_calls");
  assert.equal(s.tool_calls.length, m.tool_calls.length);
  assert.equal(s.tool_calls[0].function.name, call.function.name);
  assert.equal(s.tool_calls[0].function.arguments, call.function.arguments);
  assert.match(s.tool_calls[0].id, /^call_[0-9a-f]{24}$/);
  assert.equal(s.content, m.content || "");
});

await check("tool-result turn is accepted and answered", async () => {
  assert.ok(call, "needs the tool call of the previous check");
  const r = await a.chat.completions.create({ model: MODEL, tools, temperature: 0, max_tokens: 48, messages: [
    { role: "user", content: toolPrompt },
    { role: "assistant", content: null, tool_calls: [call] },
    { role: "tool", tool_call_id: call.id, content: JSON.stringify({ temperature: 18, unit: "celsius", condition: "cloudy" }) },
  ] });
  assert.ok(["stop", "length", "tool_calls"].includes(r.choices[0].finish_reason));
});

await check("tool_choice none leaves the markup unparsed", async () => {
  const r = await a.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: toolPrompt }], tools, tool_choice: "none", temperature: 0, max_tokens: 160 });
  assert.equal(r.choices[0].message.tool_calls?.length ?? 0, 0);
  assert.notEqual(r.choices[0].finish_reason, "tool_calls");
});

await check("minimax_m2_append_think: reasoning stays in content as <think>...", async () => {
  const r = await b.chat.completions.create(chatReq);
  const m = r.choices[0].message;
  assert.ok(m.content.startsWith("<think>"), m.content);
  assert.equal(m.reasoning_content ?? null, null);
  const s = await collectChat(await b.chat.completions.create({ ...chatReq, stream: true }));
  assert.equal(s.content, m.content);
});

await check("n = 3 choices; the same seed reproduces them, another seed changes them", async () => {
  const req = { model: MODEL, messages: [{ role: "user", content: "Tell me a story." }], n: 3, temperature: 1, seed: 1234, max_tokens: 24 };
  const r1 = await a.chat.completions.create(req);
  const r2 = await a.chat.completions.create(req);
  assert.equal(r1.choices.length, 3);
  assert.deepEqual(r1.choices.map((c) => c.index), [0, 1, 2]);
  const texts = (r) => r.choices.map((c) => (c.message.reasoning_content || "") + (c.message.content || ""));
  assert.deepEqual(texts(r1), texts(r2));
  assert.ok(new Set(texts(r1)).size > 1, "three sampled choices should not all be equal");
  const r3 = await a.chat.completions.create({ ...req, seed: 99 });
  assert.notDeepEqual(texts(r3), texts(r1));
});

await check("logprobs and top_logprobs", async () => {
  const r = await a.chat.completions.create({ ...chatReq, max_tokens: 5, logprobs: true, top_logprobs: 3 });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, r.usage.completion_tokens);
  for (const e of lp) {
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 3);
    assert.equal(e.top_logprobs[0].logprob, e.logprob, "greedy: the chosen token is the most likely one");
  }
});

async function expectError(name, fn, cls, status) {
  await check(name, async () => {
    try {
      await fn();
    } catch (e) {
      assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, status);
      assert.ok(e.error && typeof e.error.message === "string");
      return;
    }
    throw new Error("no error");
  });
}
await expectError("unknown model -> 404 NotFoundError", () => a.chat.completions.create({ ...chatReq, model: "nope" }), OpenAI.NotFoundError, 404);
await expectError("tools: [] -> 400", () => a.chat.completions.create({ ...chatReq, tools: [] }), OpenAI.BadRequestError, 400);
await expectError("named tool_choice not in tools -> 400",
  () => a.chat.completions.create({ ...chatReq, tools, tool_choice: { type: "function", function: { name: "nope" } } }), OpenAI.BadRequestError, 400);
await expectError("stream_options without stream -> 400",
  () => a.chat.completions.create({ ...chatReq, stream_options: { include_usage: true } }), OpenAI.BadRequestError, 400);
await expectError("wrong type -> 400", () => a.chat.completions.create({ ...chatReq, temperature: "hot" }), OpenAI.BadRequestError, 400);
await expectError("max_tokens 0 -> 400", () => a.chat.completions.create({ ...chatReq, max_tokens: 0 }), OpenAI.BadRequestError, 400);
await expectError("wrong API key -> 401 AuthenticationError",
  () => new OpenAI({ baseURL: urlB + "/v1", apiKey: "wrong", maxRetries: 0 }).chat.completions.create(chatReq), OpenAI.AuthenticationError, 401);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
