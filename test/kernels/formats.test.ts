// safetensors reading/writing, half-precision conversion and checkpoint discovery (single file and shards).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import { Checkpoint } from '../../kernels/checkpoint';
import { bf16ToFloat32, float16BitsToFloat32, float32BitsToBf16, float32BitsToFloat16 } from '../../kernels/float16';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { SafetensorsFile, writeSafetensors, type SafetensorsDtype } from '../../kernels/safetensors';

const work = mkdtempSync(join(tmpdir(), 'kernels-formats-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!;

test('float16 conversion follows IEEE 754 binary16 with round-to-nearest-even', () => {
  assert.equal(float32BitsToFloat16(bitsOf(1)), 0x3c00);
  assert.equal(float32BitsToFloat16(bitsOf(-2)), 0xc000);
  assert.equal(float32BitsToFloat16(bitsOf(65504)), 0x7bff); // largest finite
  assert.equal(float32BitsToFloat16(bitsOf(65520)), 0x7c00); // halfway to 65536 rounds to even: infinity
  assert.equal(float32BitsToFloat16(bitsOf(2 ** -24)), 0x0001); // smallest subnormal
  assert.equal(float32BitsToFloat16(bitsOf(2 ** -26)), 0x0000); // below half of it: zero
  assert.equal(float32BitsToFloat16(bitsOf(1 + 2 ** -11)), 0x3c00); // tie between 1 and 1+2^-10 goes to even
  assert.equal(float32BitsToFloat16(bitsOf(1 + 3 * 2 ** -11)), 0x3c02); // tie goes up to even
  assert.ok(Number.isNaN(float16BitsToFloat32(float32BitsToFloat16(bitsOf(NaN)))));
  // every finite half survives half -> float -> half
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(float32BitsToFloat16(bitsOf(float16BitsToFloat32(h))), h);
});

test('bfloat16 conversion rounds to nearest even and reads back exactly', () => {
  assert.equal(float32BitsToBf16(bitsOf(1)), 0x3f80);
  assert.equal(float32BitsToBf16(0x3f808000), 0x3f80); // tie, even stays
  assert.equal(float32BitsToBf16(0x3f818000), 0x3f82); // tie, odd rounds up
  assert.deepEqual(Array.from(bf16ToFloat32(Uint16Array.of(0x3f80, 0xc040))), [1, -3]);
});

test('safetensors written piece by piece read back in every dtype, data 8-byte aligned', () => {
  const path = join(work, 'round.safetensors');
  const values = Float32Array.from({ length: 300 }, (_, i) => (i - 150) / 8);
  const dtypes: SafetensorsDtype[] = ['F32', 'F16', 'BF16'];
  writeSafetensors(path, dtypes.map((dtype) => ({
    name: `t.${dtype}`, dtype, shape: [3, 100],
    write(emit) {
      for (let start = 0; start < 300; start += 128) {
        const part = values.subarray(start, Math.min(300, start + 128));
        if (dtype === 'F32') { emit(new Uint8Array(part.slice().buffer)); continue; }
        const convert = dtype === 'F16' ? float32BitsToFloat16 : float32BitsToBf16;
        emit(new Uint8Array(Uint16Array.from(part, (x) => convert(bitsOf(x))).buffer));
      }
    },
  })));
  const headerLength = Number(readFileSync(path).readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0);
  const file = new SafetensorsFile(path);
  try {
    // these values are exact in all three formats
    for (const dtype of dtypes) assert.deepEqual(Array.from(file.readFloat32(`t.${dtype}`)), Array.from(values));
    assert.deepEqual(file.info('t.F16').shape, [3, 100]);
    assert.throws(() => file.readFloat32('missing'), UserError);
  } finally {
    file.close();
  }
});

test('a truncated safetensors file is refused with a UserError naming it', () => {
  const path = join(work, 'cut.safetensors');
  writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1000], write: (emit) => emit(new Uint8Array(4000)) }]);
  truncateSync(path, 2000);
  assert.throws(() => new SafetensorsFile(path), (e: unknown) => e instanceof UserError && e.message.includes(path));
  writeFileSync(path, 'not a safetensors file');
  assert.throws(() => new SafetensorsFile(path), UserError);
});

