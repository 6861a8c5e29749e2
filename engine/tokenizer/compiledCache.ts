import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { userCacheDir } from '../util/userCache';
import type { CompiledBpe } from './compiledBpe';

/**
 * The compiled fast tokenizer saved as bytes, so that loads after the first (every packer worker, every CLI run)
 * skip parsing the 9 MB tokenizer.json and building tables: a header, then the typed arrays, 8-byte aligned.
 * Entries are keyed by the tokenizer file's path, size and modification time; a stale or unreadable entry is
 * simply rebuilt. The directory: $PROLONG_TOKENIZER_CACHE, else prolong/tokenizers in the user's cache directory
 * ($XDG_CACHE_HOME or ~/.cache): per user, since a table planted by another user in a shared temp directory would
 * change how prompts are tokenized.
 */

const MAGIC = 'PLBPE005';

interface Header {
  vocabSize: number;
  ignoreMerges: boolean;
  addedTokens: { id: number; content: string }[];
  entryCount: number;
  keyLength: number;
  multiLength: number;
  /** Element counts of the arrays, in ARRAY_ORDER. */
  lengths: number[];
}

type ArrayName = 'byteIds' | 'merges' | 'mergedByRank' | 'slots' | 'keys' | 'multi' | 'tokenBytes' | 'tokenOffsets' | 'known';
const ARRAY_ORDER: readonly [ArrayName, Float64ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor][] = [
  ['byteIds', Int32Array], ['merges', Float64Array], ['mergedByRank', Int32Array], ['slots', Int32Array], ['keys', Uint16Array], ['multi', Int32Array],
  ['tokenBytes', Uint8Array], ['tokenOffsets', Int32Array], ['known', Uint8Array],
];

export function compiledCacheDir(): string {
  return process.env.PROLONG_TOKENIZER_CACHE || join(userCacheDir(), 'tokenizers');
}

/** The cache file for a tokenizer.json in its current version (size and mtime). */
export function compiledCachePath(tokenizerPath: string, size: number, modifiedMs: number): string {
  const key = createHash('sha256').update(`${MAGIC}\0${tokenizerPath}\0${size}\0${modifiedMs}`).digest('hex').slice(0, 32);
  return join(compiledCacheDir(), `${key}.bin`);
}

