// The GGUF writer and header reader (kernels/gguf.ts) and the pieces of the Llama export that carry numbers
// (kernels/ggufModel.ts): Q4_0 in ggml's reference layout, the rotary row permutation (checked against the two
// rotation conventions it translates between) and the refusal of checkpoints the export cannot describe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import { float16BitsToFloat32 } from '../../kernels/float16';
import { GgmlType, GgufWriter, ggmlTensorBytes, readGgufHeader, type GgufTensorSpec, type GgufValue } from '../../kernels/gguf';
import { dequantizeQ4_0, ggufProblem, permuteRotaryRows, quantizeQ4_0 } from '../../kernels/ggufModel';
import type { DecoderConfig } from '../../kernels/hfConfig';
import { SeededRandom } from '../../kernels/randomCheckpoint';

let work: string;
before(() => { work = mkdtempSync(join(tmpdir(), 'gguf-')); });
after(() => rmSync(work, { recursive: true, force: true }));

const metadata = new Map<string, GgufValue>([
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['test.u32', { type: 'u32', value: 4294967295 }], // the top bit must not come back negative
  ['test.i32', { type: 'i32', value: -123456 }],
  ['test.f32', { type: 'f32', value: 0.1 }],
  ['test.true', { type: 'bool', value: true }],
  ['test.false', { type: 'bool', value: false }],
  ['test.unicode', { type: 'string', value: 'ünïcødé ✓ 𝄞' }], // length prefix counts UTF-8 bytes, not characters
  ['test.strings', { type: 'string[]', value: ['a', '', 'Ġhello', '✓'] }],
  ['test.empty_strings', { type: 'string[]', value: [] }],
  ['test.i32_typed', { type: 'i32[]', value: Int32Array.from([-1, 0, 2147483647, -2147483648]) }],
  ['test.i32_plain', { type: 'i32[]', value: [5, -6] }],
]);

// 15 F32 (60 bytes), 7 F16 (14 bytes), 2 rows of 64 Q4_0 (4 blocks, 72 bytes): none a multiple of 32, so every
// tensor after the first needs padding before it
const tensors: GgufTensorSpec[] = [
  { name: 'a.f32', dims: [5, 3], type: GgmlType.F32 },
  { name: 'b.f16', dims: [7], type: GgmlType.F16 },
  { name: 'c.q4_0', dims: [64, 2], type: GgmlType.Q4_0 },
];

function tensorBytes(spec: GgufTensorSpec, seed: number): Uint8Array {
  const bytes = new Uint8Array(ggmlTensorBytes(spec.type, spec.dims.reduce((a, b) => a * b, 1)));
  // never zero, so padding (zeros) cannot pass for data
  for (let i = 0; i < bytes.length; i++) bytes[i] = 1 + ((i * 31 + seed * 17) % 255);
  return bytes;
}

test('ggmlTensorBytes: 4, 2 and 18/32 bytes per value', () => {
  assert.equal(ggmlTensorBytes(GgmlType.F32, 15), 60);
  assert.equal(ggmlTensorBytes(GgmlType.F16, 7), 14);
  assert.equal(ggmlTensorBytes(GgmlType.Q4_0, 128), 72);
  assert.deepEqual([GgmlType.F32, GgmlType.F16, GgmlType.Q4_0], [0, 1, 2]); // ggml's type ids, written into the file
});

