/**
 * The character classes the Llama 3 pre-tokenizer regex tells apart, per code point, from a table filled in
 * 256-code-point pages on first use (most text touches a handful of pages). The properties come from this
 * JavaScript engine's own Unicode tables (the same ones the reference tokenizer's regex uses).
 */

/** Not a letter, number or whitespace (punctuation, symbols, marks, emoji, controls, lone surrogates). */
export const OTHER = 0;
/** `\p{L}` */
export const LETTER = 1;
/** `\p{N}` */
export const NUMBER = 2;
/** Unicode White_Space other than CR and LF (Rust's `\s`: includes U+0085, excludes U+FEFF, unlike JavaScript's `\s`). */
export const SPACE = 3;
/** `\r` or `\n` (also White_Space). */
export const NEWLINE = 4;

export type CharClass = typeof OTHER | typeof LETTER | typeof NUMBER | typeof SPACE | typeof NEWLINE;

const PAGE_BITS = 8;
const PAGE_SIZE = 1 << PAGE_BITS;
const pages: (Uint8Array | undefined)[] = new Array(0x110000 >> PAGE_BITS);

const LETTER_RE = /^\p{L}$/u;
const NUMBER_RE = /^\p{N}$/u;
const SPACE_RE = /^\p{White_Space}$/u;

function classify(codePoint: number): CharClass {
  if (codePoint === 0x0a || codePoint === 0x0d) return NEWLINE;
  // Surrogate code points (lone surrogates in a JS string) have no letter/number/space property.
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return OTHER;
  const char = String.fromCodePoint(codePoint);
  if (LETTER_RE.test(char)) return LETTER;
  if (NUMBER_RE.test(char)) return NUMBER;
  if (SPACE_RE.test(char)) return SPACE;
  return OTHER;
}

function fillPage(index: number): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  const base = index << PAGE_BITS;
  for (let i = 0; i < PAGE_SIZE; i++) page[i] = classify(base + i);
  pages[index] = page;
  return page;
}

/** ASCII classes, read without the page lookup on the hot path. */
export const ASCII_CLASS: Uint8Array = fillPage(0).subarray(0, 128);

export function classOf(codePoint: number): CharClass {
  const page = pages[codePoint >> PAGE_BITS] ?? fillPage(codePoint >> PAGE_BITS);
  return page[codePoint & (PAGE_SIZE - 1)] as CharClass;
}
