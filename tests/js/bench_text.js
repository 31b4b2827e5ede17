// Writes the deterministic mixed benchmark text (prose in many scripts, code, numbers, whitespace
// runs, emoji) used by bench/tokenizer_vs_hf.sh for both mixq and HF tokenizers.
// Usage: node bench_text.js OUT_FILE [MB] [source files...]
'use strict';
const fs = require('fs');
const [out, mbArg, ...files] = process.argv.slice(2);
const target = Math.round(parseFloat(mbArg || '8') * 1024 * 1024);
let seed = 2024;
function rnd() { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; }
const prose = [
  'The quick brown fox jumps over the lazy dog. ', 'Der schnelle braune Fuchs springt über den faulen Hund. ',
  'Съешь же ещё этих мягких французских булок, да выпей чаю. ', '我能吞下玻璃而不伤身体。今天天气很好。',
  '私はガラスを食べられます。それは私を傷つけません。', 'أنا قادر على أكل الزجاج و هذا لا يؤلمني. ',
  'मैं काँच खा सकता हूँ और मुझे उससे कोई चोट नहीं पहुंचती. ', 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ',
  'Emoji 😀 👍🏽 🚀 ✨ and numbers 1234567 3.14159 2026-01-15. ', "It's what they'd've done, isn't it? ",
];
const sources = files.map((f) => fs.readFileSync(f, 'utf8'));
const parts = [];
let size = 0;
while (size < target) {
  const r = rnd();
  let s;
  if (r < 0.45 && sources.length) {
    const src = sources[Math.floor(rnd() * sources.length)];
    const a = Math.floor(rnd() * src.length);
    s = src.slice(a, a + 200 + Math.floor(rnd() * 3000));
  } else if (r < 0.9) {
    s = '';
    const n = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < n; ++i) s += prose[Math.floor(rnd() * prose.length)];
    s += '\n\n';
  } else {
    s = ' '.repeat(Math.floor(rnd() * 16)) + '\t\n' + String(Math.floor(rnd() * 1e12)) + '\n';
  }
  parts.push(s);
  size += Buffer.byteLength(s);
}
fs.writeFileSync(out, parts.join(''));
console.log(`wrote ${out}: ${(fs.statSync(out).size / 1048576).toFixed(1)} MiB`);
