import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { UserError } from '../../engine/errors';

// Fixed Llama 3 ids, derived once from the reference tokenizer and checked against its pieces and vocabulary
// (comments give the pieces of the Split pre-tokenizer and the tokens). Both implementations must produce them.
const CASES: { name: string; text: string; ids: number[] }[] = [
  // U+FEFF is not whitespace (Rust's \s): it is the optional non-letter prefix of "import": "\uFEFF" + "import".
  { name: 'UTF-8 BOM', text: '\uFEFFimport os\r\n', ids: [3305, 475, 2709, 319] },
  { name: 'CRLF runs', text: 'a\r\n\r\nb', ids: [64, 881, 65] },
  // " 😀🎉" is one piece: " 😀" is a token, 🎉 falls apart into its three byte tokens.
  { name: 'emoji', text: 'x 😀🎉 y', ids: [87, 91416, 9468, 236, 231, 379] },
  { name: 'ZWJ emoji sequence', text: '👨‍👩‍👧', ids: [9468, 239, 101, 102470, 9468, 239, 102, 102470, 9468, 239, 100] },
  { name: 'astral letters', text: '𝔘𝔫𝔦', ids: [57352, 242, 246, 57352, 242, 104, 57352, 242, 99] },
  { name: 'CJK', text: '中文字符测试 鑫 龘', ids: [108891, 49491, 82805, 18630, 239, 104, 118047, 246] },
  // "    \t\t  \n\n\n" ends at the last newline; "  x" leaves one space before " x".
  { name: 'mixed whitespace run', text: '    \t\t  \n\n\n  x', ids: [257, 13854, 1432, 220, 865] },
  { name: 'long space run', text: ' '.repeat(40) + 'x', ids: [2623, 865] },
  { name: 'tabs before code', text: '\t\tfoo(bar);\n\t}\n', ids: [197, 197, 8134, 55730, 317, 197, 534] },
  { name: 'spaces around a newline', text: 'a  \n  b', ids: [64, 2355, 220, 293] },
  { name: 'digits in threes', text: 'n = 1234567', ids: [77, 284, 220, 4513, 10961, 22] },
  { name: 'Unicode numbers', text: '３４５ ٣٤٥٦ ½', ids: [34617, 46702, 44597, 220, 117413, 124079, 124043, 149, 99, 220, 27154] },
  { name: 'contractions', text: "I'm he'll THEY'RE don't", ids: [40, 2846, 568, 3358, 63593, 95253, 1541, 956] },
  { name: "contraction takes only 's", text: "'steve's CAN'T", ids: [596, 668, 588, 596, 20076, 17773] },
  { name: 'combining mark', text: 'e\u0301t\u00e9', ids: [68, 122095, 978] },
  // U+0085 is whitespace for Rust's regex but not JavaScript's \s; here it is the non-letter prefix of "a".
  { name: 'NEL and NBSP', text: '\u0085a\u00a0b', ids: [116360, 64, 115648] },
  { name: 'lone surrogate (encoded as U+FFFD)', text: '\ud800x', ids: [5809, 87] },
  { name: 'punctuation run with CRLF', text: '====== //!!!\r\n', ids: [46447, 443, 12340, 319] },
  { name: 'special-token look-alikes are text', text: '<|eot_id|> <|begin_of_text|>', ids: [27, 91, 68, 354, 851, 91, 29, 83739, 7413, 3659, 4424, 91, 29] },
  { name: 'chat header look-alike', text: '<|start_header_id|>user<|end_header_id|>\n\n', ids: [27, 91, 2527, 8932, 851, 91, 29, 882, 27, 91, 408, 8932, 851, 91, 1363] },
];

for (const implementation of ['fast', 'reference'] as const) {
  const tokenizer = loadTokenizer(undefined, implementation);

  test(`${implementation}: fixed ids for tricky text`, () => {
    for (const { name, text, ids } of CASES) {
      assert.deepEqual(tokenizer.encode(text), ids, name);
      assert.equal(tokenizer.count(text), ids.length, name);
    }
  });

  test(`${implementation}: decode round-trips (lone surrogates come back as U+FFFD)`, () => {
    for (const { name, text, ids } of CASES) assert.equal(tokenizer.decode(ids), text.replace('\ud800', '\uFFFD'), name);
    assert.equal(tokenizer.decode([]), '');
  });

  test(`${implementation}: special tokens become control ids only through encodeWithSpecialTokens`, () => {
    assert.deepEqual(tokenizer.encodeWithSpecialTokens('<|eot_id|> <|begin_of_text|>'), [128009, 220, 128000]);
    assert.deepEqual(tokenizer.encodeWithSpecialTokens('<|start_header_id|>user<|end_header_id|>\n\n'), [128006, 882, 128007, 271]);
    assert.deepEqual(tokenizer.encodeWithSpecialTokens('a<|eot_id'), [64, 27, 91, 68, 354, 851]);
    assert.equal(tokenizer.decode([128000, 9906, 128009]), '<|begin_of_text|>Hello<|eot_id|>');
  });

  test(`${implementation}: vocabulary facts`, () => {
    assert.equal(tokenizer.vocabSize, 128256);
    assert.equal(tokenizer.tokenId('<|eot_id|>'), 128009);
    assert.equal(tokenizer.tokenId('<|end_of_text|>'), 128001);
    assert.equal(tokenizer.tokenId('Ġthe'), 279);
    assert.equal(tokenizer.tokenId('ĠĠĠ'), 262);
    assert.equal(tokenizer.tokenId('not a token at all'), undefined);
  });
}

test('loadTokenizer picks the fast implementation for Llama 3 and says so', () => {
  assert.match(loadTokenizer().source, /tokenizer\.json \(fast BPE\)$/);
  assert.match(loadTokenizer(undefined, 'reference').source, /\(reference: asked for\)$/);
  assert.equal(loadTokenizer(), loadTokenizer(), 'loads are shared within a process');
});

test('a missing tokenizer file is a UserError naming it', () => {
  const path = '/nonexistent/prolong/tokenizer.json';
  assert.throws(() => loadTokenizer(path), (error) => error instanceof UserError && error.message.includes(path));
});
