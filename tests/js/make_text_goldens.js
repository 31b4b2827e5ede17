// Generates tests/golden/text/*.json from the real references: synthetic tokenizer.json files
// exercising each HF component (ids/decodes from HF tokenizers) and Jinja feature templates
// (renders from @huggingface/jinja). Usage: node make_text_goldens.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');
const { Template } = require('@huggingface/jinja');

// --- byte-level map (GPT-2) to build byte-level vocabularies ---
function byteMap() {
  const bs = [];
  for (let b = 33; b <= 126; ++b) bs.push(b);
  for (let b = 161; b <= 172; ++b) bs.push(b);
  for (let b = 174; b <= 255; ++b) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const m = {};
  bs.forEach((b, i) => { m[b] = String.fromCodePoint(cs[i]); });
  return m;
}
const BM = byteMap();
const bl = (s) => Array.from(Buffer.from(s, 'utf8')).map((b) => BM[b]).join('');

function bpe(vocabList, merges, extra = {}) {
  const vocab = {};
  vocabList.forEach((t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; });
  for (const [a, b] of merges) { if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length; }
  return { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges, ...extra };
}
function added(id, content, o = {}) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...o };
}
function tok(model, o) {
  return { version: '1.0', truncation: null, padding: null, added_tokens: o.added || [], normalizer: o.normalizer ?? null,
    pre_tokenizer: o.pre ?? null, post_processor: o.post ?? null, decoder: o.decoder ?? null, model };
}

const byteVocab = Array.from({ length: 256 }, (_, b) => BM[b]);
const blMerges = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['Ġ', 'a'], ['e', 'r'], ['Ġ', 'w'], ['o', 'r'], ['Ġw', 'or'], ['l', 'd'], ['Ġwor', 'ld'], ['1', '2'], ['Ã', '©']];
function blModel(stringMerges, extra) {
  const m = bpe(byteVocab, blMerges, extra);
  if (stringMerges) m.merges = m.merges.map(([a, b]) => `${a} ${b}`);
  return m;
}
const N = Object.keys(blModel(false).vocab).length;
const blAdded = [
  added(N, '<special>', { special: true }), added(N + 1, '[L]', { lstrip: true }), added(N + 2, '[R]', { rstrip: true }),
  added(N + 3, 'word', { single_word: true }), added(N + 4, 'hello', { normalized: true }), added(N + 5, '<s>', { special: true }),
  added(N + 6, '</s>', { special: true }), added(N + 7, '<spe', { special: true }),
];
const template = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
  pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [N + 5], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [N + 6], tokens: ['</s>'] } } };

// sentencepiece-like byte-fallback model
const spChars = ['▁', ...'abcdefghijklmnopqrstuvwxyz'.split(''), 'é'];
const spVocab = ['<unk>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), ...spChars];
const spMerges = [['▁', 't'], ['h', 'e'], ['▁t', 'he'], ['▁', 'a'], ['l', 'l'], ['▁', 'h'], ['▁h', 'e'], ['▁he', 'll'], ['▁hell', 'o']];

const tokenizers = {
  bytelevel_pairs: tok(blModel(false), { added: blAdded, normalizer: { type: 'Lowercase' },
    pre: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post: { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }, template] },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } }),
  bytelevel_strings_noprefix: tok(blModel(true, { ignore_merges: true }), { added: blAdded,
    pre: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: false }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } }),
  split_behaviours: tok(blModel(false), { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { String: '--' }, content: '—' }, { type: 'Strip', strip_left: true, strip_right: true }] },
    pre: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{N}' }, behavior: 'Contiguous', invert: false },
      { type: 'Digits', individual_digits: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } }),
  split_removed_invert: tok(blModel(false), { normalizer: { type: 'NFC' },
    pre: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '[,;]' }, behavior: 'Removed', invert: false },
      { type: 'Split', pattern: { Regex: '\\w+' }, behavior: 'Isolated', invert: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } }),
  byte_fallback: tok(bpe(spVocab, spMerges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }), {
    added: [added(0, '<unk>', { special: true }), added(spVocab.length + spMerges.length, '<|eot|>', { special: true })],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] } }),
  unk_no_fallback: tok(bpe(['<unk>', ...spChars], spMerges, { unk_token: '<unk>', fuse_unk: true }), {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: '▁' }] },
    pre: { type: 'WhitespaceSplit' },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'Fuse' }] } }),
};

const texts = ['', ' ', 'the world', 'The World!', 'hello there HELLO', 'a word, words, sword word.', '[L]x  [L]y', 'x[R]   y [R]\nz',
  '<special>in<special>', '<spe<special>', 'résumé café', '12345 678', 'a--b - c -d', '１２３ ｆｕｌｌ', 'tab\there\n\nnew',
  'emoji 😀 ok', 'über ÉCOLE', 'x,y;z w', '  spaced   out  ', 'the the the', 'in inner winner', 'word\u00a0word', '<|eot|> the<|eot|>',
  'zzz qqq', 'hello', 'hell o'];

async function main() {
  const out = process.argv[2];
  const golden = [];
  const tmp = fs.mkdtempSync('/tmp/mixq-golden-');
  for (const [name, t] of Object.entries(tokenizers)) {
    const f = path.join(tmp, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify(t));
    const tk = Tokenizer.fromFile(f);
    const cases = [];
    for (const text of texts) {
      const ids = Array.from((await tk.encode(text, null, { addSpecialTokens: true })).getIds());
      const idsNoSpecial = Array.from((await tk.encode(text, null, { addSpecialTokens: false })).getIds());
      cases.push({ text, ids, ids_no_special: idsNoSpecial, decoded: await tk.decode(ids, false), decoded_skip: await tk.decode(ids, true) });
    }
    golden.push({ name, tokenizer: t, cases });
  }
  fs.writeFileSync(path.join(out, 'synthetic_tokenizers.json'), JSON.stringify(golden, null, 1) + '\n');

  const J = require('./jinja_cases.js');
  const jg = J.cases.map(([name, src, ctx]) => {
    try { return { name, template: src, context: ctx, output: new Template(src).render(ctx) }; }
    catch (e) { return { name, template: src, context: ctx, error: String(e.message || e) }; }
  });
  fs.writeFileSync(path.join(out, 'jinja_features.json'), JSON.stringify(jg, null, 1) + '\n');
  console.log(`wrote ${golden.length} tokenizers, ${jg.length} jinja cases`);
}
main().catch((e) => { console.error(e); process.exit(1); });
