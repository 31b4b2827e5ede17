// Compares mixq render-chat --jsonl output with render_ref.js output; a request matches when both
// rendered the same bytes or both raised an error. Prints one summary line; exits 1 on mismatch.
'use strict';
const fs = require('fs');
const [name, reqFile, refFile, oursFile] = process.argv.slice(2);
const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
const reqs = fs.readFileSync(reqFile, 'utf8').split('\n').filter((l) => l);
const R = read(refFile), O = read(oursFile);
if (R.length !== O.length) { console.log(`${name}: FAIL count ref ${R.length} ours ${O.length}`); process.exit(1); }
let ok = 0, errs = 0, shown = 0;
for (let i = 0; i < R.length; ++i) {
  const r = R[i], o = O[i];
  const same = ('prompt' in r && 'prompt' in o) ? r.prompt === o.prompt : ('error' in r && 'error' in o);
  if (same) { ++ok; if ('error' in r) ++errs; continue; }
  if (shown++ < 3) {
    let k = 0;
    const a = r.prompt ?? '', b = o.prompt ?? '';
    while (k < a.length && a[k] === b[k]) ++k;
    console.log(`  #${i} differs at char ${k}: ref ${JSON.stringify(r.error ?? a.slice(Math.max(0, k - 40), k + 60))}\n    ours ${JSON.stringify(o.error ?? b.slice(Math.max(0, k - 40), k + 60))}\n    req ${reqs[i].slice(0, 300)}`);
  }
}
const pass = ok === R.length;
console.log(`${name}: ${pass ? 'PASS' : 'FAIL'} ${ok}/${R.length} renders identical (${errs} of them errors on both sides)`);
process.exit(pass ? 0 : 1);
