/**
 * Keeps the answer's file paths real. Once the answer has begun writing a path of the packed repository (a word that
 * holds a '/' and starts some packed path), the next token must go on with a packed path, or end the word on a whole
 * file's (not a folder's: a small model then escapes a path it cannot spell by ending it, "src/text/ B."); a word that is a top folder's name ("src") cannot go on into a folder the pack does not
 * have. The same prefix-trie constraint GENRE (De Cao et al., 2021) puts on generated entity names: the model still
 * chooses the file, by its own logits among the paths that exist, so a small model that found the right file can no
 * longer misspell it. Words that are not paths are left alone, and so is a path the model wants with confidence that
 * the pack does not hold (a file to create, a glob, a command's argument): when the best token the guard allows is
 * RELEASE_MARGIN below the model's best, the word goes free. Only for models that ask for it (their sidecar's
 * generation.guardPaths, the demo model's): a near name the pack lacks may be meant (a new file beside a packed one),
 * and a model that copies well loses more by the guard than it gains.
 */
import { StreamDecoder } from '../tokenizer/streamDecoder';
import type { TextTokenizer } from '../tokenizer/types';

const REPLACEMENT = '\uFFFD';
/** Characters that end a word: a path is quoted, bracketed or followed by one of these (or by '.' at a sentence's end). */
const BOUNDARY = /[\s`'"()[\]{}<>,;:*|=#!?]/;
/**
 * Text that ends the word before it: a character that cannot be part of a path, or periods not followed by one that
 * can (a sentence's end: "in src/a.py." but not "src/a.py.bak").
 */
const ENDS_WORD = /^(?:[^A-Za-z0-9_/.-]|\.+(?![A-Za-z0-9_/-]))/;
/**
 * Nats (a logit's units) the guard's best token may fall below the model's best before the guard lets the word go:
 * most near misses of a small model are within it, a path written with confidence that the pack lacks is not. Run O,
 * 50 questions on a generated Python repository: 16 right never letting go, 14 at 8 and at 6, 12 at 4, 7 at 2.
 */
export const RELEASE_MARGIN = 8;

/** Every token's text, indexed for the guard; built once per tokenizer (about a third of a second for Llama 3's). */
export class TokenTexts {
  /** Ids by their text (several ids can share one). */
  readonly idsByText = new Map<string, number[]>();
  /** Texts sorted, for "every token that starts with X". */
  readonly sortedTexts: string[];
  /** Tokens with a '/' before their first boundary: the only ones that take a folder's name into a path. */
  readonly slashed: number[] = [];
  /** 1 for the tokens that end the word before them (ENDS_WORD): what may follow a whole path. */
  readonly endsWord: Uint8Array;
  /** Tokens that decode alone to part of a character: the bytes of a non-ASCII character in a path. */
  readonly partial: number[] = [];
  readonly textOf: (string | undefined)[];
  readonly longest: number;

  constructor(tokenizer: TextTokenizer, vocabSize: number, excluded: ReadonlySet<number>) {
    this.textOf = new Array<string | undefined>(vocabSize);
    this.endsWord = new Uint8Array(vocabSize);
    // Each token decoded after an anchor: SentencePiece decoders (Llama 2's, Mistral's) drop a leading space at the start.
    const anchor = tokenizer.encode('a');
    const anchorText = tokenizer.decode(anchor);
    let longest = 0;
    for (let id = 0; id < vocabSize; id++) {
      if (excluded.has(id)) continue;
      const text = tokenizer.decode([...anchor, id]).slice(anchorText.length);
      if (text.includes(REPLACEMENT)) { this.partial.push(id); continue; }
      if (text.length === 0) continue;
      this.textOf[id] = text;
      const same = this.idsByText.get(text);
      if (same) same.push(id); else this.idsByText.set(text, [id]);
      if (wordPart(text).includes('/')) this.slashed.push(id);
      if (ENDS_WORD.test(text)) this.endsWord[id] = 1;
      longest = Math.max(longest, text.length);
    }
    this.longest = longest;
    this.sortedTexts = [...this.idsByText.keys()].sort(compare);
  }

  /** Ids of every token whose text starts with `prefix` and passes `keep`. */
  startingWith(prefix: string, keep: (text: string) => boolean, into: Set<number>): void {
    for (let at = lowerBound(this.sortedTexts, prefix); at < this.sortedTexts.length; at++) {
      const text = this.sortedTexts[at]!;
      if (!text.startsWith(prefix)) break;
      if (keep(text)) for (const id of this.idsByText.get(text)!) into.add(id);
    }
  }
}

/** What the next token may be: only `ids` (and, with `orEnding`, any token that ends the word), or anything but `ids`. */
export type CitationConstraint = { only: Set<number>; orEnding: boolean } | { except: Set<number> } | undefined;

export class CitationGuard {
  /** The packed files, sorted. */
  private readonly paths: string[];
  private readonly whole: Set<string>;
  /** The answer's text since its last boundary character. */
  private word = '';
  /** The model chose a path the pack does not hold: free until the word ends. */
  private released = false;
  private readonly decoder: StreamDecoder;
  private texts: TokenTexts | undefined;

  /**
   * `vocabulary`: the token texts, asked for at the first step that writes a path of the pack (building them costs
   * about a third of a second, once per engine); `stopIds`: the tokens that end the answer, allowed once a path is whole;
   * `releaseMargin`: see RELEASE_MARGIN.
   */
  constructor(files: Iterable<string>, private readonly vocabulary: () => TokenTexts, tokenizer: TextTokenizer,
    private readonly stopIds: ReadonlySet<number>, private readonly releaseMargin = RELEASE_MARGIN) {
    this.whole = new Set([...files].filter((file) => file.length > 0));
    this.paths = [...this.whole].sort(compare);
    this.decoder = new StreamDecoder(tokenizer);
  }

  /** Follows the answer, token by token (through a stream decoder: the text a token adds depends on the one before). */
  advance(token: number): void {
    this.advanceText(this.stopIds.has(token) ? ' ' : this.decoder.push(token));
  }

  /** Follows text written into the answer (an assistant prefix). */
  advanceText(text: string): void {
    for (const char of text) {
      if (BOUNDARY.test(char)) { this.word = ''; this.released = false; } else this.word += char;
    }
  }

  /** `logits` as the guard leaves them for the next token: masked while a packed path is being written. */
  apply(logits: Float32Array): Float32Array {
    if (this.released) return logits;
    const constraint = this.constraint();
    if (!constraint) return logits;
    const masked = constrainedLogits(logits, constraint, this.tokens);
    if (masked !== logits && largest(logits) - largest(masked) > this.releaseMargin) {
      this.released = true;
      return logits;
    }
    return masked;
  }

  private get tokens(): TokenTexts {
    this.texts ??= this.vocabulary();
    return this.texts;
  }

  /** The constraint on the next token, from the text so far. */
  constraint(): CitationConstraint {
    const word = this.word;
    if (word.length === 0 || this.released) return undefined;
    if (!word.includes('/')) return this.intoFolder(word);
    // a whole path and then a period (or more): maybe the sentence's end
    const beforePeriods = word.replace(/\.+$/, '');
    const sentenceEnd = beforePeriods !== word && this.whole.has(beforePeriods);
    const [first, end] = this.startingWith(word);
    if (first === end && !sentenceEnd) return undefined; // not a packed path: left alone
    const orEnding = sentenceEnd || this.whole.has(word);
    const only = new Set<number>(orEnding ? this.stopIds : []);
    let previous = '';
    for (let i = first; i < end; i++) {
      const rest = this.paths[i]!.slice(word.length);
      if (rest.length === 0) continue;
      // a shorter prefix shared with the path before was looked up then
      for (let length = sharedLength(previous, rest) + 1; length <= Math.min(rest.length, this.tokens.longest); length++) {
        for (const id of this.tokens.idsByText.get(rest.slice(0, length)) ?? []) only.add(id);
      }
      previous = rest;
      // the path whole, then what ends the word, in one token ("py`", "md.")
      if (rest.length < this.tokens.longest) {
        this.tokens.startingWith(rest, (text) => ENDS_WORD.test(text.slice(rest.length)), only);
      }
      // a non-ASCII character next: the tokens that spell it byte by byte (the decoder holds them until it is whole)
      if (rest.charCodeAt(0) > 0x7e) for (const id of this.tokens.partial) only.add(id);
    }
    return { only, orEnding };
  }

  /** A word without '/' that is a top folder's name: a '/' after it must go on into a packed path. */
  private intoFolder(word: string): CitationConstraint {
    const [first, end] = this.startingWith(`${word}/`);
    if (first === end) return undefined;
    const except = new Set<number>();
    for (const id of this.tokens.slashed) {
      const text = this.tokens.textOf[id]!;
      if (!this.startsPath(word + wordPart(text)) && !this.endsOnPath(word + text)) except.add(id);
    }
    return { except };
  }

  private startsPath(prefix: string): boolean {
    const at = lowerBound(this.paths, prefix);
    return at < this.paths.length && this.paths[at]!.startsWith(prefix);
  }

  /** Whether `written` holds a whole packed path, then what ends a word. */
  private endsOnPath(written: string): boolean {
    for (let at = 1; at < written.length; at++) {
      if (ENDS_WORD.test(written.slice(at)) && this.whole.has(written.slice(0, at))) return true;
    }
    return false;
  }

  /** The range of sorted paths that start with `prefix`. */
  private startingWith(prefix: string): [number, number] {
    const first = lowerBound(this.paths, prefix);
    let end = first;
    while (end < this.paths.length && this.paths[end]!.startsWith(prefix)) end++;
    return [first, end];
  }
}

