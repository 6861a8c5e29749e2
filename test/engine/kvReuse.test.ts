// Prefix reuse at the model level: a cache cut back to a common prefix and extended gives the same logits as
// running the whole prompt from scratch, for every KV placement the CPU runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRunner, readModelFiles } from '../../engine/runtime/modelRunner';
import { probeWebGpu } from '../../engine/runtime/executionProvider';
import type { ExecutionProviderName, KvPlacement } from '../../engine/runtime/protocol';
import { seededRandom } from '../../engine/runtime/sampler';
import { tinyModel } from './fixtures';

function tokens(seed: number, n: number, vocab: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Math.floor(random() * vocab));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

async function runInChunks(runner: ModelRunner, kv: ReturnType<ModelRunner['createKvCache']>, prompt: number[], chunk: number): Promise<Float32Array> {
  let logits: Float32Array | undefined;
  for (let at = 0; at < prompt.length; at += chunk) logits = await runner.run(prompt.slice(at, at + chunk), kv);
  return logits!;
}

// WebGPU runs where an adapter exists (a GPU, or Mesa's lavapipe on a CI machine): there the 'device' cache
// stays in gpu-buffer tensors and is cut by the slice model.
let webGpuProbe: Promise<string | undefined> | undefined;
const cases: { provider: ExecutionProviderName; placement: KvPlacement }[] = [
  { provider: 'cpu', placement: 'device' }, { provider: 'cpu', placement: 'host-copy' },
  { provider: 'webgpu', placement: 'device' }, { provider: 'webgpu', placement: 'host-copy' },
  // shared buffers written in place (this caught onnxruntime-node ignoring pre-allocated fetches), and decode steps
  // replayed from a graph capture on them
  { provider: 'webgpu', placement: 'device-shared' }, { provider: 'webgpu', placement: 'device-graph' },
];
for (const { provider, placement } of cases) {
  test(`${placement} KV cache on ${provider}: reuse after a cut gives the logits of a full recompute`, async (t) => {
    if (provider === 'webgpu') {
      const failure = await (webGpuProbe ??= probeWebGpu());
      if (failure !== undefined) { t.skip(`no WebGPU adapter: ${failure}`); return; }
    }
    const dir = await tinyModel();
    const files = readModelFiles(dir);
    const vocab = files.sidecar.model.vocabSize;
    const runner = await ModelRunner.load(files, provider, placement);
    try {
      // A document shared by two questions, long enough that the in-place CPU buffer grows past 256 positions.
      const documentTokens = tokens(1, 300, vocab);
      const first = [...documentTokens, ...tokens(2, 20, vocab)];
      const second = [...documentTokens, ...tokens(3, 25, vocab)];

      const reused = runner.createKvCache(512);
      await runInChunks(runner, reused, first, 64);
      for (const token of tokens(4, 5, vocab)) await runner.run([token], reused); // an answer, decoded
      assert.equal(reused.length, first.length + 5);
      await reused.truncate(documentTokens.length);
      assert.equal(reused.length, documentTokens.length);
      const fromReuse = await runInChunks(runner, reused, second.slice(documentTokens.length), 64);

      // The recompute runs the same chunks (chunk boundaries change float rounding on WebGPU, by about 3e-4).
      const fresh = runner.createKvCache(512);
      await runInChunks(runner, fresh, documentTokens, 64);
      const fromScratch = await runInChunks(runner, fresh, second.slice(documentTokens.length), 64);
      assert.equal(fromReuse.length, vocab);
      const difference = maxDifference(fromReuse, fromScratch);
      assert.ok(difference <= 1e-5, `largest logit difference ${difference}`);

      // The decode step after reuse matches too (the cache content beyond the prompt is right, not just the last row).
      const next = [7];
      const stepReuse = await runner.run(next, reused);
      const stepScratch = await runner.run(next, fresh);
      assert.ok(maxDifference(stepReuse, stepScratch) <= 1e-5);
      reused.dispose();
      fresh.dispose();
    } finally {
      await runner.release();
    }
  });
}

test('chunked prefill gives the logits of one whole run', async () => {
  const dir = await tinyModel();
  const files = readModelFiles(dir);
  const runner = await ModelRunner.load(files, 'cpu', 'device');
  try {
    const prompt = tokens(5, 200, files.sidecar.model.vocabSize);
    const whole = await runner.run(prompt, runner.createKvCache(512));
    const chunked = await runInChunks(runner, runner.createKvCache(512), prompt, 33);
    assert.ok(maxDifference(whole, chunked) <= 1e-5);
  } finally {
    await runner.release();
  }
});
