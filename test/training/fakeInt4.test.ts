// training/model.py's fake_int4 (the embedding's quantization-aware training, train.py --qat-embedding) must round
// exactly as the converter's int4 (kernels/int4.ts) does, or training would learn another model than the one shipped.
// Needs a python3 with torch and numpy (the GPU machine's, or Debian's python3-torch); skipped where there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dequantizeInt4, quantizeInt4 } from '../../kernels/int4';
import { tempDir } from '../packer/fixtures';

const training = join(__dirname, '..', '..', 'training');
const python = ['python3', '/usr/bin/python3'].find((bin) => spawnSync(bin, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0);

test('fake_int4 gives back what the converter\'s int4 dequantizes to, and passes the gradient straight through', { skip: !python && 'no python3 with torch here' }, () => {
  const n = 41;
  const k = 200; // not a multiple of the block: the last block is padded
  const weight = new Float32Array(n * k);
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < weight.length; i++) weight[i] = (random() - 0.5) * 0.2 * (1 + (i % 7));
  weight.fill(0, 0, k); // a row of zeros: scale 0
  for (let i = k; i < 2 * k; i++) weight[i] = Math.abs(weight[i]!); // a row without negatives: the range starts at 0
  const expected = dequantizeInt4(quantizeInt4(weight, n, k, 64));
  const dir = tempDir();
  writeFileSync(join(dir, 'w.f32'), weight);
  const script = [
    'import sys, numpy as np, torch',
    `sys.path.insert(0, ${JSON.stringify(training)})`,
    'from model import fake_int4',
    `w = torch.tensor(np.fromfile(${JSON.stringify(join(dir, 'w.f32'))}, dtype=np.float32).reshape(${n}, ${k}), requires_grad=True)`,
    'q = fake_int4(w, 64)',
    'q.sum().backward()',
    `q.detach().numpy().astype(np.float32).tofile(${JSON.stringify(join(dir, 'q.f32'))})`,
    'print(float(w.grad.min()), float(w.grad.max()))',
  ].join('\n');
  const run = spawnSync(python!, ['-c', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), '1.0 1.0', 'the gradient is passed straight through');
  const got = new Float32Array(readFileSync(join(dir, 'q.f32')).buffer.slice(0));
  assert.equal(got.length, expected.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  assert.equal(worst, 0, `largest difference ${worst} (one code apart is a whole step, over 1e-3 here)`);
  for (let i = 0; i < k; i++) assert.equal(got[i], 0);
});
