import { BpeMerges } from './bpe';
import { BYTE_TO_CHAR, byteLevelString, tokenBytes } from './byteLevel';
import { LLAMA3_SPLIT_PATTERN, nextPieceEnd } from './llama3PreTokenizer';
import type { TextTokenizer } from './types';

/** The parts of a tokenizer.json the fast path reads (everything else must be absent or neutral: see `fastPathProblem`). */
export interface BpeTokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean; single_word?: boolean; lstrip?: boolean; rstrip?: boolean; normalized?: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
  model?: {
    type?: string;
    vocab?: Record<string, number> | unknown[];
    merges?: (string | [string, string])[];
    dropout?: number | null;
    unk_token?: string | null;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why the fast path cannot run this tokenizer.json exactly (undefined: it can). It covers byte-level BPE with
 * Llama 3's Split pre-tokenizer: no normalizer, Sequence[Split(LLAMA3_SPLIT_PATTERN, Isolated), ByteLevel(no regex,
 * no prefix space)], a plain BPE model over the full byte alphabet, and added tokens without strip/word options.
 */
export function fastPathProblem(json: BpeTokenizerJson): string | undefined {
  if (json.normalizer !== null && json.normalizer !== undefined) return 'it has a normalizer';
  const pre = json.pre_tokenizer;
  const steps = isObject(pre) && pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? pre.pretokenizers as unknown[] : undefined;
  const split = steps?.[0];
  const byteLevel = steps?.[1];
  if (steps?.length !== 2 || !isObject(split) || !isObject(byteLevel)) return 'its pre-tokenizer is not Sequence[Split, ByteLevel]';
  if (split.type !== 'Split' || !isObject(split.pattern) || split.pattern.Regex !== LLAMA3_SPLIT_PATTERN
    || split.behavior !== 'Isolated' || split.invert === true) return 'its Split pre-tokenizer is not Llama 3\'s';
  if (byteLevel.type !== 'ByteLevel' || byteLevel.use_regex !== false || byteLevel.add_prefix_space === true) {
    return 'its ByteLevel pre-tokenizer splits or adds a prefix space';
  }
  if (!isObject(json.decoder) || json.decoder.type !== 'ByteLevel') return 'its decoder is not ByteLevel';
  const model = json.model;
  if (!model || model.type !== 'BPE') return 'its model is not BPE';
  if (!model.vocab || Array.isArray(model.vocab) || !Array.isArray(model.merges)) return 'its BPE model has no vocab map or merges list';
  if (model.dropout || model.continuing_subword_prefix || model.end_of_word_suffix || model.byte_fallback) {
    return 'its BPE model uses dropout, subword prefixes/suffixes or byte fallback';
  }
  for (const char of BYTE_TO_CHAR) if (!(char in model.vocab)) return 'its vocabulary lacks a byte-level token for every byte';
  for (const token of json.added_tokens ?? []) {
    if (token.single_word || token.lstrip || token.rstrip) return `its added token ${token.content} uses single_word/lstrip/rstrip`;
    if (token.content.length === 0) return 'it has an empty added token';
  }
  return undefined;
}

/** Pieces cached with their ids; past this many the cache starts over (bounds memory on huge trees). */
const CACHE_LIMIT = 1 << 18;

/**
 * Exact byte-level BPE for Llama 3-style tokenizer.json files: a hand-written pre-tokenizer scanner, whole pieces
 * looked up in the vocabulary first (`ignore_merges`, which Llama 3 sets), merges by rank otherwise, and ids cached
 * per piece (BPE never merges across pieces, so a piece always gets the same ids).
 */
