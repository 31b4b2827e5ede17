// HF tokenizers (Rust, @anush008/tokenizers) encode throughput on a text file: the whole text as
// one string, and as 4 KiB documents encoded one after the other (the same split mixq uses).
// Usage: node bench_hf.js tokenizer.json text.txt [repeats]
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');
async function main() {
  const [tkFile, textFile, rep] = process.argv.slice(2);
  const repeats = parseInt(rep || '3', 10);
  const tk = Tokenizer.fromFile(tkFile);
  const text = fs.readFileSync(textFile, 'utf8');
  const bytes = Buffer.byteLength(text);
  const docs = [];
  // 4 KiB documents cut at line boundaries (mirrors bench/tokenizer_bench.cpp).
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + 4096);
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
    docs.push(text.slice(start, end));
    start = end;
  }
  const opts = { addSpecialTokens: false };
  await tk.encode(text.slice(0, 100000), null, opts);  // warm-up
  // CPU time (all threads of the process) is what is compared: the machine may be shared, and
  // Google Benchmark reports CPU time for mixq. Wall time is printed too.
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  let best1 = Infinity, bestD = Infinity, wall1 = Infinity, wallD = Infinity, n1 = 0;
  for (let r = 0; r < repeats; ++r) {
    let t = process.hrtime.bigint(), c = cpu();
    n1 = (await tk.encode(text, null, opts)).getIds().length;
    best1 = Math.min(best1, cpu() - c);
    wall1 = Math.min(wall1, Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint(); c = cpu();
    for (const d of docs) await tk.encode(d, null, opts);
    bestD = Math.min(bestD, cpu() - c);
    wallD = Math.min(wallD, Number(process.hrtime.bigint() - t) / 1e9);
  }
  const mb = bytes / 1e6;
  console.log(JSON.stringify({ impl: 'hf-tokenizers', bytes, tokens: n1, whole_cpu_MBps: +(mb / best1).toFixed(2), docs_cpu_MBps: +(mb / bestD).toFixed(2),
    whole_wall_MBps: +(mb / wall1).toFixed(2), docs_wall_MBps: +(mb / wallD).toFixed(2), docs: docs.length }));
}
main().catch((e) => { console.error(e); process.exit(1); });
