// The extension's model job in a worker thread, against the fixture Hub: progress messages in order, the result,
// a cancel mid-download that keeps the partial blob, and a UserError that keeps its hint across the thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, UserError } from '../../engine/errors';
import { readSidecar } from '../../kernels/sidecar';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { runModelJob } from '../../extension/models/workerRun';
import type { FromModelWorker } from '../../extension/models/workerProtocol';
import { FixtureHub } from './fixtureHub';

const work = mkdtempSync(join(tmpdir(), 'models-worker-'));
const checkpoint = join(work, 'checkpoint');
writeRandomCheckpoint(checkpoint, randomShapes.tiny, 2, { shardBytes: 200_000 });
const hub = new FixtureHub();
const repo = 'fixture-org/tiny-worker';
hub.addRepo(repo, checkpoint);
test.before(() => hub.start());
test.after(async () => { await hub.stop(); rmSync(work, { recursive: true, force: true }); });
const job = (name: string, extra = {}) => ({
  repo, dtype: 'auto' as const, modelsDir: join(work, `models-${name}`), available: { bytes: 4 * 1024 ** 3, source: 'test' },
  settings: { endpoint: hub.endpoint, cacheDir: join(work, `cache-${name}`), offline: false }, ...extra,
});

test('a model job downloads and converts in a worker thread, reporting the plan, then download, then conversion progress', async () => {
  const seen: FromModelWorker['type'][] = [];
  const result = await runModelJob(job('a'), { onMessage: (m) => { if (seen.at(-1) !== m.type) seen.push(m.type); } });
  assert.deepEqual(seen, ['download', 'plan', 'download', 'convert']);
  assert.equal(result.dtype, 'fp16');
  assert.equal(readSidecar(result.modelDir).onnx.dtype, 'fp16');
});

test('cancelling mid-download stops the worker with CancelledError and keeps the partial blob for resume', async () => {
  const controller = new AbortController();
  const shard = readdirSync(checkpoint).find((f) => f.endsWith('.safetensors'))!;
  hub.faults = { stall: { path: shard, afterBytes: 30_000 } };
  const j = job('b');
  await assert.rejects(runModelJob(j, { signal: controller.signal, onMessage: (m) => { if (m.type === 'download' && m.progress.file === shard && m.progress.doneBytes > 0) controller.abort(); } }), CancelledError);
  hub.faults = {};
  assert.ok(!existsSync(j.modelsDir) || readdirSync(j.modelsDir).length === 0);
  const blobs = readdirSync(join(j.settings.cacheDir, 'models--fixture-org--tiny-worker', 'blobs'));
  assert.ok(blobs.some((b) => b.endsWith('.incomplete')), 'the partial shard stays in the cache');
  hub.requests.length = 0;
  const again = await runModelJob(j);
  assert.ok(again.reusedBytes >= 30_000);
  assert.ok(hub.requests.some((r) => r.range === 'bytes=30000-'));
});

test('a gated repository\'s UserError crosses the thread with its hint', async () => {
  hub.faults = { gated: { repo, token: 'hf_x' } };
  await assert.rejects(runModelJob(job('c')), (e: unknown) => e instanceof UserError && /gated/.test(e.message) && /Accept the license at/.test(e.hint ?? ''));
  hub.faults = {};
});
