// Graph-captured decoding: the decode variant of the graph (checked on the CPU, where it runs without capture),
// the placement choice, and on a WebGPU adapter the engine's greedy answer with the placement it picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeGraphFileName, deriveDecodeGraph, ensureDecodeGraph } from '../../kernels/decodeGraph';
import { DataType, OnnxModelWriter } from '../../kernels/onnxWriter';
import { choosePlacement } from '../../engine/runtime/engine';
import { probeWebGpu } from '../../engine/runtime/executionProvider';
import { graphDecodeProblem } from '../../engine/runtime/graphDecoder';
import { CpuKvCache } from '../../engine/runtime/kvCache';
import { LocalBackend } from '../../engine/runtime/localBackend';
import { ModelRunner, readModelFiles } from '../../engine/runtime/modelRunner';
import { seededRandom } from '../../engine/runtime/sampler';
import { UserError } from '../../engine/errors';
import { tinyModel } from './fixtures';

const work = mkdtempSync(join(tmpdir(), 'graph-decode-test-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function tokens(seed: number, n: number, vocab: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Math.floor(random() * vocab));
}

test('the decode graph gives the full graph\'s logits, step after step, on a shared cache (CPU)', async () => {
  const dir = await tinyModel();
  const files = readModelFiles(dir);
  const { onnx, model } = files.sidecar;
  const decodePath = ensureDecodeGraph(dir, onnx.file);
  const decode = await ort.InferenceSession.create(decodePath, { executionProviders: ['cpu'] });
  const inputs = decode.inputNames;
  assert.ok(!inputs.includes(onnx.inputs.attentionMask) && inputs.includes('seqlens_k') && inputs.includes('total_sequence_length'), inputs.join());
  const runner = await ModelRunner.load(files, 'cpu', 'device');
  try {
    const prompt = tokens(1, 40, model.vocabSize);
    const regular = runner.createKvCache(128);
    const viaDecodeGraph = runner.createKvCache(128) as CpuKvCache;
    await runner.run(prompt, regular);
    await runner.run(prompt, viaDecodeGraph);
    for (const token of tokens(2, 8, model.vocabSize)) {
      const expected = await runner.run([token], regular);
      const position = viaDecodeGraph.length;
      const { feeds, fetches } = viaDecodeGraph.bind(1);
      const result = await decode.run({
        ...feeds,
        [onnx.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from([BigInt(token)]), [1, 1]),
        seqlens_k: new ort.Tensor('int32', Int32Array.from([position]), [1]),
        total_sequence_length: new ort.Tensor('int32', Int32Array.from([position + 1]), []),
      }, { ...fetches, [onnx.outputs.logits]: null } as ort.InferenceSession.FetchesType);
      viaDecodeGraph.commit(result, 1);
      const got = result[onnx.outputs.logits]!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      assert.ok(worst <= 1e-5, `step at ${position}: largest logit difference ${worst}`);
    }
  } finally {
    await runner.release();
    await decode.release();
  }
});

test('the decode graph is written once beside the model and again when the model is newer', async () => {
  const dir = await tinyModel();
  const { onnx } = readModelFiles(dir).sidecar;
  const path = ensureDecodeGraph(dir, onnx.file);
  assert.equal(path, join(dir, decodeGraphFileName(onnx.file)));
  const written = statSync(path).mtimeMs;
  assert.equal(ensureDecodeGraph(dir, onnx.file), path);
  assert.equal(statSync(path).mtimeMs, written, 'a fresh decode graph is not rewritten');
  const derived = readFileSync(path);
  writeFileSync(path, 'stale');
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(dir, onnx.file), later, later);
  ensureDecodeGraph(dir, onnx.file);
  assert.deepEqual(readFileSync(path), derived, 'a model converted again gets a new decode graph');
  const rederived = statSync(path);
  assert.ok(rederived.mtimeMs >= later.getTime(), 'dated no earlier than its model');
  ensureDecodeGraph(dir, onnx.file);
  // a new derivation is written beside and renamed over: a new inode
  assert.equal(statSync(path).ino, rederived.ino, 'and it is fresh from then on: not derived again');
});

