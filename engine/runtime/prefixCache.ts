/**
 * Which tokens the KV cache holds, and how many of a new prompt it can serve. The packed repository is a
 * prefix shared by every question, so a new question (or a follow-up, or a re-pack whose edit-aware order
 * kept the unchanged files first) only prefills from the first token that differs.
 */
import { createHash } from 'node:crypto';

/** Length of the longest common prefix of two token sequences. */
export function longestCommonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A stable hash of a token sequence (for cache keys and reports). */
export function tokenHash(tokens: readonly number[]): string {
  const bytes = new Uint8Array(Int32Array.from(tokens).buffer);
  return createHash('sha256').update(bytes).digest('hex');
}

export class PrefixTracker {
  /** Tokens whose keys and values the cache holds, in order. */
  private held: number[] = [];

  get length(): number {
    return this.held.length;
  }

  /**
   * How many leading tokens of `prompt` can be reused. At least one token is always left to run, because the
   * logits of the prompt's last token are needed to start the answer.
   */
  reusable(prompt: readonly number[]): number {
    return Math.min(longestCommonPrefix(this.held, prompt), Math.max(0, prompt.length - 1));
  }

  /** The cache was cut to its first `length` tokens. */
  truncate(length: number): void {
    if (length < this.held.length) this.held.length = length;
  }

  append(tokens: readonly number[]): void {
    for (const token of tokens) this.held.push(token);
  }

  clear(): void {
    this.held = [];
  }
}
