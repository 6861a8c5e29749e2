/**
 * Token counts of the conversation's texts for the context budget, with the model's tokenizer in a worker
 * thread (the packer's), so the extension host never blocks loading or running a tokenizer. `get` answers at
 * once: the exact count when known, else an estimate while the count runs; `onCounted` fires when counts land.
 */
import { Packer } from '../../engine/packer';

/** Counted texts kept (questions, answers, drafts); the oldest go first. */
const MAX_ENTRIES = 500;

export class TokenCounts {
  private counter: { tokenizerPath: string; packer: Packer } | undefined;
  private readonly counts = new Map<string, number>();
  private readonly pending = new Set<string>();
  private failed = false;

  constructor(private readonly onCounted: () => void) {}

  /** Tokens of `text` with the tokenizer at `tokenizerPath` ('' for the bundled Llama 3 one). */
  get(text: string, tokenizerPath: string): number {
    if (text === '') return 0;
    this.useTokenizer(tokenizerPath);
    const known = this.counts.get(text);
    if (known !== undefined) return known;
    if (!this.failed && !this.pending.has(text)) this.start(text);
    return Math.ceil(text.length / 4); // about four characters a token for English and code, until the count lands
  }

  private useTokenizer(tokenizerPath: string): void {
    if (this.counter?.tokenizerPath === tokenizerPath) return;
    void this.counter?.packer.dispose();
    this.counts.clear();
    this.pending.clear();
    this.failed = false;
    try {
      this.counter = { tokenizerPath, packer: new Packer({ tokenizerPath: tokenizerPath || undefined, workers: 1, cacheFile: false }) };
    } catch {
      // A tokenizer path that cannot be read: the pack reports it; the budget stays an estimate.
      this.counter = undefined;
      this.failed = true;
    }
  }

  private start(text: string): void {
    const counter = this.counter;
    if (!counter) return;
    this.pending.add(text);
    counter.packer.countTokens(text).then((tokens) => {
      if (this.counter !== counter) return;
      this.pending.delete(text);
      if (this.counts.size >= MAX_ENTRIES) this.counts.delete(this.counts.keys().next().value!);
      this.counts.set(text, tokens);
      this.onCounted();
    }, () => {
      if (this.counter !== counter) return;
      this.pending.delete(text);
      this.failed = true;
    });
  }

  dispose(): void {
    void this.counter?.packer.dispose();
    this.counter = undefined;
  }
}
