// pullModel and `prolong pull` / `prolong models` against the fixture Hub: download + convert, reuse of the HF cache,
// a hand-placed checkpoint converted without a download, and a failed conversion leaving no finished-looking model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufHeader } from '../../kernels/gguf';
import { CancelledError } from '../../engine/errors';
import { listConvertedModels, pullModel, removeConvertedModel } from '../../engine/models/library';
import { readSidecar } from '../../kernels/sidecar';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { FixtureHub } from './fixtureHub';

const work = mkdtempSync(join(tmpdir(), 'models-pull-'));
const checkpoint = join(work, 'checkpoint');
writeRandomCheckpoint(checkpoint, randomShapes.tiny, 6, { shardBytes: 200_000 });
const hub = new FixtureHub();
const repo = 'fixture-org/tiny-pull';
const commit = hub.addRepo(repo, checkpoint);
test.before(() => hub.start());
test.after(async () => { await hub.stop(); rmSync(work, { recursive: true, force: true }); });
const memory = { bytes: 8 * 1024 ** 3, source: 'test' };
const fileRequests = () => hub.requests.filter((r) => r.url.includes('/resolve/') || r.url.startsWith('/blobs/'));

test('pullModel downloads, converts into MODELS/ORG--NAME--DTYPE, and a second pull converts from the cache without a download', async () => {
  const settings = { endpoint: hub.endpoint, cacheDir: join(work, 'cache-a'), offline: false };
  const modelsDir = join(work, 'models-a');
  const plans: string[] = [];
  const pulled = await pullModel({ repo, dtype: 'auto', modelsDir, settings, available: memory, onPlan: (p) => plans.push(p.dtype) });
  assert.deepEqual(plans, ['fp16']);
  assert.equal(pulled.modelDir, join(modelsDir, 'fixture-org--tiny-pull--fp16'));
  assert.equal(readSidecar(pulled.modelDir).model.source, join(settings.cacheDir, 'models--fixture-org--tiny-pull', 'snapshots', commit));
  assert.deepEqual(listConvertedModels(modelsDir).map((m) => [m.name, m.sidecar.onnx.dtype]), [[repo, 'fp16']]);
  hub.requests.length = 0;
  // with the llama.cpp runtime's GPU build installed the extension asks for a GGUF too (Q4_0 beside int4)
  const again = await pullModel({ repo, dtype: 'int4', modelsDir, settings, available: memory, gguf: true });
  assert.equal(again.downloadedBytes, 0);
  assert.equal(fileRequests().length, 0);
  assert.equal(readSidecar(again.modelDir).onnx.dtype, 'int4');
  assert.deepEqual(readSidecar(again.modelDir).gguf, { file: 'model.gguf', type: 'q4_0' });
  assert.equal(readGgufHeader(join(again.modelDir, 'model.gguf')).metadata.get('general.file_type'), 2);
  removeConvertedModel(again.modelDir);
  assert.deepEqual(listConvertedModels(modelsDir).map((m) => m.sidecar.onnx.dtype), ['fp16']);
  assert.throws(() => removeConvertedModel(work), /not a converted ProLong model/);
});

test('a checkpoint placed by hand in the HF cache converts with HF_HUB_OFFLINE and no request at all', async () => {
  const cacheDir = join(work, 'cache-hand');
  const root = join(cacheDir, 'models--hand-org--hand');
  const snap = join(root, 'snapshots', 'c'.repeat(40));
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(root, 'blobs'));
  mkdirSync(join(root, 'refs'));
  writeFileSync(join(root, 'refs', 'main'), 'c'.repeat(40));
  for (const name of readdirSync(checkpoint)) {
    copyFileSync(join(checkpoint, name), join(root, 'blobs', `b-${name}`));
    symlinkSync(join('..', '..', 'blobs', `b-${name}`), join(snap, name));
  }
  hub.requests.length = 0;
  const pulled = await pullModel({ repo: 'hand-org/hand', dtype: 'fp16', modelsDir: join(work, 'models-hand'), settings: { endpoint: hub.endpoint, cacheDir, offline: true }, available: memory });
  assert.equal(hub.requests.length, 0);
  assert.equal(pulled.checkpointDir, snap);
  assert.equal(readSidecar(pulled.modelDir).model.numLayers, randomShapes.tiny.numLayers);
});

test('a cancelled conversion after the download leaves the checkpoint in the cache and no model folder', async () => {
  const settings = { endpoint: hub.endpoint, cacheDir: join(work, 'cache-c'), offline: false };
  const modelsDir = join(work, 'models-c');
  const controller = new AbortController();
  await assert.rejects(pullModel({ repo, dtype: 'fp16', modelsDir, settings, available: memory, signal: controller.signal,
    onConvert: (p) => { if (p.doneParameters > 10000) controller.abort(); } }), CancelledError);
  assert.deepEqual(existsSync(modelsDir) ? readdirSync(modelsDir) : [], []);
  assert.ok(existsSync(join(settings.cacheDir, 'models--fixture-org--tiny-pull', 'snapshots', commit, 'config.json')));
});

function cli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // spawn, not spawnSync: the fixture Hub answers from this process's event loop
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', ...args], { env: { ...process.env, ...env } });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('prolong pull then prolong models --json, with HF_ENDPOINT and HF_HUB_CACHE; a 404 is one line', async () => {
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(work, 'cache-cli'), XDG_CACHE_HOME: join(work, 'xdg'), HF_HOME: join(work, 'hf-home'), HF_TOKEN: '' };
  const pull = await cli(['pull', repo, '--dtype', 'int4', '--memory-gib', '4', '--json'], env);
  assert.equal(pull.status, 0, pull.stderr);
  const result = JSON.parse(pull.stdout) as { modelDir: string; dtype: string; commit: string };
  assert.equal(result.modelDir, join(work, 'xdg', 'prolong', 'models', 'fixture-org--tiny-pull--int4'));
  assert.equal(result.commit, commit);
  assert.match(pull.stderr, /^fixture-org\/tiny-pull: [\d.]+M params · .* · trained 512 · fits 512 here \(the memory size given\); converting to int4$/m);
  const models = await cli(['models', '--json', '--memory-gib', '4'], env);
  assert.equal(models.status, 0, models.stderr);
  const listed = JSON.parse(models.stdout) as { converted: { name: string; dtype: string }[]; checkpoints: { name: string; commit: string }[] };
  assert.deepEqual(listed.converted.map((m) => [m.name, m.dtype]), [[repo, 'int4']]);
  assert.deepEqual(listed.checkpoints.map((c) => [c.name, c.commit]), [[repo, commit]]);
  const missing = await cli(['pull', 'fixture-org/none'], env);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, `prolong: fixture-org/none was not found on ${hub.endpoint} (model info: HTTP 404). Check the name and revision at ${hub.endpoint}/fixture-org/none.\n`);
});
