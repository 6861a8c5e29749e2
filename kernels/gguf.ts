// Writing (and reading back the header of) GGUF, llama.cpp's model file: "GGUF", version 3, tensor and metadata
// counts, metadata key/values, tensor descriptions (name, dims innermost first, ggml type, offset), then the
// tensor data, each tensor aligned to `general.alignment` (32). Tensors are streamed: the header is written
// first with every tensor's size known from its shape and type, then each tensor's bytes as they come.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { UserError } from '../engine/errors';

export const ggufMagic = 0x46554747; // "GGUF" little-endian
export const ggufVersion = 3;
export const ggufAlignment = 32;

/** ggml tensor types this project writes. */
export enum GgmlType { F32 = 0, F16 = 1, Q4_0 = 2 }

/** GGUF metadata value types. */
enum ValueType { U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12 }

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'i32[]'; value: Int32Array | readonly number[] };

export interface GgufTensorSpec {
  name: string;
  /** ggml order: the innermost (contiguous) dimension first; a torch [out, in] weight is [in, out]. */
  dims: number[];
  type: GgmlType;
}

/** Bytes of a tensor of `elements` values stored as `type`. */
export function ggmlTensorBytes(type: GgmlType, elements: number): number {
  switch (type) {
    case GgmlType.F32: return elements * 4;
    case GgmlType.F16: return elements * 2;
    case GgmlType.Q4_0: return (elements / 32) * 18;
  }
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Serializes the header (magic through the padding before the data). */
function encodeHeader(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorSpec[]): { header: Buffer; offsets: number[]; dataBytes: number } {
  const parts: Buffer[] = [];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); parts.push(b); };
  const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32LE(n); parts.push(b); };
  const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); parts.push(b); };
  const f32 = (n: number) => { const b = Buffer.alloc(4); b.writeFloatLE(n); parts.push(b); };
  const str = (s: string) => { const bytes = Buffer.from(s, 'utf8'); u64(bytes.length); parts.push(bytes); };

  u32(ggufMagic);
  u32(ggufVersion);
  u64(tensors.length);
  u64(metadata.size);
  for (const [key, entry] of metadata) {
    str(key);
    switch (entry.type) {
      case 'u32': u32(ValueType.U32); u32(entry.value); break;
      case 'i32': u32(ValueType.I32); i32(entry.value); break;
      case 'f32': u32(ValueType.F32); f32(entry.value); break;
      case 'bool': u32(ValueType.BOOL); parts.push(Buffer.from([entry.value ? 1 : 0])); break;
      case 'string': u32(ValueType.STRING); str(entry.value); break;
      case 'string[]': u32(ValueType.ARRAY); u32(ValueType.STRING); u64(entry.value.length); for (const s of entry.value) str(s); break;
      case 'i32[]': {
        u32(ValueType.ARRAY); u32(ValueType.I32); u64(entry.value.length);
        const b = Buffer.alloc(entry.value.length * 4);
        entry.value.forEach((v, i) => b.writeInt32LE(v, i * 4));
        parts.push(b);
        break;
      }
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    if (tensor.type === GgmlType.Q4_0 && tensor.dims[0]! % 32 !== 0) {
      throw new UserError(`Tensor ${tensor.name}: Q4_0 needs rows of a multiple of 32 values (got ${tensor.dims[0]}).`, 'Convert to f16 instead (--gguf f16).');
    }
    str(tensor.name);
    u32(tensor.dims.length);
    for (const d of tensor.dims) u64(d);
    u32(tensor.type);
    u64(offset);
    offsets.push(offset);
    offset = align(offset + ggmlTensorBytes(tensor.type, elements), ggufAlignment);
  }
  const body = Buffer.concat(parts);
  const padded = Buffer.alloc(align(body.length, ggufAlignment));
  body.copy(padded);
  return { header: padded, offsets, dataBytes: offset };
}

/**
 * Writes a GGUF file tensor by tensor, in the order given to the constructor. `write` checks each tensor's
 * byte count against its shape and type, so a wrong quantization cannot produce a file that loads wrongly.
 */
export class GgufWriter {
  private readonly fd: number;
  private readonly offsets: number[];
  private next = 0;
  private position: number;
  readonly dataStart: number;
  readonly totalBytes: number;