test('a sharded checkpoint (index + shards) reads the same tensors as a single-file one', () => {
  const single = join(work, 'single');
  const sharded = join(work, 'sharded');
  writeRandomCheckpoint(single, randomShapes.tiny, 5);
  writeRandomCheckpoint(sharded, randomShapes.tiny, 5, { shardBytes: 50_000 });
  const a = new Checkpoint(single);
  const b = new Checkpoint(sharded);
  try {
    const index = JSON.parse(readFileSync(join(sharded, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    assert.ok(new Set(Object.values(index.weight_map)).size > 2, 'several shards');
    for (const name of Object.keys(index.weight_map)) assert.deepEqual(b.readFloat32(name), a.readFloat32(name));
  } finally {
    a.close();
    b.close();
  }
});

test('a random checkpoint is reproducible from its seed and differs across seeds', () => {
  writeRandomCheckpoint(join(work, 's1'), randomShapes.tiny, 1);
  writeRandomCheckpoint(join(work, 's1b'), randomShapes.tiny, 1);
  writeRandomCheckpoint(join(work, 's2'), randomShapes.tiny, 2);
  const bytes = (dir: string) => readFileSync(join(work, dir, 'model.safetensors'));
  assert.ok(bytes('s1').equals(bytes('s1b')));
  assert.ok(!bytes('s1').equals(bytes('s2')));
});

test('a checkpoint without safetensors weights is refused with a hint', () => {
  const dir = join(work, 'bin-only');
  writeRandomCheckpoint(dir, randomShapes.tiny, 1);
  rmSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'pytorch_model.bin'), '');
  assert.throws(() => new Checkpoint(dir), (e: unknown) => e instanceof UserError && /safetensors/.test(e.toString()));
});

/** A safetensors file with exactly this header (any JSON text) and `dataBytes` zero bytes after it. */
function rawSafetensors(path: string, headerText: string, dataBytes = 0): void {
  const header = Buffer.from(headerText, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([length, header, Buffer.alloc(dataBytes)]));
}

test('malformed safetensors headers are UserErrors naming the file, never raw TypeErrors', () => {
  const path = join(work, 'malformed.safetensors');
  const refused = (headerText: string, pattern: RegExp) => {
    rawSafetensors(path, headerText, 16);
    assert.throws(() => new SafetensorsFile(path), (e: unknown) => e instanceof UserError && e.message.includes(path) && pattern.test(e.message) && e.hint !== undefined,
      headerText);
  };
  refused('[1, 2]', /not a JSON object/);
  refused('null', /not a JSON object/);
  refused('{"w": {"dtype": "F32", "data_offsets": [0, 16]}}', /tensor w lacks a valid dtype, shape or data_offsets/);
  refused('{"w": {"dtype": "F32", "shape": [4]}}', /tensor w lacks/);
  refused('{"w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}', /tensor w lacks/);
  refused('{"w": {"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]}}', /tensor w lacks/);
  refused('{"w": 7}', /tensor w lacks/);
  refused('{"w": {"dtype": "toString", "shape": [4], "data_offsets": [0, 16]}}', /dtype toString/);
  rawSafetensors(path, '{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', 16);
  const file = new SafetensorsFile(path);
  assert.deepEqual([...file.readFloat32('w')], [0, 0, 0, 0]);
  file.close();
});

test('an invalid model.safetensors.index.json is a UserError naming it, with what to do', () => {
  const dir = join(work, 'bad-index');
  writeRandomCheckpoint(dir, randomShapes.tiny, 1, { shardBytes: 50_000 });
  const indexPath = join(dir, 'model.safetensors.index.json');
  const refused = (text: string, pattern: RegExp) => {
    writeFileSync(indexPath, text);
    assert.throws(() => new Checkpoint(dir), (e: unknown) => e instanceof UserError && e.message.includes(indexPath) && pattern.test(e.message)
      && /Re-download/.test(e.hint ?? ''), text);
  };
  refused('{"weight_map": {"a": "model-00001.safetensors",', /is not valid JSON/);
  refused('null', /has no "weight_map" object/);
  refused('{"metadata": {}}', /has no "weight_map" object/);
  refused('{"weight_map": ["model-00001.safetensors"]}', /has no "weight_map" object/);
  refused('{"weight_map": {"a": 3}}', /lists 3 as a shard/);
});