test('writer and reader round trip: every metadata type, tensor names, dims, types, aligned offsets and the bytes', () => {
  const path = join(work, 'roundtrip.gguf');
  const writer = new GgufWriter(path, metadata, tensors);
  const data = tensors.map((t, i) => tensorBytes(t, i + 1));
  tensors.forEach((t, i) => writer.write(t.name, data[i]!));
  writer.finish();

  assert.equal(statSync(path).size, writer.totalBytes);
  const header = readGgufHeader(path);
  assert.equal(header.version, 3);
  assert.equal(header.dataStart, writer.dataStart);
  assert.equal(header.dataStart % 32, 0);

  assert.deepEqual([...header.metadata.keys()], [...metadata.keys()], 'same keys in the same order');
  const m = header.metadata;
  assert.equal(m.get('general.architecture'), 'llama');
  assert.equal(m.get('test.u32'), 4294967295);
  assert.equal(m.get('test.i32'), -123456);
  assert.equal(m.get('test.f32'), Math.fround(0.1));
  assert.equal(m.get('test.true'), true);
  assert.equal(m.get('test.false'), false);
  assert.equal(m.get('test.unicode'), 'ünïcødé ✓ 𝄞');
  assert.deepEqual(m.get('test.strings'), ['a', '', 'Ġhello', '✓']);
  assert.deepEqual(m.get('test.empty_strings'), []);
  assert.deepEqual(m.get('test.i32_typed'), [-1, 0, 2147483647, -2147483648]);
  assert.deepEqual(m.get('test.i32_plain'), [5, -6]);

  assert.deepEqual(header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type })), tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type })));
  const offsets = header.tensors.map((t) => t.offset);
  assert.deepEqual(offsets, [0, 64, 96], 'each tensor starts at the next multiple of 32 after the one before');
  let expected = 0;
  tensors.forEach((t, i) => {
    assert.equal(offsets[i]! % 32, 0);
    assert.equal(offsets[i], expected);
    expected = Math.ceil((expected + data[i]!.length) / 32) * 32;
  });
  assert.equal(writer.totalBytes, writer.dataStart + expected, 'the file ends padded after the last tensor');

  const file = readFileSync(path);
  assert.equal(file.readUInt32LE(0), 0x46554747);
  assert.equal(file.subarray(0, 4).toString('latin1'), 'GGUF');
  header.tensors.forEach((t, i) => {
    const start = header.dataStart + t.offset;
    assert.deepEqual(new Uint8Array(file.subarray(start, start + data[i]!.length)), data[i], `${t.name}'s bytes`);
    const next = i + 1 < header.tensors.length ? header.dataStart + header.tensors[i + 1]!.offset : file.length;
    assert.ok(file.subarray(start + data[i]!.length, next).every((b) => b === 0), `zero padding after ${t.name}`);
  });
});

test('an empty file (no metadata, no tensors) is a 32-byte header the reader accepts', () => {
  const path = join(work, 'empty.gguf');
  const writer = new GgufWriter(path, new Map(), []);
  writer.finish();
  assert.equal(writer.dataStart, 32); // 4 + 4 + 8 + 8 = 24 bytes, padded
  assert.equal(statSync(path).size, 32);
  const header = readGgufHeader(path);
  assert.equal(header.metadata.size, 0);
  assert.deepEqual(header.tensors, []);
  assert.equal(header.dataStart, 32);
});

test('the writer refuses tensors out of order, of the wrong size, past the end, and finish() before the last one', () => {
  const two: GgufTensorSpec[] = [{ name: 'x', dims: [8], type: GgmlType.F32 }, { name: 'y', dims: [4], type: GgmlType.F16 }];
  const outOfOrder = new GgufWriter(join(work, 'order.gguf'), new Map(), two);
  try {
    assert.throws(() => outOfOrder.write('y', new Uint8Array(8)), /expected tensor x, got y/);
  } finally { outOfOrder.abandon(); }

  const wrongSize = new GgufWriter(join(work, 'size.gguf'), new Map(), two);
  try {
    assert.throws(() => wrongSize.write('x', new Uint8Array(31)), /tensor x has 31 bytes, expected 32/);
    // a refused write does not count: the right bytes for x are still accepted
    wrongSize.write('x', new Uint8Array(32));
    assert.throws(() => wrongSize.write('y', new Uint8Array(16)), /tensor y has 16 bytes, expected 8/);
    wrongSize.write('y', new Uint8Array(8));
    assert.throws(() => wrongSize.write('z', new Uint8Array(0)), /expected tensor \(none\), got z/);
  } finally { wrongSize.abandon(); }

  const early = new GgufWriter(join(work, 'early.gguf'), new Map(), two);
  early.write('x', new Uint8Array(32));
  assert.throws(() => early.finish(), /1 tensors were not written/);
  early.abandon(); // finish closed the file already; abandon must not throw
});

test('a Q4_0 tensor whose rows are not a multiple of 32 is a UserError at construction, before any file exists', () => {
  const path = join(work, 'q4_rows.gguf');
  assert.throws(() => new GgufWriter(path, new Map(), [{ name: 'w', dims: [48, 2], type: GgmlType.Q4_0 }]),
    (e: unknown) => e instanceof UserError && /Q4_0 needs rows of a multiple of 32/.test(e.message) && /w/.test(e.message) && /f16/.test(e.hint ?? ''));
  assert.ok(!existsSync(path));
});

