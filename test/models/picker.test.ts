// The Select Model list: its groups, what each entry says (fit, dtype, size) and which one is current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curatedEntries, modelPickerEntries } from '../../extension/models/pickerItems';
import { modelFit } from '../../engine/models/modelFit';
import { curatedModels } from '../../engine/models/curated';
import type { ModelSidecar } from '../../kernels/sidecar';

const memory = { bytes: 24 * 1024 ** 3, source: 'test' };
const sidecar = { model: { contextLength: 65536, maxPositionEmbeddings: 524288 }, onnx: { dtype: 'int4' } } as unknown as ModelSidecar;

test('the picker lists converted models (current marked), cache checkpoints with their fit, server models, then Download', () => {
  const prolong = curatedModels[0]!;
  const entries = modelPickerEntries({
    converted: [{ kind: 'converted', dir: '/m/a', name: 'org/a', sidecar, bytes: 5 * 1024 ** 3 }, { kind: 'converted', dir: '/m/b', name: 'org/b', sidecar, bytes: 1024 ** 3 }],
    cached: [{ kind: 'checkpoint', repo: prolong.repo, commit: 'f'.repeat(40), refs: ['main'], dir: '/hf/x', bytes: 16e9, fit: modelFit(prolong.config, 'x', memory) }],
    serverModels: [{ id: 'served', contextLength: 131072 }], serverLabel: 'http://gpu:8000', currentModelDir: '/m/b', available: memory,
  });
  assert.deepEqual(entries.map((e) => e.separator ? `--${e.label}` : e.label), [
    '--Converted models', 'org/a', '$(check) org/b', '--In the Hugging Face cache, not converted yet', prolong.repo, '--On the server http://gpu:8000', 'served',
    '--Hub', '$(cloud-download) Download a model…',
  ]);
  assert.equal(entries[1]!.description, 'int4 · 5.0 GiB · context 64K (trained 512K)');
  assert.equal(entries[4]!.description, '8.03B params · 4.9 GiB int4 · trained 512K · fits 73K here'); // (24 - 4.9 - 0.6 GiB) / 256 KiB per token
  assert.deepEqual(entries[4]!.choice, { kind: 'checkpoint', repo: prolong.repo, commit: 'f'.repeat(40), dtype: 'int4' });
  assert.equal(entries[6]!.description, 'context 128K');
});

test('the download list shows every curated model with fp16 and int4 sizes', () => {
  const entries = curatedEntries(memory);
  assert.equal(entries.length, curatedModels.length);
  assert.match(entries[0]!.detail, /^ProLong, 512K context · fp16 15\.0 GiB, int4 [\d.]+ GiB$/);
});

test('a configured server that cannot be reached gets an entry saying why, which runs Check Server', () => {
  const problem = 'Cannot reach the server http://127.0.0.1:9 (connection refused): is it running?';
  const entries = modelPickerEntries({ converted: [], cached: [], serverModels: [], serverLabel: 'http://127.0.0.1:9', serverProblem: problem, available: memory });
  assert.deepEqual(entries.map((e) => e.separator ? `--${e.label}` : e.label), [
    '--On the server http://127.0.0.1:9', '$(warning) The server\'s models could not be listed', '--Hub', '$(cloud-download) Download a model…',
  ]);
  assert.equal(entries[1]!.detail, problem);
  assert.deepEqual(entries[1]!.choice, { kind: 'checkServer' });
  const healthy = modelPickerEntries({ converted: [], cached: [], serverModels: [], serverLabel: 'http://gpu:8000', available: memory });
  assert.ok(!healthy.some((e) => e.label.includes('On the server')), 'a reachable server with no models lists no group');
});

test('the bundled demo model has its own group, marked when it is the one in use, and picks back to it', () => {
  const demo = { name: 'prolong-demo-38m', bytes: 24_100_000, contextLength: 16384, current: true };
  const entries = modelPickerEntries({ converted: [], cached: [], serverModels: [], available: memory, demo });
  assert.deepEqual(entries.map((e) => e.separator ? `--${e.label}` : e.label), ['--Bundled', '$(check) prolong-demo-38m', '--Hub', '$(cloud-download) Download a model…']);
  assert.equal(entries[1]!.description, 'demo model · int4 · 23 MiB · context 16K');
  assert.deepEqual(entries[1]!.choice, { kind: 'demo' });
  assert.equal(entries[1]!.picked, true);
  const other = modelPickerEntries({ converted: [], cached: [], serverModels: [], available: memory, demo: { ...demo, current: false } });
  assert.equal(other[1]!.label, 'prolong-demo-38m');
});