/** `logits` with the constraint applied (a copy), or `logits` itself when there is none or nothing would be left. */
export function constrainedLogits(logits: Float32Array, constraint: CitationConstraint, texts: TokenTexts): Float32Array {
  if (!constraint) return logits;
  if ('except' in constraint) {
    if (constraint.except.size === 0) return logits;
    const copy = Float32Array.from(logits);
    for (const id of constraint.except) if (id < copy.length) copy[id] = -Infinity;
    return copy;
  }
  if (constraint.only.size === 0 && !constraint.orEnding) return logits; // no token spells the rest: leave it free
  const copy = new Float32Array(logits.length).fill(-Infinity);
  if (constraint.orEnding) {
    const ending = texts.endsWord;
    for (let id = 0; id < copy.length && id < ending.length; id++) if (ending[id]) copy[id] = logits[id]!;
  }
  for (const id of constraint.only) if (id < copy.length) copy[id] = logits[id]!;
  return copy;
}

function largest(values: Float32Array): number {
  let best = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > best) best = values[i]!;
  return best;
}

/** A token's text up to its first boundary character. */
function wordPart(text: string): string {
  const at = text.search(BOUNDARY);
  return at < 0 ? text : text.slice(0, at);
}

function sharedLength(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Code-unit order, the order `startsWith` ranges follow. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index of `sorted` whose value is not below `value`. */
function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1; else high = middle;
  }
  return low;
}
