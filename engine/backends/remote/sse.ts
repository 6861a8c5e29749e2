/**
 * A Server-Sent Events decoder that works on raw bytes, so a UTF-8 character split across network chunks is
 * rejoined before decoding, and bytes that are not UTF-8 are replaced (and reported) instead of breaking the stream.
 * Follows the WHATWG SSE parsing rules for lines (LF, CRLF or CR), comments and `data:` fields, and also keeps
 * llama.cpp's non-standard `error:` field, which it uses to report a failure mid-stream.
 */
import { UserError } from '../../errors';

export interface SseEvent {
  /** 'data' for ordinary events; 'error' for llama.cpp's `error: {...}` lines. */
  kind: 'data' | 'error';
  /** The event's data lines joined with '\n'. */
  data: string;
}

const LF = 0x0a;
const CR = 0x0d;

/** Longest line taken (bytes): a stream chunk is a few hundred; past this it is not an answer but a runaway body. */
export const MAX_SSE_LINE_BYTES = 8 * 1024 * 1024;

export class SseDecoder {
  /** The unfinished line's bytes, kept as the chunks that brought them (each scanned once: no quadratic copying). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private skipLeadingLf = false;
  private dataLines: string[] = [];
  private errorLines: string[] = [];
  private readonly strictUtf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly lenientUtf8 = new TextDecoder('utf-8', { fatal: false });
  /** Lines that held bytes that are not UTF-8 (decoded with U+FFFD in their place). */
  invalidUtf8Lines = 0;

  /** Feeds bytes; returns the events completed by them. */
  push(bytes: Uint8Array): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (this.skipLeadingLf) {
        this.skipLeadingLf = false;
        if (byte === LF && i === start) { start = i + 1; continue; }
      }
      if (byte !== LF && byte !== CR) continue;
      this.line(this.takePending(bytes.subarray(start, i)), events);
      // A CR may be the first half of a CRLF whose LF arrives in the next chunk.
      if (byte === CR) {
        if (i + 1 < bytes.length) { if (bytes[i + 1] === LF) i++; } else this.skipLeadingLf = true;
      }
      start = i + 1;
    }
    if (start < bytes.length) {
      this.pending.push(bytes.slice(start));
      this.pendingBytes += bytes.length - start;
      if (this.pendingBytes > MAX_SSE_LINE_BYTES) {
        throw new UserError(`The server sent more than ${MAX_SSE_LINE_BYTES / (1024 * 1024)} MiB without a line break: that is not an event stream this client reads.`,
          'Check that the URL points at the model server (vLLM, SGLang, llama-server), not at something in front of it.');
      }
    }
    return events;
  }

  /** The unfinished line's bytes followed by `tail`, as one line; the pending bytes are cleared. */
  private takePending(tail: Uint8Array): Uint8Array {
    if (this.pending.length === 0) return tail;
    const line = concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }

  /**
   * The body ended cleanly: returns what the last bytes complete. A last line without its line break, and an
   * event without the blank line that closes it, still count (some servers end the body right after the data line).
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.pendingBytes > 0) this.line(this.takePending(new Uint8Array(0)), events);
    this.skipLeadingLf = false;
    this.dispatch(events);
    return events;
  }

  private line(bytes: Uint8Array, events: SseEvent[]): void {
    if (bytes.length === 0) {
      this.dispatch(events);
      return;
    }
    const text = this.decode(bytes);
    if (text.startsWith(':')) return; // comment, e.g. a keep-alive ping
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'error') this.errorLines.push(value);
    // event, id, retry and unknown fields carry nothing the OpenAI-style streams need.
  }

  private dispatch(events: SseEvent[]): void {
    if (this.errorLines.length > 0) events.push({ kind: 'error', data: this.errorLines.join('\n') });
    if (this.dataLines.length > 0) events.push({ kind: 'data', data: this.dataLines.join('\n') });
    this.dataLines = [];
    this.errorLines = [];
  }

  private decode(bytes: Uint8Array): string {
    try {
      return this.strictUtf8.decode(bytes);
    } catch {
      this.invalidUtf8Lines++;
      return this.lenientUtf8.decode(bytes);
    }
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
