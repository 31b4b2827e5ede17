// Deterministic tokenizer corpus: prints one base64-encoded string (raw bytes, possibly invalid
// UTF-8) per line. Usage: node corpus.js N [extra-text-file...]
'use strict';
const fs = require('fs');

let seed = 0x9e3779b9;
function rnd() {  // xorshift32: same corpus on every machine
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (n) => Math.floor(rnd() * n);

const prose = [
  'The quick brown fox jumps over the lazy dog.', "I'm sure they'll say it's fine; we've DONE it before, haven't we?",
  'Der schnelle braune Fuchs springt über den faulen Hund. Straße, Maß, Größe.',
  'Le cœur a ses raisons que la raison ne connaît point. Où est l’hôtel?',
  'El niño comió piñas y jalapeños en la mañana. ¿Qué tal? ¡Olé!',
  'Съешь же ещё этих мягких французских булок, да выпей чаю.',
  'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΣΊΣΥΦΟΣ και σοφός.',
  '我能吞下玻璃而不伤身体。今天天气很好，我们去公园散步吧！',
  '私はガラスを食べられます。それは私を傷つけません。カタカナとひらがな。',
  '나는 유리를 먹을 수 있어요. 그래도 아프지 않아요. 한국어 텍스트입니다.',
  'أنا قادر على أكل الزجاج و هذا لا يؤلمني. مرحبا بالعالم',
  'אני יכול לאכול זכוכית וזה לא מזיק לי. שלום עולם',
  'मैं काँच खा सकता हूँ और मुझे उससे कोई चोट नहीं पहुंचती. नमस्ते दुनिया',
  'ฉันกินกระจกได้ แต่มันไม่ทำให้ฉันเจ็บ สวัสดีชาวโลก',
  'Tôi có thể ăn thủy tinh mà không hại gì. Tiếng Việt có dấu: ắ ặ ẩ ẫ ậ.',
  'Mogę jeść szkło i mi nie szkodzi. Zażółć gęślą jaźń.', 'Pot să mănânc sticlă și ea nu mă rănește.',
  'Ṁy ḟriendṡ ẇith ḋiacritics: e\u0301 a\u0308 n\u0303 (combining) vs é ä ñ (precomposed).',
  'ﬁﬂ ligatures, ＦＵＬＬＷＩＤＴＨ text, ① ② ③, ½ ¼, ℌ𝔢𝔩𝔩𝔬 𝕨𝕠𝕣𝕝𝕕, Ⅻ, ㎞',
  'Emoji: 😀😃😄 👩‍👩‍👧‍👦 👍🏽 🇺🇸🇯🇵 ❤️ ☃ ✨🚀 🧑🏿‍💻', 'Ελληνικά ΆΈΉ, İstanbul ıi, ǅungla, ß ẞ, ǈ ǋ',
  'Numbers: 1234567890 3.14159 -42 1e10 0x1F 1,000,000 ٣٤٥ ४५६ ๑๒๓ 12th 2nd',
  'Dates 2024-01-15T10:30:00Z, phone +1 (555) 123-4567, email a.b@example.com, https://x.org/a?b=c&d=e#f',
];
const code = [
  'def f(x):\n    return x ** 2  # square\n', 'for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n',
  'const x = {"a": [1, 2, 3], \'b\': null};\n', '#include <vector>\nint main() { return 0; }\n',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;\n', '<div class="x">&nbsp;&lt;b&gt;</div>\n',
  '    if (a && b || !c) { x <<= 2; y >>= 1; z ??= w; }\n', '$ ls -la | grep "\\.cpp$" > out.txt 2>&1\n',
  'fn main() { let v: Vec<u8> = vec![0; 10]; println!("{:?}", v); }\n', '```python\nprint("hi")\n```\n',
];
const ws = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2003', '\u0085', '\u200b', '\f', '\v', '    \n\n    ', '\n\t\t'];
const specials = ['<think>', '</think>', '<minimax:tool_call>', '</minimax:tool_call>', ']~b]', '[e~[', ']~!b[', ']!p~[',
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|return|>',
  '<|startoftext|>', '<tool_call>', '<|reserved_special_token_5|>', '<|channel|>', '<|message|>'];
const invalid = [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80]];

function fragment() {
  const r = rnd();
  if (r < 0.35) { const s = pick(prose); const a = int(s.length), b = a + int(s.length - a + 1); return s.slice(a, b) || s; }
  if (r < 0.5) return pick(code);
  if (r < 0.62) return pick(ws).repeat(1 + int(3));
  if (r < 0.72) return String(int(1e9)) + pick(['', '.', ',', ' ', '%']) + String(int(1000));
  if (r < 0.82) return pick(specials);
  if (r < 0.88) return String.fromCodePoint(0x20 + int(0x2fff));  // random BMP char
  if (r < 0.92) return "'s 'T 'Re 'LL 'd 'VE".split(' ')[int(6)] + pick(['', 'x', ' ']);
  return pick(prose).toUpperCase();
}

function main() {
  const n = parseInt(process.argv[2] || '3000', 10);
  const out = [];
  const files = process.argv.slice(3).map((f) => fs.readFileSync(f));
  for (let i = 0; i < n; ++i) {
    let buf;
    if (files.length && i % 5 === 0) {  // a slice of a real file (may cut a character: invalid UTF-8)
      const f = files[i % files.length];
      const a = int(f.length), len = 1 + int(400);
      buf = f.subarray(a, Math.min(f.length, a + len));
    } else {
      const parts = [];
      const k = 1 + int(8);
      for (let j = 0; j < k; ++j) {
        parts.push(Buffer.from(fragment(), 'utf8'));
        if (rnd() < 0.04) parts.push(Buffer.from(pick(invalid)));
      }
      buf = Buffer.concat(parts);
    }
    out.push(buf.toString('base64'));
  }
  // Fixed edge cases.
  // Long runs stress regex backtracking (JIT stack) and BPE on huge words.
  const long = [' '.repeat(200000), '!'.repeat(100000) + 'a', 'ab'.repeat(50000), '9'.repeat(30000), '\n'.repeat(50000) + ' x', ' \t'.repeat(40000) + 'y', 'é'.repeat(40000)];
  for (const s of ['', ' ', '\n', 'a', '  a', 'a  ', '\n\n\n', ' '.repeat(100), 'x'.repeat(500), '1'.repeat(50), "don't", 'HELLO\'S', '<think>\n</think>\n\n', ']~b]ai\n<think>\n', ...long])
    out.push(Buffer.from(s, 'utf8').toString('base64'));
  process.stdout.write(out.join('\n') + '\n');
}
main();
