// int4 block quantization in MatMulNBits' layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeInt4, quantizeInt4 } from '../../kernels/int4';
import { SeededRandom } from '../../kernels/randomCheckpoint';

test('values on the grid come back exactly and pack low nibble first, zero points two per byte', () => {
  const scale = 0.25;
  // a 32-wide block holding codes 0..15 twice: min -8*scale, max 7*scale gives scale and zero point 8 exactly
  const codes = Array.from({ length: 32 }, (_, i) => i % 16);
  const weight = Float32Array.from(codes, (q) => (q - 8) * scale);
  const q = quantizeInt4(weight, 1, 32, 32);
  assert.deepEqual(Array.from(q.scales), [scale]);
  assert.deepEqual(Array.from(q.zeroPoints), [8]);
  assert.deepEqual(Array.from(q.packed), Array.from({ length: 16 }, (_, j) => codes[2 * j]! | (codes[2 * j + 1]! << 4)));
  assert.deepEqual(dequantizeInt4(q), weight);
});

test('round-to-nearest: every weight within half a step of its block scale; zeros stay zero; K padding', () => {
  const random = new SeededRandom(3);
  for (const blockSize of [32, 64, 128] as const) {
    const n = 5;
    const k = 200; // not a multiple of any block size
    const weight = Float32Array.from({ length: n * k }, (_, i) => (i % 17 === 0 ? 0 : random.nextSigned() * (1 + (i % 3))));
    const q = quantizeInt4(weight, n, k, blockSize);
    const blocks = Math.ceil(k / blockSize);
    assert.equal(q.packed.length, n * blocks * blockSize / 2);
    assert.equal(q.zeroPoints.length, n * Math.ceil(blocks / 2));
    const back = dequantizeInt4(q);
    for (let i = 0; i < n * k; i++) {
      const scale = q.scales[Math.floor(i / k) * blocks + Math.floor((i % k) / blockSize)]!;
      assert.ok(Math.abs(back[i]! - weight[i]!) <= scale / 2 + 1e-7, `element ${i}`);
      if (weight[i] === 0) assert.equal(back[i], 0);
    }
  }
});
