// The real llama.cpp (node-llama-cpp's prebuilt CPU library) against mixq on a GGUF from
// `mixq export-gguf`, and @huggingface/gguf parsing the same file.
// Usage: node gguf_llama.js SPEC.json
//   SPEC = {gguf, ids: [[...], ...], mixq_logits: "logits.safetensors" (mixq logits on the source
//           checkpoint, tensors input<i> [T, V] f32), greedy: [{prompt_ids, mixq_ids}], threads}
// Tolerances, per input, as fractions of the logit range R (max - min of mixq's logits):
//   - per position p, d_p = max over the vocabulary of |llama.cpp - mixq|:
//     median of d_p <= 0.5 % R (the rounding noise: llama.cpp rounds activations to Q8_0 / BF16);
//     d_p <= 2.5 % R at >= 90 % of the positions, and d_p <= 6 % R everywhere. The few positions
//     over 2.5 % are a token where some layer's top-k router choice sits inside that rounding
//     noise (the golden README gives router margins down to 8e-5) so llama.cpp picks the other
//     expert, and the next few positions, which read that token's K/V: a jump that decays;
//   - mean |diff| over everything <= 0.25 % R (the rounding noise itself);
//   - identical argmax wherever mixq's top-2 gap exceeds 5 % R (a smaller gap may flip);
//   - greedy continuations identical token for token (llama.cpp stops at EOS without yielding it).
// Prints one JSON line of measurements; exits 1 on any failure.
'use strict';
const fs = require('fs');

