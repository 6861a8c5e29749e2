/**
 * Llama 3's pre-tokenizer as a hand-written scanner (no regex): the character classes it tells apart, then the
 * scanner. Kept in one module on purpose: the scanner is the tokenizer's hot loop, and references across modules
 * compile to property loads through getters in CommonJS output.
 */

// Character classes, per code point, from a table filled in 256-code-point pages on first use (most text touches a
// handful of pages). The properties come from this JavaScript engine's Unicode tables, the same ones the reference
// tokenizer's regex uses.

/** Not a letter, number or whitespace (punctuation, symbols, marks, emoji, controls, lone surrogates). */
const OTHER = 0;
/** `\p{L}` */
const LETTER = 1;
/** `\p{N}` */
const NUMBER = 2;
/** Unicode White_Space other than CR and LF (Rust's `\s`: includes U+0085, excludes U+FEFF, unlike JavaScript's `\s`). */
const SPACE = 3;
/** `\r` or `\n` (also White_Space). */
const NEWLINE = 4;

type CharClass = typeof OTHER | typeof LETTER | typeof NUMBER | typeof SPACE | typeof NEWLINE;

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
const ASCII_CLASS: Uint8Array = fillPage(0).subarray(0, 128);

function classOf(codePoint: number): CharClass {
  const page = pages[codePoint >> PAGE_BITS] ?? fillPage(codePoint >> PAGE_BITS);
  return page[codePoint & (PAGE_SIZE - 1)] as CharClass;
}

/**
 * The Split regex of Llama 3's tokenizer.json that `nextPieceEnd` implements (with Rust-regex semantics:
 * leftmost-first alternation, `\s` = Unicode White_Space). Only tokenizers with exactly this pattern take the fast path.
 */
export const LLAMA3_SPLIT_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function classAt(codePoint: number): number {
  return codePoint < 128 ? ASCII_CLASS[codePoint]! : classOf(codePoint);
}

function width(codePoint: number): number {
  return codePoint > 0xffff ? 2 : 1;
}

/** End of the `\p{L}+` run starting at `j`. */
function scanLetters(text: string, j: number, n: number): number {
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c < 128) {
      if (ASCII_CLASS[c] !== LETTER) break;
      j++;
      continue;
    }
    const cp = text.codePointAt(j)!;
    if (classOf(cp) !== LETTER) break;
    j += width(cp);
  }
  return j;
}

/** End of `[^\s\p{L}\p{N}]+[\r\n]*` from `j` (the first char of the run already checked). */
function scanOtherThenNewlines(text: string, j: number, n: number): number {
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c < 128) {
      if (ASCII_CLASS[c] !== OTHER) break;
      j++;
      continue;
    }
    const cp = text.codePointAt(j)!;
    if (classOf(cp) !== OTHER) break;
    j += width(cp);
  }
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c !== 0x0a && c !== 0x0d) break;
    j++;
  }
  return j;
}

/**
 * End (exclusive, in UTF-16 units) of the pre-tokenized piece that starts at `i` (< text.length), following the
 * alternatives of LLAMA3_SPLIT_PATTERN in order. Pieces cover the text without gaps, so calling it from 0 with the
 * previous end walks all of them. Lone surrogates count as OTHER (as in a JavaScript `u` regex); no astral
 * character is a letter-prefix exception or whitespace, so whitespace runs are scanned by UTF-16 unit.
 */
export function nextPieceEnd(text: string, i: number): number {
  const n = text.length;
  const c = text.charCodeAt(i);

  // (?i:'s|'t|'re|'ve|'m|'ll|'d): ASCII case-insensitive, as the reference compiles it. (Rust's Oniguruma may also
  // fold U+017F 'ſ' to 's'; unverified here, and only "'ſ" differs.)
  if (c === 0x27 && i + 1 < n) {
    const c1 = text.charCodeAt(i + 1) | 0x20;
    if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) return i + 2;
    if (i + 2 < n) {
      const c2 = text.charCodeAt(i + 2) | 0x20;
      if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) return i + 3;
    }
  }

  const cp = c < 128 ? c : text.codePointAt(i)!;
  const cls = classAt(cp);
  const next = i + width(cp);

  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls === LETTER) return scanLetters(text, next, n);
  if ((cls === OTHER || cls === SPACE) && next < n) {
    const nextCp = text.codePointAt(next)!;
    if (classAt(nextCp) === LETTER) return scanLetters(text, next + width(nextCp), n);
  }

  // \p{N}{1,3}
  if (cls === NUMBER) {
    let j = next;
    for (let k = 1; k < 3 && j < n; k++) {
      const d = text.codePointAt(j)!;
      if (classAt(d) !== NUMBER) break;
      j += width(d);
    }
    return j;
  }

  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  if (cls === OTHER) return scanOtherThenNewlines(text, next, n);
  if (c === 0x20 && next < n) {
    const nextCp = text.codePointAt(next)!;
    if (classAt(nextCp) === OTHER) return scanOtherThenNewlines(text, next + width(nextCp), n);
  }

  // Whitespace run [i, j): \s*[\r\n]+ ends after its last CR/LF; else \s+(?!\S) leaves the last space for the
  // next piece (unless the run is one char or ends the text); else \s+.
  let j = i;
  let lastNewline = -1;
  while (j < n) {
    const d = text.charCodeAt(j);
    const dc = d < 128 ? ASCII_CLASS[d] : classOf(d);
    if (dc === NEWLINE) lastNewline = j;
    else if (dc !== SPACE) break;
    j++;
  }
  if (lastNewline >= 0) return lastNewline + 1;
  if (j === n || j - i === 1) return j;
  return j - 1;
}

/** All pieces of `text` (for tests and tools; the tokenizer walks them with `nextPieceEnd`). */
export function preTokenize(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length;) {
    const end = nextPieceEnd(text, i);
    pieces.push(text.slice(i, end));
    i = end;
  }
  return pieces;
}
