import { BpeMerges } from './bpe';
import { byteLevelString } from './byteLevel';
import { compileBpe, type CompiledBpe } from './compiledBpe';
import { fastPathProblem, type BpeTokenizerJson } from './fastPath';
import { nextPieceEnd as importedNextPieceEnd } from './llama3PreTokenizer';
import { HASH_START as IMPORTED_HASH_START, NOT_FOUND as IMPORTED_NOT_FOUND, PieceTable } from './pieceTable';
import type { TextTokenizer } from './types';

export { fastPathProblem, type BpeTokenizerJson } from './fastPath';

// Module-local copies of what the hot loops use: in CommonJS output (tsx, bundles) an imported binding is read
// through a getter at every use.
const nextPieceEnd = importedNextPieceEnd;
const NOT_FOUND = IMPORTED_NOT_FOUND;
const HASH_START = IMPORTED_HASH_START;

/** Text that takes every branch of the scanner and the merging code. */
const WARM_UP_TEXT = "\uFEFFimport os\r\n\tdef f(x):  return x+1 # it's they'RE we'll I'M 123456 ٣٤ ½\n\n  \n"
  + 'naïve Straße 中文字符 😀🎉 𝔘𝔫 e\u0301 \u0085a\u00a0b \ud800x == !== ;\r\n\r\n   end  ' + 'ab'.repeat(40) + ' \u3000\u2009x';

/** Pieces longer than this (long runs of one character class) are merged each time, not cached. */
const LONGEST_CACHED_PIECE = 256;
/** Cached pieces beyond the vocabulary; past this the cache starts over (bounds memory: ~40-70 bytes a piece). */
const CACHE_LIMIT = 1 << 18;

/**
 * Exact byte-level BPE for Llama 3-style tokenizer.json files: a hand-written pre-tokenizer scanner, each piece
 * looked up (without slicing) in one table holding the vocabulary's whole-text tokens (`ignore_merges`) and a
 * cache of merged pieces (BPE never merges across pieces, so a piece always gets the same ids); merges by rank
 * for the rest.
 */