test('readGgufHeader: a text file is "not a GGUF file"; a file cut anywhere inside its header ends inside the header', () => {
  const text = join(work, 'notes.txt');
  writeFileSync(text, 'This is a plain text file, not a model.\n');
  assert.throws(() => readGgufHeader(text), (e: unknown) => e instanceof UserError && e.message.includes('not a GGUF file'));

  const whole = join(work, 'whole.gguf');
  const writer = new GgufWriter(whole, metadata, tensors);
  tensors.forEach((t, i) => writer.write(t.name, tensorBytes(t, i)));
  writer.finish();
  const bytes = readFileSync(whole);
  // the padding before the data is at most 31 bytes, so every cut below dataStart - 31 is inside what is read
  const cut = join(work, 'cut.gguf');
  for (let length = 0; length < writer.dataStart - 31; length += 3) {
    writeFileSync(cut, bytes.subarray(0, length));
    assert.throws(() => readGgufHeader(cut), (e: unknown) => e instanceof UserError && /ends inside its GGUF header/.test(e.message), `cut at ${length}`);
  }
});

test('quantizeQ4_0: 18-byte blocks, fp16 scale then 16 bytes (low nibble: element j, high nibble: element 16+j)', () => {
  // block 0: largest magnitude -4 (negative), so d = -4 / -8 = 0.5 and -4 is code 0; every value is on the grid
  // block 1: largest magnitude +6 (positive), so d = 6 / -8 = -0.75 and 6 is code 0
  const k0 = [3, -7, 0, 7, 1, -8, 2, -2, 5, -5, 6, -6, 4, -4, 1, -1, 0, 2, -3, 3, 7, -7, 6, 5, -1, 4, -2, 1, 0, 3, -6, 2];
  const k1 = Array.from({ length: 32 }, (_, i) => ((i * 5) % 16) - 8); // codes -8..7 on a scale of -0.75
  const values = Float32Array.from([...k0.map((k) => k * 0.5), ...k1.map((k) => k * -0.75)]);
  assert.equal(values[5], -4);
  assert.ok(values.subarray(32).includes(6));
  const q = quantizeQ4_0(values);
  assert.equal(q.length, 36);
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  assert.equal(view.getUint16(0, true), 0x3800, 'block 0 scale: fp16 0.5');
  assert.equal(view.getUint16(18, true), 0xba00, 'block 1 scale: fp16 -0.75');
  for (const [block, ks] of [[0, k0], [1, k1]] as const) {
    for (let j = 0; j < 16; j++) {
      const expected = (ks[j]! + 8) | ((ks[16 + j]! + 8) << 4);
      assert.equal(q[block * 18 + 2 + j], expected, `block ${block} byte ${j}`);
    }
  }
  // on-grid values come back exactly, the largest-magnitude one included
  assert.deepEqual(Array.from(dequantizeQ4_0(q, 64)), Array.from(values));
});

test('dequantizeQ4_0 decodes a hand-written block: x = (q - 8) * d', () => {
  const block = new Uint8Array(18);
  new DataView(block.buffer).setUint16(0, 0x3400, true); // 0.25
  for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
  const x = dequantizeQ4_0(block, 32);
  for (let j = 0; j < 16; j++) {
    assert.equal(x[j], (j - 8) * 0.25);
    assert.equal(x[16 + j], (15 - j - 8) * 0.25);
  }
});

