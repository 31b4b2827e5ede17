// @huggingface/jinja reference renders. Context as transformers' apply_chat_template builds it
// (special tokens from tokenizer_config.json; tools/documents none when absent) after vLLM's
// tool-call argument parsing. Usage: node render_ref.js MODEL_DIR requests.jsonl
// Prints one JSON line per request: {"prompt": ...} or {"error": ...}.
'use strict';
const fs = require('fs');
const path = require('path');
const { Template } = require('@huggingface/jinja');

const [dir, reqFile] = process.argv.slice(2);
const cfgPath = path.join(dir, 'tokenizer_config.json');
const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
const jinjaPath = path.join(dir, 'chat_template.jinja');
let source = fs.existsSync(jinjaPath) ? fs.readFileSync(jinjaPath, 'utf8') : cfg.chat_template;
if (Array.isArray(source)) source = source.find((t) => t.name === 'default').template;
const tmpl = new Template(source);

function postprocess(messages) {
  for (const m of messages) {
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      for (const item of m.tool_calls) {
        const a = item.function.arguments;
        if (a) { if (typeof a !== 'object') item.function.arguments = JSON.parse(a); } else item.function.arguments = {};
      }
    }
  }
  return messages;
}

const out = [];
for (const line of fs.readFileSync(reqFile, 'utf8').split('\n')) {
  if (!line) continue;
  const req = JSON.parse(line);
  const ctx = {};
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const v = cfg[k];
    if (typeof v === 'string') ctx[k] = v;
    else if (v && typeof v.content === 'string') ctx[k] = v.content;
  }
  Object.assign(ctx, req);
  try {
    ctx.messages = postprocess(req.messages);
    if (!('tools' in req)) ctx.tools = null;
    if (!('documents' in req)) ctx.documents = null;
    if (!('add_generation_prompt' in req)) ctx.add_generation_prompt = false;
    out.push(JSON.stringify({ prompt: tmpl.render(ctx) }));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e.message || e) }));
  }
}
process.stdout.write(out.join('\n') + '\n');
