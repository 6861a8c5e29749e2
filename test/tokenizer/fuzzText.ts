/**
 * Seeded random text that stresses a tokenizer's pre-tokenizer and merges: ASCII and code, whitespace runs with
 * CR/LF, Unicode letters/numbers/marks, emoji (astral), BOM, U+0085 and other Unicode spaces, lone surrogates,
 * contractions, special-token look-alikes, and long runs that exercise long-piece merging.
 */

import { seededRandom } from '../../engine/runtime/sampler';

export { seededRandom };

const FRAGMENTS = [
  'const x = 1;', 'function foo(a, b) {', '}', 'return a+b;', 'if (x === null) {', '=>', '!==', '//', '/* c */', '#include <stdio.h>',
  'def f(self):', 'print("hi")', 'x += 1', '0x1F', '3.14159', '1234567890', '100_000', 'i++', '->', '::', '&&', '||',
  "don't", "I'm", "they're", "we've", "you'll", "he'd", "it's", "'S", "'T", "'RE", "'Ve", "'LL", "'D", "'M", "O'Neil", "''", "'",
  '<|eot_id|>', '<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_3|>', '<|', '|>', '<|eot_id',
  'héllo', 'naïve', 'Straße', 'ΑΒΓ αβγ', 'Привет', 'مرحبا', 'שלום', '日本語のテキスト', '中文字符', '한국어', 'ไทย', 'हिन्दी',
  'e\u0301', 'a\u0308\u0304', '\u0301', '٣٤٥', '½', '²', 'Ⅻ', '𝟙𝟚𝟛', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𐐷', 'ſ', "'ſ",
  '😀', '🎉🎉', '👨‍👩‍👧', '🇩🇪', '✓', '→', '€', '©', '\u200d', '\u200b', '\u00ad',
  '\uFEFF', '\u0085', '\u00a0', '\u2028', '\u2029', '\u3000', '\u1680', '\u2009', '\u000b', '\u000c', '\u001c', '\u001f', '\u0000', '\u007f',
  '\ud800', '\udfff', '\udc00x', 'a\ud83d',
  ' ', '  ', '    ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r', '\r\n\r\n', ' \n', '\n ', '  \n  ', '\t\n', '\n\t\t',
];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n\r.,;:!?\'"()[]{}<>|=+-*/\\_#@$%^&~`';

function longRun(random: () => number): string {
  const units = ['a', 'ab', ' ', '=', '-', '\n', '\t', '0', 'é', '😀', 'xy ', '.', '*', '中'];
  const unit = units[Math.floor(random() * units.length)]!;
  return unit.repeat(20 + Math.floor(random() * 400));
}

/** One random string of up to about `maxParts` fragments. */
export function fuzzString(random: () => number, maxParts = 24): string {
  const parts: string[] = [];
  const count = 1 + Math.floor(random() * maxParts);
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.55) parts.push(FRAGMENTS[Math.floor(random() * FRAGMENTS.length)]!);
    else if (roll < 0.9) {
      let word = '';
      const length = 1 + Math.floor(random() * 8);
      for (let k = 0; k < length; k++) word += ALPHABET[Math.floor(random() * ALPHABET.length)];
      parts.push(word);
    } else if (roll < 0.97) {
      // any code point, BMP or astral, surrogates included
      const codePoint = Math.floor(random() * (random() < 0.7 ? 0x10000 : 0x110000));
      parts.push(codePoint >= 0xd800 && codePoint <= 0xdfff ? String.fromCharCode(codePoint) : String.fromCodePoint(codePoint));
    } else parts.push(longRun(random));
  }
  return parts.join('');
}

export function fuzzStrings(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => fuzzString(random));
}
