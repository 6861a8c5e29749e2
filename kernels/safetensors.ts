// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}), then the raw tensor bytes.
// Tensors are read one at a time from the file (never the whole file), so conversion streams.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { UserError } from '../engine/errors';
import { float16BitsToFloat32Fast } from './float16';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offset of the data from the start of the file. */
  offset: number;
  byteLength: number;
}

const bytesPerElement: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isTensorEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const isCount = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return typeof entry.dtype === 'string'
    && Array.isArray(entry.shape) && entry.shape.every(isCount)
    && Array.isArray(entry.data_offsets) && entry.data_offsets.length === 2 && entry.data_offsets.every(isCount)
    && (entry.data_offsets[0] as number) <= (entry.data_offsets[1] as number);
}

/** One open .safetensors file; read tensors by name, then close(). */
export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string>;
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      const size = fstatSync(this.fd).size;
      const lengthBytes = Buffer.alloc(8);
      if (size < 8 || readSync(this.fd, lengthBytes, 0, 8, 0) !== 8) throw new UserError(`${path} is not a safetensors file (too short).`, 'Re-download the checkpoint.');
      const headerLength = Number(lengthBytes.readBigUInt64LE(0));
      if (headerLength > 100_000_000 || 8 + headerLength > size) throw new UserError(`${path} is not a safetensors file (bad header length).`, 'Re-download the checkpoint.');
      const headerBytes = Buffer.alloc(headerLength);
      readSync(this.fd, headerBytes, 0, headerLength, 8);
      let header: Record<string, unknown>;
      try { header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>; } catch (error) {
        throw new UserError(`${path} has an unreadable safetensors header.`, 'Re-download the checkpoint.', { cause: error });
      }
      if (typeof header !== 'object' || header === null || Array.isArray(header)) {
        throw new UserError(`${path} has a safetensors header that is not a JSON object.`, 'Re-download the checkpoint.');
      }
      this.metadata = (header.__metadata__ ?? {}) as Record<string, string>;
      const dataStart = 8 + headerLength;
      for (const [name, value] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        const entry = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
        if (!isTensorEntry(value)) {
          throw new UserError(`${path}: the header entry of tensor ${name} lacks a valid dtype, shape or data_offsets (the file is damaged).`, 'Re-download the checkpoint.');
        }
        if (!Object.hasOwn(bytesPerElement, entry.dtype)) {
          throw new UserError(`${path}: tensor ${name} has dtype ${entry.dtype}; only F32, F16 and BF16 checkpoints can be converted.`, 'Use an unquantized checkpoint.');
        }
        const dtype = entry.dtype as SafetensorsDtype;
        const [begin, end] = entry.data_offsets;
        if (end - begin !== elementCount(entry.shape) * bytesPerElement[dtype] || dataStart + end > size) {
          throw new UserError(`${path}: tensor ${name} has inconsistent offsets (the file may be truncated).`, 'Re-download the checkpoint.');
        }
        this.tensors.set(name, { name, dtype, shape: entry.shape, offset: dataStart + begin, byteLength: end - begin });
      }
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  /** Raw bytes of a tensor as stored. */
  readBytes(name: string): Buffer {
    const info = this.info(name);
    const bytes = Buffer.allocUnsafe(info.byteLength);
    this.readInto(info, bytes);
    return bytes;
  }

  /**
   * A tensor converted to float32, whatever its stored dtype. Half-precision data is read into the upper
   * half of the result's own buffer and widened in place, front to back (each element's source lies beyond
   * what has been written so far), so no second copy of the tensor is ever held.
   */
  readFloat32(name: string): Float32Array {
    const info = this.info(name);
    const n = elementCount(info.shape);
    const out = new Float32Array(n);
    if (info.dtype === 'F32') {
      this.readInto(info, new Uint8Array(out.buffer));
      return out;
    }
    this.readInto(info, new Uint8Array(out.buffer, 2 * n, 2 * n));
    const words = new Uint16Array(out.buffer);
    if (info.dtype === 'BF16') {
      // a bfloat16 is the high half of a float32 (little-endian: the second word)
      for (let i = 0; i < n; i++) { const h = words[n + i]!; words[2 * i] = 0; words[2 * i + 1] = h; }
    } else {
      for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32Fast(words[n + i]!);
    }
    return out;
  }

  private readInto(info: TensorInfo, target: Uint8Array): void {
    let done = 0;
    while (done < info.byteLength) {
      // readSync reads at most 2 GiB at a time
      const count = readSync(this.fd, target, done, Math.min(info.byteLength - done, 1 << 30), info.offset + done);
      if (count <= 0) throw new UserError(`${this.path}: tensor ${info.name} is truncated.`, 'Re-download the checkpoint.');
      done += count;
    }
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new UserError(`${this.path} has no tensor named ${name}.`, 'Check that the checkpoint is complete.');
    return info;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /**
   * Produces the tensor's bytes in order, piece by piece (so a tensor larger than memory can be written).
   * The pieces together must be exactly elementCount(shape) * bytesPerElement bytes.
   */
  write(emit: (piece: Uint8Array) => void): void;
}

/** Writes a .safetensors file, streaming each tensor's bytes straight to disk. */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const length = elementCount(t.shape) * bytesPerElement[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  // pad so the data starts 8-byte aligned, as the reference implementation does
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const fd = openSync(path, 'w');
  try {
    const lengthBytes = Buffer.alloc(8);
    lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
    writeAll(fd, lengthBytes);
    writeAll(fd, headerBytes);
    for (const t of tensors) {
      const expected = elementCount(t.shape) * bytesPerElement[t.dtype];
      let written = 0;
      t.write((piece) => { writeAll(fd, piece); written += piece.byteLength; });
      if (written !== expected) throw new Error(`writeSafetensors: ${t.name} wrote ${written} bytes, expected ${expected}`);
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
