// llama.cpp (node-llama-cpp's prebuilt CPU library) prefill and decode speed on a GGUF, measured
// like `mixq bench`: seeded random prompt ids, an untimed warm-up (prefill + a few decode steps,
// so every weight page is mapped), then a timed prefill of PROMPT tokens in one batch and DECODE
// greedy decode steps at batch 1, one token each.
// Usage: node bench_llama_gguf.js FILE.gguf THREADS PROMPT DECODE [ram]
//   ram: read the weights into memory (useMmap: false) instead of mapping the file (the default)
// Prints one JSON line: prefill_tokens_per_second, decode_tokens_per_second (mean over the timed
// tokens), decode_median_tokens_per_second, decode_best_tokens_per_second.
'use strict';

async function main() {
  const [path, threadsS, promptS, decodeS, residency] = process.argv.slice(2);
  const threads = +threadsS, P = +promptS, D = +decodeS;
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: path, useMmap: residency !== 'ram' });
  const loadS = (performance.now() - t0) / 1e3;
  const ctx = await model.createContext({ contextSize: 2048, sequences: 1, threads, batchSize: Math.max(512, P) });
  const seq = ctx.getSequence();
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
  const ids = (n) => Array.from({ length: n }, () => rnd() % 4000);  // ordinary tokens of any vocabulary >= 4000

  // warm-up: a prefill and 8 decode steps, untimed
  await seq.evaluateWithoutGeneratingNewTokens(ids(64));
  let k = 0;
  for await (const _ of seq.evaluate(ids(1), { temperature: 0 })) { if (++k >= 8) break; }
  await seq.clearHistory();

  let t = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(ids(P));
  const prefillS = (performance.now() - t) / 1e3;

  const times = [];
  t = performance.now();
  let last = t;
  k = 0;
  for await (const _ of seq.evaluate(ids(1), { temperature: 0 })) {
    const now = performance.now();
    // The first yield includes the one-token prefill of the seed id; decode steps follow.
    if (k > 0) times.push((now - last) / 1e3);
    last = now;
    if (++k > D) break;
  }
  const sum = times.reduce((a, b) => a + b, 0);
  const sorted = [...times].sort((a, b) => a - b);
  const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : 0.5 * (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]);
  console.log(JSON.stringify({
    engine: 'llama.cpp (node-llama-cpp 3.22.1 prebuilt, CPU)', gguf: path, threads, weights: residency === 'ram' ? 'ram' : 'mmap', prompt_tokens: P, decode_tokens: times.length,
    load_seconds: +loadS.toFixed(2), prefill_tokens_per_second: P / prefillS, decode_tokens_per_second: times.length / sum,
    decode_median_tokens_per_second: 1 / med, decode_best_tokens_per_second: 1 / sorted[0],
  }));
  await ctx.dispose();
  await model.dispose();
}

main().catch((e) => { console.error(`bench_llama_gguf.js: ${e.stack || e}`); process.exit(1); });
