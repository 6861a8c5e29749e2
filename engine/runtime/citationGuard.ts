/**
 * Keeps the answer's file paths real. Once the answer has begun writing a path of the packed repository (a word that
 * holds a '/' and starts some packed path), the next token must go on with a packed path, or end the word on a whole
 * one; a word that is a top folder's name ("src") cannot go on into a folder the pack does not have. The same
 * prefix-trie constraint GENRE (De Cao et al., 2021) puts on generated entity names: the model still chooses the file,
 * by its own logits among the paths that exist, but a small model that found the right file can no longer misspell
 * it, and no citation points to a file that is not there. Words that are not paths are left alone.
 *
 * Works on the tokens' decoded text. A token that decodes alone to part of a character (U+FFFD) never matches, so a
 * step whose candidate paths hold a non-ASCII character is left free rather than forced past it.
 */
import type { TextTokenizer } from '../tokenizer/types';

const REPLACEMENT = '\uFFFD';
/** Characters that end a word: a path is quoted, bracketed or followed by one of these (or by '.' at a sentence's end). */
const BOUNDARY = /[\s`'"()[\]{}<>,;:*|=#!?]/;
/**
 * Text that ends the word before it: a character that cannot be part of a path, or periods not followed by one that
 * can (a sentence's end: "in src/a.py." but not "src/a.py.bak").
 */
const ENDS_WORD = /^(?:[^A-Za-z0-9_/.-]|\.+(?![A-Za-z0-9_/-]))/;

/** Every token's text, indexed for the guard; built once per tokenizer (about a second for Llama 3's 128,256). */
export class TokenTexts {
  /** Ids by their text (several ids can share one). */
  readonly idsByText = new Map<string, number[]>();
  /** Texts sorted, for "every token that starts with X". */
  readonly sortedTexts: string[];
  /** Tokens with a '/' before their first boundary: the only ones that take a folder's name into a path. */
  readonly slashed: number[] = [];
  /** Tokens that end the word before them: what may follow a whole path. */
  readonly endingWord: number[] = [];
  readonly textOf: (string | undefined)[];
  readonly longest: number;

  constructor(tokenizer: TextTokenizer, vocabSize: number, excluded: ReadonlySet<number>) {
    this.textOf = new Array<string | undefined>(vocabSize);
    let longest = 0;
    for (let id = 0; id < vocabSize; id++) {
      if (excluded.has(id)) continue;
      const text = tokenizer.decode([id]);
      if (text.length === 0 || text.includes(REPLACEMENT)) continue;
      this.textOf[id] = text;
      const same = this.idsByText.get(text);
      if (same) same.push(id); else this.idsByText.set(text, [id]);
      if (wordPart(text).includes('/')) this.slashed.push(id);
      if (ENDS_WORD.test(text)) this.endingWord.push(id);
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

/** What the next token may be: only `allowed`, anything but `disallowed`, or anything. */
export type CitationConstraint = { allowed: Set<number> } | { disallowed: Set<number> } | undefined;

export class CitationGuard {
  private readonly paths: string[];
  private readonly whole: Set<string>;
  /** The answer's text since its last boundary character. */
  private word = '';

  private texts: TokenTexts | undefined;

  /**
   * `vocabulary`: the token texts, asked for at the first step that writes a path of the pack (building them costs
   * about a third of a second, once per engine); `decode`: a token's text; `stopIds`: the tokens that end the answer,
   * allowed once a path is whole.
   */
  constructor(paths: Iterable<string>, private readonly vocabulary: () => TokenTexts, private readonly decode: (token: number) => string,
    private readonly stopIds: ReadonlySet<number>) {
    this.paths = [...new Set(paths)].filter((path) => path.length > 0).sort(compare);
    this.whole = new Set(this.paths);
  }

  /** Follows the answer, token by token. */
  advance(token: number): void {
    const text = this.stopIds.has(token) ? ' ' : this.decode(token);
    this.advanceText(text.includes(REPLACEMENT) ? ' ' : text); // part of a character: no path goes on with it
  }

  /** Follows text written into the answer (an assistant prefix). */
  advanceText(text: string): void {
    for (const char of text) this.word = BOUNDARY.test(char) ? '' : this.word + char;
  }

  private get tokens(): TokenTexts {
    this.texts ??= this.vocabulary();
    return this.texts;
  }

  /** The constraint on the next token, from the text so far. */
  constraint(): CitationConstraint {
    const word = this.word;
    if (word.length === 0) return undefined;
    if (!word.includes('/')) return this.intoFolder(word);
    const [first, end] = this.startingWith(word);
    if (first === end) return this.afterPath(word);
    if (this.nonAscii(first, end)) return undefined;
    const allowed = new Set<number>();
    for (let i = first; i < end; i++) {
      const path = this.paths[i]!;
      const rest = path.slice(word.length);
      for (let length = 1; length <= Math.min(rest.length, this.tokens.longest); length++) {
        for (const id of this.tokens.idsByText.get(rest.slice(0, length)) ?? []) allowed.add(id);
      }
      // The path whole, then what ends the word (a space, a backtick, a bracket, a sentence's period...), or the answer.
      if (rest.length === 0) {
        for (const id of this.tokens.endingWord) allowed.add(id);
        for (const id of this.stopIds) allowed.add(id);
      } else if (rest.length < this.tokens.longest) {
        this.tokens.startingWith(rest, (text) => ENDS_WORD.test(text.slice(rest.length)), allowed);
      }
    }
    return { allowed };
  }

  /**
   * A whole path and then a period (or more): the sentence's end, so no letter may follow ("src/a.py.bak" is not
   * packed). Any other word that is not a packed path is left alone.
   */
  private afterPath(word: string): CitationConstraint {
    const path = word.replace(/[^A-Za-z0-9_/-]+$/, '');
    if (path === word || !this.whole.has(path)) return undefined;
    return { allowed: new Set([...this.tokens.endingWord, ...this.stopIds]) };
  }

  /** A word without '/' that is a top folder's name: a '/' after it must go on into a packed path. */
  private intoFolder(word: string): CitationConstraint {
    const [first, end] = this.startingWith(`${word}/`);
    if (first === end || this.nonAscii(first, end)) return undefined;
    const disallowed = new Set<number>();
    for (const id of this.tokens.slashed) {
      const text = this.tokens.textOf[id]!;
      if (!this.startsPath(word + wordPart(text)) && !this.endsOnPath(word + text)) disallowed.add(id);
    }
    return { disallowed };
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

  private nonAscii(first: number, end: number): boolean {
    for (let i = first; i < end; i++) if (/[^\x20-\x7e]/.test(this.paths[i]!)) return true;
    return false;
  }
}

/** `logits` with the constraint applied (a copy), or `logits` itself when there is none. */
export function constrainedLogits(logits: Float32Array, constraint: CitationConstraint): Float32Array {
  if (!constraint) return logits;
  if ('disallowed' in constraint) {
    if (constraint.disallowed.size === 0) return logits;
    const copy = Float32Array.from(logits);
    for (const id of constraint.disallowed) if (id < copy.length) copy[id] = -Infinity;
    return copy;
  }
  if (constraint.allowed.size === 0) return logits; // nothing fits (no token spells the rest): leave it free
  const copy = new Float32Array(logits.length).fill(-Infinity);
  for (const id of constraint.allowed) if (id < copy.length) copy[id] = logits[id]!;
  return copy;
}

/** A token's text up to its first boundary character. */
function wordPart(text: string): string {
  const at = text.search(BOUNDARY);
  return at < 0 ? text : text.slice(0, at);
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
