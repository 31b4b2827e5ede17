// Compares mixq's batch outputs with the HF reference (tokenize_ref.js output).
// Usage: node compare_tokens.js NAME corpus.b64 ref.jsonl ours_ids.jsonl ours_dec.jsonl ours_dec_skip.jsonl
// Prints one summary line; exits 1 on any mismatch.
'use strict';
const fs = require('fs');
const [name, corpus, ref, ids, dec, decSkip] = process.argv.slice(2);
const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length);
const src = fs.readFileSync(corpus, 'utf8').split('\n'); if (src[src.length - 1] === '') src.pop();
const R = read(ref).map((l) => JSON.parse(l));
const I = read(ids).map((l) => JSON.parse(l));
const D = read(dec).map((l) => JSON.parse(l));
const S = read(decSkip).map((l) => JSON.parse(l));
let bad = 0, badDec = 0, roundTrip = 0, shown = 0;
const n = R.length;
if (I.length !== n || D.length !== n || S.length !== n) {
  console.log(`${name}: FAIL line counts differ: ref ${n}, ids ${I.length}, dec ${D.length}, skip ${S.length}`);
  process.exit(1);
}
for (let k = 0; k < n; ++k) {
  const same = JSON.stringify(R[k].ids) === JSON.stringify(I[k]);
  if (!same) {
    ++bad;
    if (shown++ < 5) {
      const text = Buffer.from(src[k] || '', 'base64').toString('utf8');
      console.log(`  ids differ #${k} ${JSON.stringify(text).slice(0, 200)}\n    ref  ${JSON.stringify(R[k].ids).slice(0, 300)}\n    ours ${JSON.stringify(I[k]).slice(0, 300)}`);
    }
  }
  if (R[k].dec !== D[k] || R[k].dec_skip !== S[k]) {
    ++badDec;
    if (shown++ < 8) console.log(`  decode differs #${k}: ref ${JSON.stringify(R[k].dec).slice(0, 200)} ours ${JSON.stringify(D[k]).slice(0, 200)} | skip ref ${JSON.stringify(R[k].dec_skip).slice(0, 100)} ours ${JSON.stringify(S[k]).slice(0, 100)}`);
  }
  const text = Buffer.from(src[k] || '', 'base64').toString('utf8');
  if (D[k] === text) ++roundTrip;
}
const ok = bad === 0 && badDec === 0;
console.log(`${name}: ${ok ? 'PASS' : 'FAIL'} ids ${n - bad}/${n} identical, decode ${n - badDec}/${n} identical, exact round trips ${roundTrip}/${n}`);
process.exit(ok ? 0 : 1);
