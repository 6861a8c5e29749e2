/**
 * The prefix cache on disk: the KV cache of the last prompt, saved per model so that a new engine process (VS Code
 * restarted, a second `prolong ask`) reuses the packed repository's prefix instead of prefilling it again.
 * One file per model, keyed by a hash of the model's sidecar and weights size; it holds the prompt's token ids
 * (checked by their hash) and the keys and values of those positions. Only the CPU's in-place cache is saved:
 * a GPU-resident cache cannot be read back from JavaScript without a copy as large as itself.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
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

export class PrefixStore {
  private readonly path: string;
  private header: Header | undefined | null = null;

  constructor(dir: string, private readonly key: string) {
    this.path = join(dir, `${key.slice(0, 24)}.kv`);
  }

  /** Token ids of the saved prefix (empty when nothing is saved or the file is not for this model). */
  savedTokens(): readonly number[] {
    return this.readHeader()?.tokens ?? [];
  }

  /** The saved token ids and each KV tensor's bytes for them. */
  load(): { tokens: readonly number[]; parts: Uint8Array[] } | undefined {
    const header = this.readHeader();
    if (!header) return undefined;
    const fd = openSync(this.path, 'r');
    try {
      const headerBytes = headerLength(fd);
      let offset = 4 + headerBytes;
      const parts = header.parts.map((size) => {
        const bytes = new Uint8Array(size);
        readSync(fd, bytes, 0, size, offset);
        offset += size;
        return bytes;
      });
      return { tokens: header.tokens, parts };
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
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, length);
      writeSync(fd, headerBytes);
      for (const part of parts) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    this.header = header;
  }

  private readHeader(): Header | undefined {
    if (this.header !== null) return this.header;
    this.header = undefined;
    if (!existsSync(this.path)) return undefined;
    try {
      const fd = openSync(this.path, 'r');
      try {
        const size = headerLength(fd);
        // A damaged length must not make us allocate gigabytes: the header is small JSON inside the file.
        if (size > statSync(this.path).size - 4 || size > 64 * 1024 * 1024) return undefined;
        const bytes = Buffer.alloc(size);
        readSync(fd, bytes, 0, size, 4);
        const header = JSON.parse(bytes.toString('utf8')) as Header;
        const valid = header.magic === MAGIC && header.modelKey === this.key && tokenHash(header.tokens) === header.tokenHash;
        this.header = valid ? header : undefined;
      } finally {
        closeSync(fd);
      }
    } catch {
      this.header = undefined; // unreadable: treated as absent, overwritten by the next save
    }
    return this.header;
  }
}

function headerLength(fd: number): number {
  const length = Buffer.alloc(4);
  readSync(fd, length, 0, 4, 0);
  return length.readUInt32LE(0);
}