test('quantizeQ4_0 round trip on random data: within half a step, a full step where the far side clamps at code 15', () => {
  const random = new SeededRandom(11);
  const blocks = 200;
  const values = Float32Array.from({ length: blocks * 32 }, (_, i) => random.nextSigned() * (1 + (i >> 5) % 7));
  const q = quantizeQ4_0(values);
  assert.equal(q.length, blocks * 18);
  const back = dequantizeQ4_0(q, values.length);
  const view = new DataView(q.buffer);
  let clamped = 0;
  for (let b = 0; b < blocks; b++) {
    const block = values.subarray(b * 32, b * 32 + 32);
    const max = block.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
    const d = float16BitsToFloat32(view.getUint16(b * 18, true));
    // the stored scale is max / -8 rounded to fp16
    assert.ok(Math.abs(d - max / -8) <= Math.abs(max / 8) * 2 ** -11, `block ${b} scale ${d} for max ${max}`);
    // quantizing used the unrounded scale: the fp16 rounding moves a code's value by at most 8 * |d| * 2^-11
    const slack = 8 * Math.abs(d) * 2 ** -11 + 1e-6;
    for (let j = 0; j < 32; j++) {
      const x = block[j]!;
      const error = Math.abs(back[b * 32 + j]! - x);
      // ggml's reference: x / d above 7.5 (the side opposite max, up to +8) is code 15 = 7 * d, up to one step off
      if (x / (max / -8) > 7.5) { clamped++; assert.ok(error <= Math.abs(d) + slack, `block ${b} element ${j}`); } else assert.ok(error <= Math.abs(d) / 2 + slack, `block ${b} element ${j}: ${x} -> ${back[b * 32 + j]} (d ${d})`);
    }
  }
  assert.ok(clamped > 0, 'random blocks do reach the clamped side');
});

test('quantizeQ4_0: an all-zero block stays zero; a length not a multiple of 32 throws', () => {
  const q = quantizeQ4_0(new Float32Array(32));
  // d = 0 / -8 is -0 (fp16 0x8000), as in ggml's C; either zero decodes to zeros
  assert.ok([0x0000, 0x8000].includes(new DataView(q.buffer).getUint16(0, true)));
  assert.ok(q.subarray(2).every((b) => b === 0x88), 'code 8 (zero) in every nibble');
  assert.ok(dequantizeQ4_0(q, 32).every((x) => x === 0));
  assert.throws(() => quantizeQ4_0(new Float32Array(33)), /multiple of 32/);
  assert.throws(() => quantizeQ4_0(new Float32Array(16)), /multiple of 32/);
});

test('permuteRotaryRows: row h*d + half*d/2 + j moves to h*d + 2j + half (2 heads of 4, rows of 3)', () => {
  const weight = Float32Array.from({ length: 8 * 3 }, (_, i) => Math.floor(i / 3) * 10 + (i % 3)); // row r holds r*10 + column
  const out = permuteRotaryRows(weight, 2, 3);
  // head 0: rows 0,1 (first half) and 2,3 (second half) become 0,2,1,3; head 1 likewise from 4
  const expectedRows = [0, 2, 1, 3, 4, 6, 5, 7];
  assert.deepEqual(Array.from(out), expectedRows.flatMap((r) => [r * 10, r * 10 + 1, r * 10 + 2]));
  for (let h = 0; h < 2; h++) {
    for (let half = 0; half < 2; half++) {
      for (let j = 0; j < 2; j++) {
        const from = h * 4 + half * 2 + j;
        const to = h * 4 + 2 * j + half;
        assert.deepEqual(Array.from(out.subarray(to * 3, to * 3 + 3)), [from * 10, from * 10 + 1, from * 10 + 2], `row ${from} -> ${to}`);
      }
    }
  }
});

/** Hugging Face's rotate_half: pairs (i, i + d/2) of each head turned by theta_i. */
function rotateHalf(x: Float32Array, heads: number, cos: number[], sin: number[]): number[] {
  const d = x.length / heads;
  const out = Array.from(x);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < d / 2; i++) {
      const a = x[h * d + i]!;
      const b = x[h * d + i + d / 2]!;
      out[h * d + i] = a * cos[i]! - b * sin[i]!;
      out[h * d + i + d / 2] = b * cos[i]! + a * sin[i]!;
    }
  }
  return out;
}

/** llama.cpp's Llama rotation (GGML_ROPE_TYPE_NORMAL): adjacent pairs (2i, 2i + 1) of each head turned by theta_i. */
function rotateInterleaved(x: Float32Array, heads: number, cos: number[], sin: number[]): number[] {
  const d = x.length / heads;
  const out = Array.from(x);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < d / 2; i++) {
      const a = x[h * d + 2 * i]!;
      const b = x[h * d + 2 * i + 1]!;
      out[h * d + 2 * i] = a * cos[i]! - b * sin[i]!;
      out[h * d + 2 * i + 1] = b * cos[i]! + a * sin[i]!;
    }
  }
  return out;
}