export class FastBpeTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  /** Byte-level token string -> id (the vocabulary as written in the file, plus added tokens). */
  private readonly idByToken = new Map<string, number>();
  /** Text of each single-token piece -> id, for pieces that are whole vocabulary entries. */
  private readonly idByPieceText = new Map<string, number>();
  private readonly cache = new Map<string, readonly number[]>();
  private readonly bytesById: (Uint8Array | undefined)[];
  private readonly merges: BpeMerges;
  private readonly ignoreMerges: boolean;
  /** Added-token contents -> id, and a pattern that finds them (longest first at each position). */
  private readonly addedIds = new Map<string, number>();
  private readonly addedPattern: RegExp | undefined;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(readonly source: string, json: BpeTokenizerJson) {
    const problem = fastPathProblem(json);
    if (problem) throw new Error(`FastBpeTokenizer cannot run ${source}: ${problem}`);
    const model = json.model!;
    const vocab = model.vocab as Record<string, number>;
    this.ignoreMerges = model.ignore_merges === true;

    let maxId = -1;
    const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (const [token, id] of Object.entries(vocab)) {
      this.idByToken.set(token, id);
      if (id > maxId) maxId = id;
    }
    for (const token of json.added_tokens ?? []) if (token.id > maxId) maxId = token.id;
    this.vocabSize = maxId + 1;

    this.bytesById = new Array(this.vocabSize);
    for (const [token, id] of this.idByToken) {
      const bytes = tokenBytes(token);
      this.bytesById[id] = bytes;
      if (!bytes || !this.ignoreMerges) continue;
      let text: string;
      try {
        text = strictDecoder.decode(bytes);
      } catch {
        continue; // part of a UTF-8 sequence: never a whole piece
      }
      this.idByPieceText.set(text, id);
    }

    const byteIds = new Int32Array(256);
    BYTE_TO_CHAR.forEach((char, byte) => { byteIds[byte] = vocab[char]!; });
    const pairs: [number, number, number][] = [];
    for (const merge of model.merges!) {
      const [left, right] = typeof merge === 'string' ? splitMerge(merge) : merge;
      const leftId = vocab[left];
      const rightId = vocab[right];
      const mergedId = vocab[left + right];
      if (leftId === undefined || rightId === undefined || mergedId === undefined) {
        throw new Error(`FastBpeTokenizer: merge "${left} ${right}" in ${source} names a token missing from the vocabulary`);
      }
      pairs.push([leftId, rightId, mergedId]);
    }
    this.merges = new BpeMerges(byteIds, pairs, this.vocabSize);

    for (const token of json.added_tokens ?? []) {
      this.addedIds.set(token.content, token.id);
      this.idByToken.set(token.content, token.id);
      this.bytesById[token.id] = this.encoder.encode(token.content);
    }
    const contents = [...this.addedIds.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (let i = 0, n = text.length; i < n;) {
      const end = nextPieceEnd(text, i);
      const piece = text.slice(i, end);
      const id = this.ignoreMerges ? this.idByPieceText.get(piece) : undefined;
      if (id !== undefined) ids.push(id);
      else for (const pieceId of this.pieceIds(piece)) ids.push(pieceId);
      i = end;
    }
    return ids;
  }

  count(text: string): number {
    let count = 0;
    for (let i = 0, n = text.length; i < n;) {
      const end = nextPieceEnd(text, i);
      const piece = text.slice(i, end);
      count += this.ignoreMerges && this.idByPieceText.has(piece) ? 1 : this.pieceIds(piece).length;
      i = end;
    }
    return count;
  }

  encodeWithSpecialTokens(text: string): number[] {
    if (!this.addedPattern) return this.encode(text);
    const ids: number[] = [];
    let last = 0;
    for (const match of text.matchAll(this.addedPattern)) {
      if (match.index > last) ids.push(...this.encode(text.slice(last, match.index)));
      ids.push(this.addedIds.get(match[0])!);
      last = match.index + match[0].length;
    }
    if (last < text.length) ids.push(...this.encode(text.slice(last)));
    return ids;
  }

  decode(ids: readonly number[]): string {
    let length = 0;
    for (const id of ids) length += this.bytesById[id]?.length ?? 0;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const id of ids) {
      const tokenBytes = this.bytesById[id];
      if (!tokenBytes) continue; // unknown ids are left out, as Hugging Face's decode does
      bytes.set(tokenBytes, at);
      at += tokenBytes.length;
    }
    return this.decoder.decode(bytes);
  }

  tokenId(token: string): number | undefined {
    return this.idByToken.get(token);
  }

  /** Ids of a piece that is not one whole vocabulary entry: from the cache, else merged. */
  private pieceIds(piece: string): readonly number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const bytes = this.encoder.encode(piece);
    // Lone surrogates were written as U+FFFD above, so that spelling may still be one vocabulary entry.
    const whole = this.ignoreMerges ? this.idByToken.get(byteLevelString(bytes)) : undefined;
    const ids = whole !== undefined ? [whole] : this.merges.merge(bytes);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    // A flat copy as key: a slice of a large file would keep the whole file alive.
    this.cache.set(piece.length > 12 ? Buffer.from(piece, 'utf16le').toString('utf16le') : piece, ids);
    return ids;
  }
}

/** A merges entry "left right" (byte-level tokens never contain a space). */
function splitMerge(merge: string): [string, string] {
  const space = merge.indexOf(' ');
  return [merge.slice(0, space), merge.slice(space + 1)];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