function arraysOf(compiled: CompiledBpe): Record<ArrayName, Float64Array | Int32Array | Uint16Array | Uint8Array> {
  const { pieces } = compiled;
  return {
    byteIds: compiled.byteIds, merges: compiled.merges, mergedByRank: compiled.mergedByRank, slots: pieces.slots, keys: pieces.keys, multi: pieces.multi,
    tokenBytes: compiled.tokenBytes, tokenOffsets: compiled.tokenOffsets, known: compiled.known,
  };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

export function serializeCompiled(compiled: CompiledBpe): Buffer {
  const arrays = arraysOf(compiled);
  const header: Header = {
    vocabSize: compiled.vocabSize, ignoreMerges: compiled.ignoreMerges, addedTokens: compiled.addedTokens,
    entryCount: compiled.pieces.entryCount, keyLength: compiled.pieces.keyLength, multiLength: compiled.pieces.multiLength,
    lengths: ARRAY_ORDER.map(([name]) => arrays[name].length),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  let size = align8(8 + 4 + headerBytes.length);
  for (const [name] of ARRAY_ORDER) size += align8(arrays[name].byteLength);
  const out = Buffer.alloc(size);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, 12);
  let at = align8(12 + headerBytes.length);
  for (const [name] of ARRAY_ORDER) {
    const array = arrays[name];
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += align8(array.byteLength);
  }
  return out;
}

/** The compiled tokenizer in `bytes`, or undefined when they are not a complete entry of this version. */
export function deserializeCompiled(bytes: Buffer): CompiledBpe | undefined {
  if (endianness() !== 'LE' || bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return undefined;
  // Typed-array views need aligned offsets: copy when the buffer is not 8-byte aligned.
  const data = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(bytes);
  const headerLength = data.readUInt32LE(8);
  if (12 + headerLength > data.length) return undefined;
  let header: Header;
  try {
    header = JSON.parse(data.toString('utf8', 12, 12 + headerLength)) as Header;
  } catch {
    return undefined;
  }
  if (!Array.isArray(header.lengths) || header.lengths.length !== ARRAY_ORDER.length) return undefined;
  let at = align8(12 + headerLength);
  const arrays = {} as Record<ArrayName, Float64Array | Int32Array | Uint16Array | Uint8Array>;
  for (const [i, [name, Type]] of ARRAY_ORDER.entries()) {
    const length = header.lengths[i]!;
    const byteLength = length * Type.BYTES_PER_ELEMENT;
    if (at + byteLength > data.length) return undefined;
    arrays[name] = new Type(data.buffer as ArrayBuffer, data.byteOffset + at, length);
    at += align8(byteLength);
  }
  const compiled: CompiledBpe = {
    vocabSize: header.vocabSize, ignoreMerges: header.ignoreMerges, addedTokens: header.addedTokens,
    byteIds: arrays.byteIds as Int32Array, merges: arrays.merges as Float64Array, mergedByRank: arrays.mergedByRank as Int32Array,
    pieces: {
      slots: arrays.slots as Int32Array, keys: arrays.keys as Uint16Array, multi: arrays.multi as Int32Array,
      entryCount: header.entryCount, keyLength: header.keyLength, multiLength: header.multiLength,
    },
    tokenBytes: arrays.tokenBytes as Uint8Array, tokenOffsets: arrays.tokenOffsets as Int32Array, known: arrays.known as Uint8Array,
  };
  return isConsistent(compiled) ? compiled : undefined;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Cheap checks that the tables cannot send a lookup out of bounds or round a full hash table forever. */
function isConsistent(compiled: CompiledBpe): boolean {
  const { pieces, merges, tokenOffsets, vocabSize } = compiled;
  if (!Number.isInteger(vocabSize) || vocabSize <= 0 || compiled.byteIds.length !== 256 || compiled.known.length !== vocabSize) return false;
  if (tokenOffsets.length !== vocabSize + 1 || tokenOffsets[vocabSize] !== compiled.tokenBytes.length) return false;
  for (let id = 0; id < vocabSize; id++) if (tokenOffsets[id]! > tokenOffsets[id + 1]!) return false;
  for (const id of compiled.byteIds) if (id < 0 || id >= vocabSize) return false;
  const slotCount = pieces.slots.length / 4;
  if (!isPowerOfTwo(slotCount) || pieces.entryCount * 2 > slotCount) return false;
  if (pieces.keys.length !== pieces.keyLength || pieces.multi.length !== pieces.multiLength) return false;
  if (!isPowerOfTwo(merges.length)) return false;
  for (const id of compiled.mergedByRank) if (id < 0 || id >= vocabSize) return false;
  let empty = 0;
  for (const entry of merges) if (entry === -1) empty++;
  return empty > 0;
}

export function readCompiledCache(cachePath: string): CompiledBpe | undefined {
  try {
    return deserializeCompiled(readFileSync(cachePath));
  } catch {
    return undefined;
  }
}

/** Saves an entry (write then rename, so a concurrent reader never sees half a file); failures only cost speed. */
export function writeCompiledCache(cachePath: string, compiled: CompiledBpe): void {
  try {
    mkdirSync(compiledCacheDir(), { recursive: true, mode: 0o700 });
    const temporary = `${cachePath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temporary, serializeCompiled(compiled));
    renameSync(temporary, cachePath);
    pruneCache(cachePath);
  } catch {
    // A read-only or full temp directory: the next load compiles again.
  }
}

/** Entries kept (about 12 MB each for Llama 3): one per tokenizer file version, so older ones are dropped. */
const KEPT_ENTRIES = 8;

function pruneCache(justWritten: string): void {
  const dir = compiledCacheDir();
  const entries = readdirSync(dir).filter((name) => name.endsWith('.bin')).map((name) => {
    const path = join(dir, name);
    return { path, written: path === justWritten ? Infinity : statSync(path).mtimeMs };
  });
  entries.sort((a, b) => b.written - a.written);
  for (const entry of entries.slice(KEPT_ENTRIES)) {
    try {
      unlinkSync(entry.path);
    } catch {
      // another process removed it first
    }
  }
}