function assertClose(actual: number[], expected: number[], message: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= 1e-6, `${message}: element ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('permuteRotaryRows turns rotate_half into interleaved rotation: P(rotate_half(q)) = interleaved(P(q))', () => {
  const random = new SeededRandom(5);
  const headDim = 8;
  for (let trial = 0; trial < 20; trial++) {
    const q = Float32Array.from({ length: headDim }, () => random.nextSigned());
    const position = 1 + trial * 37;
    // Llama's frequencies theta_i = position * base^(-2i/d)
    const theta = Array.from({ length: headDim / 2 }, (_, i) => position * 10000 ** (-2 * i / headDim));
    const cos = theta.map(Math.cos);
    const sin = theta.map(Math.sin);
    const permute = (v: Float32Array | number[]) => Array.from(permuteRotaryRows(Float32Array.from(v), 1, 1));
    const viaHf = permute(rotateHalf(q, 1, cos, sin));
    const viaLlamaCpp = rotateInterleaved(Float32Array.from(permute(q)), 1, cos, sin);
    assertClose(viaLlamaCpp, viaHf, `trial ${trial}`);
    // without the permutation the two conventions disagree (the check above is not vacuous)
    const unpermuted = rotateInterleaved(q, 1, cos, sin);
    assert.ok(unpermuted.some((x, i) => Math.abs(x - rotateHalf(q, 1, cos, sin)[i]!) > 1e-3), `trial ${trial}: conventions differ`);
  }
});

test('the same holds for a q projection of several heads: interleaved((P W) x) = P(rotate_half(W x))', () => {
  const random = new SeededRandom(9);
  const heads = 3;
  const headDim = 8;
  const hidden = 5;
  const w = Float32Array.from({ length: heads * headDim * hidden }, () => random.nextSigned()); // [out, in] rows
  const x = Float32Array.from({ length: hidden }, () => random.nextSigned());
  const matvec = (m: Float32Array) => Float32Array.from({ length: m.length / hidden }, (_, r) => {
    let s = 0;
    for (let c = 0; c < hidden; c++) s += m[r * hidden + c]! * x[c]!;
    return s;
  });
  const theta = Array.from({ length: headDim / 2 }, (_, i) => 42 * 10000 ** (-2 * i / headDim));
  const cos = theta.map(Math.cos);
  const sin = theta.map(Math.sin);
  const viaHf = Array.from(permuteRotaryRows(Float32Array.from(rotateHalf(matvec(w), heads, cos, sin)), heads, 1));
  const viaLlamaCpp = rotateInterleaved(matvec(permuteRotaryRows(w, heads, hidden)), heads, cos, sin);
  assertClose(viaLlamaCpp, viaHf, 'three heads');
});

const plainLlama: DecoderConfig = {
  architecture: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
  vocabSize: 256, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: 'default' }, maxPositionEmbeddings: 2048,
  tieWordEmbeddings: true, qkvBias: false, oBias: false, bosTokenId: 1, eosTokenIds: [2],
};

test('ggufProblem: a plain Llama (and llama3 or linear rope scaling) passes; Qwen2, biases, sliding windows, yarn and dynamic do not', () => {
  assert.equal(ggufProblem(plainLlama), undefined);
  assert.equal(ggufProblem({ ...plainLlama, ropeScaling: { type: 'linear', factor: 2 } }), undefined);
  assert.equal(ggufProblem({ ...plainLlama, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 } }), undefined);

  const reason = (c: DecoderConfig, pattern: RegExp) => {
    const problem = ggufProblem(c);
    assert.ok(problem !== undefined && pattern.test(problem), `${JSON.stringify(problem)} should match ${pattern}`);
  };
  reason({ ...plainLlama, architecture: 'qwen2', qkvBias: true }, /architecture is qwen2/);
  reason({ ...plainLlama, architecture: 'mistral', slidingWindow: 4096 }, /architecture is mistral/);
  reason({ ...plainLlama, qkvBias: true }, /attention biases/);
  reason({ ...plainLlama, oBias: true }, /attention biases/);
  reason({ ...plainLlama, slidingWindow: 4096 }, /sliding attention window/);
  reason({ ...plainLlama, ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1, truncate: true } }, /rope scaling is yarn/);
  reason({ ...plainLlama, ropeScaling: { type: 'dynamic', factor: 2 } }, /rope scaling is dynamic/);
});
