// HF tokenizers (Rust, via @anush008/tokenizers) reference: encodes every base64 line of a corpus
// and decodes the ids again. Output, one JSON object per line: {"ids": [...], "dec": "...",
// "dec_skip": "..."}. Usage: node tokenize_ref.js tokenizer.json corpus.b64 [--no-special]
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

async function main() {
  const [file, corpus] = process.argv.slice(2);
  const addSpecial = !process.argv.includes('--no-special');
  const tk = Tokenizer.fromFile(file);
  const lines = fs.readFileSync(corpus, 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l);
  const out = [];
  for (const l of lines) {
    const text = Buffer.from(l, 'base64').toString('utf8');  // WHATWG replacement of bad bytes
    const enc = await tk.encode(text, null, { addSpecialTokens: addSpecial });
    const ids = Array.from(enc.getIds());
    const dec = await tk.decode(ids, false);
    const decSkip = await tk.decode(ids, true);
    out.push(JSON.stringify({ ids, dec, dec_skip: decSkip }));
  }
  process.stdout.write(out.join('\n') + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
