// Deterministic corpus of chat requests (one JSON object per line) covering what chat templates
// branch on: system or not, tools, multi-turn, reasoning (field or inline <think>) before and
// after the last user turn, tool calls (arguments as JSON strings or objects), tool results
// (string or list content), list content, add_generation_prompt, extra template kwargs.
// Usage: node chat_corpus.js N
'use strict';
let seed = 12345;
function rnd() { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; }
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (n) => Math.floor(rnd() * n);

const texts = ['hi', 'What is the weather in Paris today?', 'Résumé: naïve café — ok?', '今天天气怎么样？', 'Line one\nLine two\n\n  indented',
  'Use <tags> & "quotes" and \'apostrophes\'', '  leading and trailing spaces  ', '', 'emoji 😀🚀 and ΣΑΣ', 'tabs\tand\\backslashes\\n',
  'Code:\n```python\nprint({"a": 1})\n```', '{{ not a template }} {% raw %}', '\n\nnewlines around\n\n', 'Call the tool please.', '42'];
const thoughts = ['I should check.', 'Let me think step by step.\nFirst, 2+2=4.', '\nleading newline thought\n', 'Calling a tool is best.', 'Σκέψη 思考'];
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Get the weather', parameters: { type: 'object', properties: { location: { type: 'string', description: 'City' }, days: { type: 'integer' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['location'] } } },
  { type: 'function', function: { name: 'calculator', description: 'Evaluate math — précis', parameters: { type: 'object', properties: { expression: { type: 'string' }, precision: { type: 'number' }, verbose: { type: 'boolean' } } } } },
  { type: 'function', function: { name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { query: { type: 'string' }, filters: { type: 'object', properties: { site: { type: 'string' } } }, tags: { type: 'array', items: { type: 'string' } }, limit: { anyOf: [{ type: 'integer' }, { type: 'null' }] } }, required: ['query'] } } },
  { type: 'function', function: { name: 'noop', description: '', parameters: { type: 'object', properties: {} } } },
];
function args(name) {
  switch (name) {
    case 'get_weather': return rnd() < 0.5 ? { location: pick(['SF', 'Paris', '東京']), days: int(7) } : { location: 'Berlin', unit: 'c' };
    case 'calculator': return { expression: pick(['2+2', '(1+2)*3', 'sqrt(2)']), precision: pick([2, 0.5, 10]), verbose: rnd() < 0.5 };
    case 'search': return { query: pick(['mixq', 'Straße "quoted"', 'a\nb']), filters: { site: 'x.org' }, tags: ['a', 'b'], limit: rnd() < 0.5 ? null : 5 };
    default: return {};
  }
}
function toolCall(name, k) {
  const a = args(name);
  return { id: `call_${k}`, type: 'function', function: { name, arguments: rnd() < 0.7 ? JSON.stringify(a) : a } };
}
function content(allowList) {
  if (allowList && rnd() < 0.2) return [{ type: 'text', text: pick(texts) }, { type: 'text', text: pick(texts) }];
  return pick(texts);
}
function conversation(style) {
  const msgs = [];
  const useTools = rnd() < 0.5;
  const toolset = useTools ? tools.slice(0, 1 + int(tools.length)) : null;
  if (rnd() < 0.6) {
    const sys = { role: 'system', content: pick(['You are a helpful assistant.', 'Be brief.', '', 'Système: réponds en français.']) };
    if (rnd() < 0.2) sys.current_date = '2026-01-15';
    msgs.push(sys);
  }
  const turns = 1 + int(4);
  for (let t = 0; t < turns; ++t) {
    msgs.push({ role: 'user', content: content(style.lists) });
    if (t === turns - 1 && rnd() < 0.5) break;  // end on a user turn
    const a = { role: 'assistant' };
    const r = rnd();
    const c = pick(texts);
    if (r < 0.3) { a.content = c; a.reasoning_content = pick(thoughts); }
    else if (r < 0.55) a.content = `<think>\n${pick(thoughts)}\n</think>\n\n${c}`;
    else a.content = c;
    if (toolset && rnd() < 0.6) {
      const n = 1 + int(2);
      a.tool_calls = [];
      for (let k = 0; k < n; ++k) a.tool_calls.push(toolCall(pick(toolset).function.name, k));
      if (rnd() < 0.3) a.content = '';
      msgs.push(a);
      for (let k = 0; k < n; ++k) {
        const res = rnd() < (style.lists ? 0.3 : 0) ? [{ type: 'text', text: '{"ok": true}' }] : pick(['{"t": 20}', 'done', 'Ergebnis: 4', '']);
        msgs.push({ role: 'tool', tool_call_id: `call_${k}`, content: res });
      }
      if (rnd() < 0.6) msgs.push({ role: 'assistant', content: pick(texts), ...(rnd() < 0.5 ? { reasoning_content: pick(thoughts) } : {}) });
    } else {
      msgs.push(a);
    }
  }
  const req = { messages: msgs };
  if (toolset) req.tools = toolset;
  req.add_generation_prompt = rnd() < 0.7;
  if (rnd() < 0.1) req.enable_thinking = rnd() < 0.5;
  return req;
}
const n = parseInt(process.argv[2] || '300', 10);
const lists = process.argv.includes('--lists');
const out = [];
for (let i = 0; i < n; ++i) out.push(JSON.stringify(conversation({ lists })));
process.stdout.write(out.join('\n') + '\n');