test('a graph not written by the model builder is refused with a UserError', () => {
  const writer = new OnnxModelWriter(join(work, 'other.onnx.data'));
  writer.input('x', DataType.FLOAT, [2]);
  writer.node('Relu', ['x'], ['y']);
  writer.output('y', DataType.FLOAT, [2]);
  writer.finish(join(work, 'other.onnx'), 'other');
  assert.throws(() => deriveDecodeGraph(readFileSync(join(work, 'other.onnx')), 'other.onnx'),
    (error: unknown) => error instanceof UserError && /other\.onnx has no attention_mask/.test(error.message));
  writeFileSync(join(work, 'garbage.onnx'), 'not a model');
  assert.throws(() => deriveDecodeGraph(readFileSync(join(work, 'garbage.onnx'))));
});

test('placement: shared buffers by default on WebGPU; graph capture only when asked for, fitting twice and replaying right', async () => {
  const works = async () => undefined;
  const stale = async () => 'replays differ';
  const never = async (): Promise<string | undefined> => { throw new Error('must not be checked'); };
  assert.deepEqual(await choosePlacement(undefined, 'cpu', true, never), { name: 'device' });
  assert.deepEqual(await choosePlacement(undefined, 'webgpu', false, never), { name: 'device-shared' });
  assert.deepEqual(await choosePlacement('host-copy', 'webgpu', true, never), { name: 'host-copy' });
  assert.deepEqual(await choosePlacement('device', 'webgpu', true, never), { name: 'device' });
  assert.equal((await choosePlacement('device-graph', 'webgpu', true, works)).name, 'device-graph');
  await assert.rejects(choosePlacement('device-graph', 'webgpu', true, stale), (error: unknown) => error instanceof UserError && /device-graph.*replays differ/.test(error.message));
  await assert.rejects(choosePlacement('device-graph', 'webgpu', false, never), (error: unknown) => error instanceof UserError && /fit in GPU memory twice/.test(error.message));
});

// The default placement (shared buffers) and graph capture, where this adapter replays right (lavapipe in CI does),
// answer like the CPU engine, token for token, twice on the same cache.
test('WebGPU: shared-buffer and graph-captured decoding answer like the CPU engine', async (t) => {
  const failure = await probeWebGpu();
  if (failure !== undefined) { t.skip(`no WebGPU adapter: ${failure}`); return; }
  const problem = await graphDecodeProblem();
  console.log(`graph-captured decoding on this adapter: ${problem ?? 'works'}`);
  const dir = await tinyModel();
  const vocab = readModelFiles(dir).sidecar.model.vocabSize;
  const prompt = tokens(5, 30, vocab);
  const request = { prompt: { kind: 'tokens' as const, tokens: prompt }, sampling: { maxTokens: 10 }, ignoreStopTokens: true, returnTokens: true };
  const cpu = new LocalBackend({ modelDir: dir, executionProvider: 'cpu', contextTokens: 256, prefillChunkTokens: 16 });
  const expected = (await cpu.run(request)).engine?.tokens;
  await cpu.dispose();
  const placements = [{ kv: undefined, detail: /pre-allocated GPU buffers/ }, ...(problem === undefined ? [{ kv: 'device-graph' as const, detail: /replayed from a graph capture/ }] : [])];
  for (const { kv, detail } of placements) {
    const gpu = new LocalBackend({ modelDir: dir, executionProvider: 'webgpu', contextTokens: 256, prefillChunkTokens: 16, kvPlacement: kv });
    try {
      assert.match((await gpu.info()).detail, detail);
      assert.deepEqual((await gpu.run(request)).engine?.tokens, expected, kv ?? 'default');
      // a second question on the same cache (a graph capture stays bound to it)
      assert.deepEqual((await gpu.run(request)).engine?.tokens, expected, kv ?? 'default');
    } finally {
      await gpu.dispose();
    }
  }
});