function readSafetensors(path) {
  const b = fs.readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === '__metadata__') continue;
    if (v.dtype !== 'F32') throw new Error(`${path}: ${k} is ${v.dtype}, expected F32`);
    const [s, e] = v.data_offsets;
    const bytes = b.subarray(8 + n + s, 8 + n + e);
    const f = new Float32Array(bytes.length / 4);
    for (let i = 0; i < f.length; ++i) f[i] = bytes.readFloatLE(i * 4);
    out[k] = { shape: v.shape, data: f };
  }
  return out;
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const report = { gguf: spec.gguf, inputs: [], greedy: [] };
  let failures = [];

  // 1. @huggingface/gguf parses the file and its metadata.
  const { gguf } = await import('@huggingface/gguf');
  const parsed = await gguf(spec.gguf, { allowLocalFile: true, computeParametersCount: true });
  const md = parsed.metadata;
  if (md['general.architecture'] !== 'minimax-m2') failures.push(`@huggingface/gguf: architecture ${md['general.architecture']}`);
  if (!(md['tokenizer.ggml.tokens'] && md['tokenizer.ggml.tokens'].length > 0)) failures.push('@huggingface/gguf: no tokens');
  report.hf_gguf = { tensors: parsed.tensorInfos.length, parameters: parsed.parameterCount, keys: Object.keys(md).length,
                     expert_count: md['minimax-m2.expert_count'], block_count: md['minimax-m2.block_count'] };

  // 2. llama.cpp loads it; logits at every position of every golden input.
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: spec.gguf });
  const ctx = await model.createContext({ contextSize: 1024, sequences: 1, threads: spec.threads || 2, batchSize: 512 });
  const seq = ctx.getSequence();
  report.llama_vocab = model.tokens.bos !== undefined ? { bos: model.tokens.bos, eos: model.tokens.eos } : {};
  const ours = readSafetensors(spec.mixq_logits);
  for (let i = 0; i < spec.ids.length; ++i) {
    const ids = spec.ids[i];
    const mine = ours[`input${i}`];
    const V = mine.shape[1];
    await seq.clearHistory();
    const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
    let lo = Infinity, hi = -Infinity;
    for (const x of mine.data) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    const R = hi - lo, tol = 0.025 * R, cap = 0.06 * R;
    let maxd = 0, sumd = 0, n = 0, argEq = 0, argChecked = 0, argAll = 0, badArg = [];
    const posMax = [];
    for (let p = 0; p < ids.length; ++p) {
      let pm = 0;
      const lg = res[p].next.logits;
      if (!lg || lg.size !== V) { failures.push(`input${i} pos ${p}: llama.cpp gave ${lg ? lg.size : 0} logits, expected ${V}`); break; }
      let best = -1, bestv = -Infinity, top1 = -Infinity, top2 = -Infinity, myBest = -1;
      for (let t = 0; t < V; ++t) {
        const a = lg.get(t), b = mine.data[p * V + t];
        const d = Math.abs(a - b);
        if (d > maxd) maxd = d;
        if (d > pm) pm = d;
        sumd += d; ++n;
        if (a > bestv) { bestv = a; best = t; }
        if (b > top1) { top2 = top1; top1 = b; myBest = t; } else if (b > top2) top2 = b;
      }
      posMax.push(pm);
      if (best === myBest) ++argAll;
      if (top1 - top2 > 0.05 * R) {
        ++argChecked;
        if (best === myBest) ++argEq; else badArg.push(p);
      }
    }
    const r = { input: i, tokens: ids.length, logit_range: +(hi - lo).toFixed(3), max_abs_diff: +maxd.toFixed(5),
                mean_abs_diff: +(sumd / Math.max(1, n)).toFixed(6), tolerance: +tol.toFixed(4),
                positions_over_tolerance: posMax.filter((d) => d > tol).length,
                argmax_equal_all: `${argAll}/${ids.length}`, worst_positions: posMax.map((d, p) => [p, +d.toFixed(3)]).sort((a, b) => b[1] - a[1]).slice(0, 6), argmax_equal_beyond_gap: `${argEq}/${argChecked}` };
    report.inputs.push(r);
    const over = posMax.filter((d) => d > tol).length;
    const medPos = [...posMax].sort((a, b) => a - b)[Math.floor(posMax.length / 2)];
    r.median_position_max_diff = +medPos.toFixed(4);
    if (medPos > 0.005 * R) failures.push(`input${i}: median per-position max |diff| ${medPos} > 0.5 % of the range`);
    if (over > 0.1 * ids.length) failures.push(`input${i}: ${over} of ${ids.length} positions (more than 10 %) have max |diff| > 2.5 % of the range (${tol})`);
    if (maxd > cap) failures.push(`input${i}: max |diff| ${maxd} > 6 % of the range (${cap})`);
    if (sumd / n > 0.0025 * R) failures.push(`input${i}: mean |diff| ${sumd / n} > 0.25 % of the range`);
    if (badArg.length) failures.push(`input${i}: argmax differs at positions ${badArg.slice(0, 5)} despite a clear top-2 gap`);
  }

  // 3. Greedy generation, token for token.
  for (const g of spec.greedy || []) {
    await seq.clearHistory();
    const got = [];
    const want = g.mixq_ids;
    let ended = true;
    for await (const t of seq.evaluate(g.prompt_ids, { temperature: 0 })) {
      got.push(t);
      if (got.length >= want.length || t === model.tokens.eos) { ended = false; break; }
    }
    if (ended && got.length < want.length) got.push(model.tokens.eos);  // the generator stopped at EOS
    let same = 0;
    while (same < Math.min(got.length, want.length) && got[same] === want[same]) ++same;
    report.greedy.push({ prompt_tokens: g.prompt_ids.length, generated: got.length, identical_prefix: same, of: want.length });
    if (same !== want.length) failures.push(`greedy: first difference at generated token ${same} of ${want.length} (llama.cpp ${got[same]}, mixq ${want[same]})`);
  }
  await ctx.dispose();
  await model.dispose();
  report.ok = failures.length === 0;
  report.failures = failures;
  console.log(JSON.stringify(report));
  process.exit(report.ok ? 0 : 1);
}

main().catch((e) => { console.error(`gguf_llama.js: ${e.stack || e}`); process.exit(1); });