  constructor(readonly path: string, metadata: ReadonlyMap<string, GgufValue>, private readonly tensors: readonly GgufTensorSpec[]) {
    const { header, offsets, dataBytes } = encodeHeader(metadata, tensors);
    this.offsets = offsets;
    this.dataStart = header.length;
    this.totalBytes = header.length + dataBytes;
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header);
    this.position = header.length;
  }

  /** The next tensor's bytes (in the constructor's order). */
  write(name: string, bytes: Uint8Array): void {
    const spec = this.tensors[this.next];
    if (!spec || spec.name !== name) throw new Error(`GGUF: expected tensor ${spec?.name ?? '(none)'}, got ${name}`);
    const expected = ggmlTensorBytes(spec.type, spec.dims.reduce((a, b) => a * b, 1));
    if (bytes.byteLength !== expected) throw new Error(`GGUF: tensor ${name} has ${bytes.byteLength} bytes, expected ${expected}`);
    const start = this.dataStart + this.offsets[this.next]!;
    if (start > this.position) { writeSync(this.fd, Buffer.alloc(start - this.position)); this.position = start; }
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.position += bytes.byteLength;
    this.next++;
  }

  /** Pads to the end and closes; every tensor must have been written. */
  finish(): void {
    try {
      if (this.next !== this.tensors.length) throw new Error(`GGUF: ${this.tensors.length - this.next} tensors were not written`);
      if (this.totalBytes > this.position) writeSync(this.fd, Buffer.alloc(this.totalBytes - this.position));
    } finally {
      closeSync(this.fd);
    }
  }

  abandon(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/** The metadata and tensor list of a GGUF file (no tensor data), for checks and tests. */
export interface GgufHeader {
  version: number;
  metadata: Map<string, unknown>;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
  dataStart: number;
}

export function readGgufHeader(path: string): GgufHeader {
  const fd = openSync(path, 'r');
  try {
    let position = 0;
    const take = (n: number): Buffer => {
      const b = Buffer.alloc(n);
      if (readSync(fd, b, 0, n, position) !== n) throw new UserError(`${path} ends inside its GGUF header.`, 'Convert the model again.');
      position += n;
      return b;
    };
    const u32 = () => take(4).readUInt32LE(0);
    const u64 = () => Number(take(8).readBigUInt64LE(0));
    const str = () => take(u64()).toString('utf8');
    if (u32() !== ggufMagic) throw new UserError(`${path} is not a GGUF file.`, 'Give a .gguf model file.');
    const version = u32();
    const tensorCount = u64();
    const kvCount = u64();
    const scalar = (type: number): unknown => {
      switch (type) {
        case ValueType.U8: return take(1).readUInt8(0);
        case ValueType.I8: return take(1).readInt8(0);
        case ValueType.U16: return take(2).readUInt16LE(0);
        case ValueType.I16: return take(2).readInt16LE(0);
        case ValueType.U32: return u32();
        case ValueType.I32: return take(4).readInt32LE(0);
        case ValueType.F32: return take(4).readFloatLE(0);
        case ValueType.BOOL: return take(1).readUInt8(0) !== 0;
        case ValueType.STRING: return str();
        case ValueType.U64: return u64();
        case ValueType.I64: return Number(take(8).readBigInt64LE(0));
        case ValueType.F64: return take(8).readDoubleLE(0);
        default: throw new UserError(`${path} has an unknown GGUF value type ${type}.`, 'Convert the model again.');
      }
    };
    const metadata = new Map<string, unknown>();
    for (let i = 0; i < kvCount; i++) {
      const key = str();
      const type = u32();
      if (type === ValueType.ARRAY) {
        const elementType = u32();
        const count = u64();
        const values: unknown[] = [];
        for (let j = 0; j < count; j++) values.push(scalar(elementType));
        metadata.set(key, values);
      } else {
        metadata.set(key, scalar(type));
      }
    }
    const tensors: GgufHeader['tensors'] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = str();
      const dims: number[] = [];
      for (let d = u32(); d > 0; d--) dims.push(u64());
      tensors.push({ name, dims, type: u32(), offset: u64() });
    }
    const alignment = typeof metadata.get('general.alignment') === 'number' ? metadata.get('general.alignment') as number : ggufAlignment;
    return { version, metadata, tensors, dataStart: align(position, alignment) };
  } finally {
    closeSync(fd);
  }
}
