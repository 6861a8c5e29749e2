/**
 * The prefix cache on disk: the KV cache of the last prompt, saved per model so that a new engine process (VS Code
 * restarted, a second `prolong ask`) reuses the packed repository's prefix instead of prefilling it again.
 * One file per model, keyed by a hash of the model's sidecar and weights size; it holds the prompt's token ids
 * (checked by their hash) and the keys and values of those positions. Only the CPU's in-place cache is saved:
 * a GPU-resident cache cannot be read back from JavaScript without a copy as large as itself.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { tokenHash } from './prefixCache';

const MAGIC = 'prolong-kv-1';

interface Header {
  magic: string;
  modelKey: string;
  tokens: number[];
  tokenHash: string;
  /** Byte length of each tensor's part, in order. */
  parts: number[];
}

/** A key that changes when the model does: its sidecar text and the size and mtime of its weights. */
export function modelKey(modelDir: string, sidecarFile: string, weightsFile: string): string {
  const weights = statSync(join(modelDir, weightsFile));
  return createHash('sha256').update(readFileSync(join(modelDir, sidecarFile))).update(`${weights.size}:${weights.mtimeMs}`).digest('hex');
}

/** What identifies one version of the file: a save by any process (renamed into place) changes it. */
function stampOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/**
 * The file may be shared by several engine processes (one per VS Code window, all using the extension's global
 * storage), so nothing read from it is trusted past the file's version it came from: the header is re-read when the
 * file's identity, size or mtime changed, and `load` takes the tokens and part sizes from the header it reads
 * through the same descriptor as the parts.
 */
export class PrefixStore {
  private readonly path: string;
  /** The header last read or written, and the file version (`stampOf`) it belongs to. */
  private cached: { stamp: string; header: Header | undefined } | undefined;

  constructor(dir: string, private readonly key: string) {
    this.path = join(dir, `${key.slice(0, 24)}.kv`);
  }

  /** Token ids of the saved prefix (empty when nothing is saved or the file is not for this model). */
  savedTokens(): readonly number[] {
    let fd: number;
    try { fd = openSync(this.path, 'r'); } catch { this.cached = undefined; return []; }
    try {
      return this.headerOf(fd, fstatSync(fd))?.tokens ?? [];
    } catch {
      return [];
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The saved token ids and each KV tensor's bytes for them, all from one version of the file. `positions`, given
   * the saved tokens, says how many leading positions to read (0: none, load returns undefined); each part is then
   * read as `heads` equal runs (the layout `exportPositions` writes), only their first positions.
   */
  load(positions?: (saved: readonly number[]) => number, heads = 1): { tokens: readonly number[]; parts: Uint8Array[] } | undefined {
    let fd: number;
    try { fd = openSync(this.path, 'r'); } catch { this.cached = undefined; return undefined; }
    try {
      const stats = fstatSync(fd);
      const header = this.headerOf(fd, stats);
      if (!header) return undefined;
      const total = header.tokens.length;
      const count = Math.min(total, Math.max(0, Math.floor(positions ? positions(header.tokens) : total)));
      if (count === 0 || total === 0) return undefined;
      const dataStart = 4 + headerLength(fd);
      if (dataStart + header.parts.reduce((sum, size) => sum + size, 0) !== stats.size) return undefined;
      if (header.parts.some((size) => size % (heads * total) !== 0)) return undefined;
      let offset = dataStart;
      const parts = header.parts.map((size) => {
        const run = size / heads;
        const keep = (run / total) * count;
        const bytes = new Uint8Array(keep * heads);
        for (let h = 0; h < heads; h++) {
          readFully(fd, bytes, h * keep, keep, offset + h * run);
        }
        offset += size;
        return bytes;
      });
      return { tokens: header.tokens.slice(0, count), parts };
    } catch {
      return undefined; // unreadable or changed while read: treated as absent
    } finally {
      closeSync(fd);
    }
  }

  /** Saves `tokens` and their KV parts (written to a temporary file, then renamed: never half a file). */
  save(tokens: readonly number[], parts: readonly Uint8Array[]): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    const header: Header = { magic: MAGIC, modelKey: this.key, tokens: [...tokens], tokenHash: tokenHash(tokens), parts: parts.map((p) => p.byteLength) };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(headerBytes.byteLength);
    const temporary = `${this.path}.${process.pid}.tmp`;
    let stamp: string;
    try {
      const fd = openSync(temporary, 'w');
      try {
        writeSync(fd, length);
        writeSync(fd, headerBytes);
        for (const part of parts) writeSync(fd, part);
        stamp = stampOf(fstatSync(fd));
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.path);
    } catch (error) {
      // a KV-sized partial file left on a full disk would only make it fuller
      rmSync(temporary, { force: true });
      throw error;
    }
    this.cached = { stamp, header };
  }

  /** The header of the file open as `fd` (whose stats are `stats`), read again unless that version's is cached. */
  private headerOf(fd: number, stats: Stats): Header | undefined {
    const stamp = stampOf(stats);
    if (this.cached?.stamp === stamp) return this.cached.header;
    let header: Header | undefined;
    try {
      const size = headerLength(fd);
      // A damaged length must not make us allocate gigabytes: the header is small JSON inside the file.
      if (size <= stats.size - 4 && size <= 64 * 1024 * 1024) {
        const bytes = Buffer.alloc(size);
        readSync(fd, bytes, 0, size, 4);
        const parsed = JSON.parse(bytes.toString('utf8')) as Header;
        const valid = parsed.magic === MAGIC && parsed.modelKey === this.key && Array.isArray(parsed.tokens)
          && Array.isArray(parsed.parts) && tokenHash(parsed.tokens) === parsed.tokenHash;
        header = valid ? parsed : undefined;
      }
    } catch {
      header = undefined; // unreadable: treated as absent, overwritten by the next save
    }
    this.cached = { stamp, header };
    return header;
  }
}

/** Reads exactly `length` bytes at `position` (a short read means the file changed or ended: an error). */
function readFully(fd: number, into: Uint8Array, at: number, length: number, position: number): void {
  for (let done = 0; done < length;) {
    const read = readSync(fd, into, at + done, length - done, position + done);
    if (read <= 0) throw new Error('prefix cache file ended early');
    done += read;
  }
}

function headerLength(fd: number): number {
  const length = Buffer.alloc(4);
  readSync(fd, length, 0, 4, 0);
  return length.readUInt32LE(0);
}
