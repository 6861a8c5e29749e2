/**
 * Token counts of the conversation's texts for the context budget, with the model's tokenizer in a worker
 * thread (the workspace packer's, through `count`), so the extension host never blocks loading or running a
 * tokenizer. `get` answers at once: the exact count when known, else an estimate while the count runs;
 * `onCounted` fires when counts land.
 */

/** Counts `text` with the tokenizer at `tokenizerPath` ('' for the bundled Llama 3 one), off the host's thread. */
export type CountTokens = (text: string, tokenizerPath: string) => Promise<number>;

/** Counted texts kept (questions, answers, drafts); the oldest go first. */
const MAX_ENTRIES = 500;

export class TokenCounts {
  private tokenizerPath: string | undefined;
  private readonly counts = new Map<string, number>();
  private readonly pending = new Set<string>();
  private failed = false;
  private disposed = false;

  constructor(private readonly count: CountTokens, private readonly onCounted: () => void) {}

  /** Tokens of `text` with the tokenizer at `tokenizerPath` ('' for the bundled Llama 3 one). */
  get(text: string, tokenizerPath: string): number {
    if (text === '') return 0;
    this.useTokenizer(tokenizerPath);
    const known = this.counts.get(text);
    if (known !== undefined) return known;
    if (!this.failed && !this.disposed && !this.pending.has(text)) this.start(text, tokenizerPath);
    return Math.ceil(text.length / 4); // about four characters a token for English and code, until the count lands
  }

  private useTokenizer(tokenizerPath: string): void {
    if (this.tokenizerPath === tokenizerPath) return;
    this.tokenizerPath = tokenizerPath;
    this.counts.clear();
    this.pending.clear();
    this.failed = false;
  }

  private start(text: string, tokenizerPath: string): void {
    this.pending.add(text);
    this.count(text, tokenizerPath).then((tokens) => {
      if (this.tokenizerPath !== tokenizerPath || this.disposed) return;
      this.pending.delete(text);
      if (this.counts.size >= MAX_ENTRIES) this.counts.delete(this.counts.keys().next().value!);
      this.counts.set(text, tokens);
      this.onCounted();
    }, () => {
      // A tokenizer that cannot be read: the pack reports it; the budget stays an estimate.
      if (this.tokenizerPath !== tokenizerPath) return;
      this.pending.delete(text);
      this.failed = true;
    });
  }

  /** Stops counting: later calls answer with estimates. */
  dispose(): void {
    this.disposed = true;
  }
}
