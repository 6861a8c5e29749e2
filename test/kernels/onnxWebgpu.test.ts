// The same end-to-end checks as onnxCpu.test.ts on onnxruntime's WebGPU execution provider. On machines
// without a GPU this runs on Mesa's lavapipe (install-lavapipe.sh, run by .ci/run); it skips, saying why,
// only when no WebGPU adapter exists at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomShapes } from '../../kernels/randomCheckpoint';
import { verifyCase, type VerifyCase } from '../../kernels/verify';
import { webgpuUnavailableReason } from '../../kernels/webgpuProbe';

const work = mkdtempSync(join(tmpdir(), 'kernels-webgpu-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

// Short prompts and two cases: lavapipe compiles a shader per new shape (about a minute per case with a cold
// Mesa shader cache on 2 cores) and runs 5-20x slower than the CPU provider. fp16 graphs are checked on the
// GPU machine (out/kernels-check.js) and on the CPU provider.
const cases: { c: VerifyCase; bound: number }[] = [
  { c: { name: 'gpu-fp32-gqa', shape: randomShapes.tiny, dtype: 'fp32', tokens: 12, chunk: 5 }, bound: 1e-4 },
  { c: { name: 'gpu-int4-fp16', shape: { ...randomShapes.tiny, architecture: 'qwen2' }, dtype: 'int4', ioDtype: 'fp16', int4Embedding: true, tokens: 12, chunk: 5 }, bound: 2e-2 },
];

test('WebGPU execution provider matches the reference', async (t) => {
  const unavailable = await webgpuUnavailableReason(work);
  if (unavailable) {
    console.log(`WebGPU tests skipped: ${unavailable}`);
    t.skip(`no WebGPU adapter: ${unavailable}`);
    return;
  }
  for (const { c, bound } of cases) {
    await t.test(`${c.name}: prefill, chunked prefill and decode within ${bound} of the reference`, async () => {
      const r = await verifyCase(work, c, 'webgpu');
      console.log(`webgpu ${c.name}: ${JSON.stringify(r)}`);
      assert.ok(r.prefill <= bound && r.chunked <= bound && r.decode <= bound, JSON.stringify(r));
    });
  }
});