export class FastBpeTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  /** The vocabulary's whole-text tokens only: the piece cache starts over from a copy of it. */
  private readonly vocabTable: PieceTable;
  /** The vocabulary plus merged pieces seen so far. */
  private pieces: PieceTable;
  private readonly merges: BpeMerges;
  private readonly ignoreMerges: boolean;
  private readonly tokenBytes: Uint8Array;
  private readonly tokenOffsets: Int32Array;
  private readonly known: Uint8Array;
  private readonly addedIds = new Map<string, number>();
  /** Finds added tokens, longest first at each position. */
  private readonly addedPattern: RegExp | undefined;
  private tokenIdsByByteLevel: Map<string, number> | undefined;
  /** Id of each one- or two-character ASCII piece that is one vocabulary token, else -1 (index: c, or 128 + (c0 << 7 | c1)). */
  private readonly shortIds = new Int32Array(128 + 128 * 128).fill(-1);
  private work = new Int32Array(1024);
  /** Running hash of the last word `asciiWordEnd` found. */
  private wordHash = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(readonly source: string, compiled: CompiledBpe) {
    this.vocabSize = compiled.vocabSize;
    this.ignoreMerges = compiled.ignoreMerges;
    this.vocabTable = new PieceTable(compiled.pieces);
    this.pieces = this.vocabTable.clone();
    for (let c0 = 0; c0 < 128; c0++) {
      const one = String.fromCharCode(c0);
      const id = this.vocabTable.find(one, 0, 1);
      if (id >= 0) this.shortIds[c0] = id;
      for (let c1 = 0; c1 < 128; c1++) {
        const pairId = this.vocabTable.find(one + String.fromCharCode(c1), 0, 2);
        if (pairId >= 0) this.shortIds[128 + ((c0 << 7) | c1)] = pairId;
      }
    }
    this.merges = new BpeMerges(compiled.byteIds, compiled.merges, compiled.mergedByRank);
    this.tokenBytes = compiled.tokenBytes;
    this.tokenOffsets = compiled.tokenOffsets;
    this.known = compiled.known;
    for (const token of compiled.addedTokens) this.addedIds.set(token.content, token.id);
    const contents = [...this.addedIds.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
    // Type feedback for every branch of the hot loops before the JIT optimizes them on real text (otherwise each
    // newly met branch deoptimizes and recompiles them during the first files).
    this.count(WARM_UP_TEXT);
    this.encode(WARM_UP_TEXT);
  }

  /** Merged pieces held in the cache (for diagnostics and tests). */
  get cachedPieces(): number {
    return this.pieces.size - this.vocabTable.size;
  }

  /** Builds it from a parsed tokenizer.json (throws when `fastPathProblem` finds one). */
  static fromJson(source: string, json: BpeTokenizerJson): FastBpeTokenizer {
    const problem = fastPathProblem(json);
    if (problem) throw new Error(`The fast tokenizer cannot run ${source}: ${problem}.`);
    return new FastBpeTokenizer(source, compileBpe(json));
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (let i = 0, n = text.length; i < n;) {
      let end = this.asciiWordEnd(text, i, n);
      let value: number;
      if (end > 0) value = this.pieces.findHashed(text, i, end, this.wordHash);
      else {
        end = nextPieceEnd(text, i);
        value = this.valueOf(text, i, end);
      }
      if (value !== NOT_FOUND) this.pieces.pushIds(value, ids);
      else {
        const count = this.mergePiece(text, i, end);
        for (let k = 0; k < count; k++) ids.push(this.work[k]!);
      }
      i = end;
    }
    return ids;
  }

  count(text: string): number {
    let count = 0;
    for (let i = 0, n = text.length; i < n;) {
      let end = this.asciiWordEnd(text, i, n);
      let value: number;
      if (end > 0) value = this.pieces.findHashed(text, i, end, this.wordHash);
      else {
        end = nextPieceEnd(text, i);
        value = this.valueOf(text, i, end);
      }
      count += value === NOT_FOUND ? this.mergePiece(text, i, end) : value >= 0 ? 1 : this.pieces.countOf(value);
      i = end;
    }
    return count;
  }

  /**
   * The commonest pieces, ASCII letters with an optional leading space ("foo", " bar"), scanned and hashed in one
   * pass: their end (exclusive) with the hash in `wordHash`, or -1 for every other piece (the scanner handles it).
   * The run must end at an ASCII non-letter or the end of the text; a non-ASCII character might be a letter.
   */
  private asciiWordEnd(text: string, i: number, n: number): number {
    let c = text.charCodeAt(i);
    let state = HASH_START;
    let j = i;
    if (c === 0x20) {
      if (i + 1 >= n) return -1;
      state = Math.imul(state ^ c, 0x01000193);
      c = text.charCodeAt(++j);
    }
    if (((c | 0x20) - 0x61) >>> 0 > 25) return -1;
    do {
      state = Math.imul(state ^ c, 0x01000193);
      if (++j >= n) break;
      c = text.charCodeAt(j);
    } while (((c | 0x20) - 0x61) >>> 0 <= 25);
    if (j < n && c >= 128) return -1;
    this.wordHash = state;
    return j;
  }

  encodeWithSpecialTokens(text: string): number[] {
    if (!this.addedPattern) return this.encode(text);
    const ids: number[] = [];
    let last = 0;
    for (const match of text.matchAll(this.addedPattern)) {
      if (match.index > last) for (const id of this.encode(text.slice(last, match.index))) ids.push(id);
      ids.push(this.addedIds.get(match[0])!);
      last = match.index + match[0].length;
    }
    if (last < text.length) for (const id of this.encode(text.slice(last))) ids.push(id);
    return ids;
  }

  countWithSpecialTokens(text: string): number {
    if (!this.addedPattern) return this.count(text);
    let count = 0;
    let last = 0;
    for (const match of text.matchAll(this.addedPattern)) {
      if (match.index > last) count += this.count(text.slice(last, match.index));
      count++;
      last = match.index + match[0].length;
    }
    if (last < text.length) count += this.count(text.slice(last));
    return count;
  }

  decode(ids: readonly number[]): string {
    const offsets = this.tokenOffsets;
    let length = 0;
    for (const id of ids) if (this.isKnown(id)) length += offsets[id + 1]! - offsets[id]!;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const id of ids) {
      if (!this.isKnown(id)) continue; // unknown ids are left out, as Hugging Face's decode does
      bytes.set(this.tokenBytes.subarray(offsets[id]!, offsets[id + 1]!), at);
      at += offsets[id + 1]! - offsets[id]!;
    }
    return this.decoder.decode(bytes);
  }

  tokenId(token: string): number | undefined {
    const added = this.addedIds.get(token);
    if (added !== undefined) return added;
    // Vocabulary tokens are spelled in the byte-level alphabet; the map is built on first use (rarely needed).
    if (!this.tokenIdsByByteLevel) {
      this.tokenIdsByByteLevel = new Map();
      for (let id = 0; id < this.vocabSize; id++) {
        if (this.isKnown(id)) this.tokenIdsByByteLevel.set(byteLevelString(this.tokenBytes, this.tokenOffsets[id]!, this.tokenOffsets[id + 1]!), id);
      }
      for (const [content, id] of this.addedIds) this.tokenIdsByByteLevel.set(content, id);
    }
    return this.tokenIdsByByteLevel.get(token);
  }

  /** The table value of a piece (NOT_FOUND: not there): one- and two-character ASCII tokens come from a direct table. */
  private valueOf(text: string, start: number, end: number): number {
    const length = end - start;
    if (length <= 2) {
      const c0 = text.charCodeAt(start);
      const c1 = length === 2 ? text.charCodeAt(start + 1) : 0;
      if ((c0 | c1) < 128) {
        const id = this.shortIds[length === 1 ? c0 : 128 + ((c0 << 7) | c1)]!;
        if (id >= 0) return id;
      }
    }
    return this.pieces.find(text, start, end);
  }

  private isKnown(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.vocabSize && this.known[id] === 1;
  }

  /** Ids of text[start, end), a piece not in the table, into `this.work`; caches them; returns how many. */
  private mergePiece(text: string, start: number, end: number): number {
    const length = end - start;
    if (this.work.length < length * 3) this.work = new Int32Array(length * 3);
    let count = -1;
    if (this.ignoreMerges && hasLoneSurrogate(text, start, end)) {
      // Lone surrogates are encoded as U+FFFD, so the piece may still be one whole vocabulary token.
      const wellFormed = this.decoder.decode(new TextEncoder().encode(text.slice(start, end)));
      const value = this.pieces.find(wellFormed, 0, wellFormed.length);
      if (value >= 0) {
        this.work[0] = value;
        count = 1;
      }
    }
    if (count < 0) count = this.merges.mergeText(text, start, end, this.work);
    if (length <= LONGEST_CACHED_PIECE) {
      if (this.cachedPieces >= CACHE_LIMIT) this.pieces = this.vocabTable.clone();
      this.pieces.add(text, start, end, this.work, count);
    }
    return count;
  }
}

function hasLoneSurrogate(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = k + 1 < end ? text.charCodeAt(k + 1) : 0;
    if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return true;
    k++;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
