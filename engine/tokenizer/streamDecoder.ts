import type { TextTokenizer } from './types';

const REPLACEMENT = '\uFFFD';

/**
 * Turns generated ids into text as they arrive, never emitting half a character: a byte-level BPE token can
 * carry part of a UTF-8 sequence (an emoji is often two or three tokens), and decoding it alone gives U+FFFD.
 *
 * Same method as Hugging Face's `DecodeStream`: decode the ids since the last emitted boundary, compare with the
 * text already emitted for them, and emit the rest only when it does not end in U+FFFD (an incomplete sequence).
 * Works with any `TextTokenizer` whose `decode` is lossy UTF-8 (both of ours).
 */
export class StreamDecoder {
  /** Ids from the start of the last emitted piece on: decoding restarts at a character boundary each time. */
  private ids: number[] = [];
  /** How many of `ids` are already emitted (context kept for decoders that look at the previous token), and their text. */
  private emittedCount = 0;
  private emittedText = '';

  constructor(private readonly tokenizer: TextTokenizer) {}

  /** Adds one generated id; returns the new text it completes ('' while a character is still incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    if (text.length <= this.emittedText.length || text.endsWith(REPLACEMENT)) return '';
    const fresh = text.slice(this.emittedText.length);
    // The text ends on a whole character: the ids just emitted become the context for the next ones.
    this.ids = this.ids.slice(this.emittedCount);
    this.emittedCount = this.ids.length;
    this.emittedText = this.tokenizer.decode(this.ids);
    return fresh;
  }

  /** Adds several ids; returns the text they complete. */
  pushAll(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) text += this.push(id);
    return text;
  }

  /** At the end of the stream: whatever is held back (an unfinished sequence comes out as U+FFFD, as `decode` gives it). */
  flush(): string {
    const text = this.tokenizer.decode(this.ids);
    const rest = text.length > this.emittedText.length ? text.slice(this.emittedText.length) : '';
    this.ids = [];
    this.emittedCount = 0;
    this.emittedText = '';
    return rest;
  }
}
