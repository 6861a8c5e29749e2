import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localBackendOptions } from '../../engine/backends/factory';
import { readEngineSettings } from '../../engine/runtime/engineSettings';
import { isDemoModelDir } from '../../engine/models/demoModel';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

test('engine settings become the local backend\'s load options', () => {
  const values: Record<string, unknown> = { modelPath: ' /models/prolong-8b-int4 ', executionProvider: 'cpu', contextTokens: 65536, prefillChunkTokens: 1024, deviceMemory: 24,
    runtime: 'llama.cpp', llamaCppPath: ' /opt/llama.cpp ' };
  const { settings, warnings } = readEngineSettings((name) => values[name]);
  assert.deepEqual(warnings, []);
  const options = localBackendOptions(settings);
  assert.deepEqual(options, {
    modelDir: '/models/prolong-8b-int4', executionProvider: 'cpu', runtime: 'llama.cpp', llamaCppDir: '/opt/llama.cpp', contextTokens: 65536, prefillChunkTokens: 1024,
    tokenizerPath: undefined, deviceMemoryBytes: 24 * 1024 ** 3, prefixCacheDir: undefined,
  });
});

test('wrong values fall back to the defaults with a warning naming the setting; no model path means the demo model', () => {
  const values: Record<string, unknown> = { executionProvider: 'cuda', contextTokens: -5, prefillChunkTokens: 'big', runtime: 'tensorrt' };
  const { settings, warnings } = readEngineSettings((name) => values[name]);
  assert.equal(settings.runtime, 'auto');
  assert.ok(warnings.some((w) => w.startsWith('prolong.engine.runtime must be')));
  assert.equal(settings.executionProvider, 'auto');
  assert.equal(settings.contextTokens, 0);
  assert.equal(settings.prefillChunkTokens, 2048);
  assert.equal(warnings.length, 4);
  assert.ok(warnings.some((w) => w.startsWith('prolong.engine.executionProvider')));
  const options = localBackendOptions(settings);
  assert.ok(isDemoModelDir(options.modelDir), options.modelDir);
  assert.ok(existsSync(join(options.modelDir, 'model.onnx.data')));
});

test('device memory keeps its fraction of a GiB; token counts are whole', () => {
  const values: Record<string, unknown> = { modelPath: '/m', deviceMemory: 0.5, contextTokens: 4096.7 };
  const { settings } = readEngineSettings((name) => values[name]);
  assert.equal(settings.deviceMemoryGiB, 0.5, 'half a GiB, not 0 (which means "detect")');
  assert.equal(settings.contextTokens, 4096);
});

test('the old prolong.engine.deviceMemoryGiB is still read, with a deprecation warning; the new name wins', () => {
  const old = readEngineSettings((name) => ({ modelPath: '/m', deviceMemory: 0, deviceMemoryGiB: 16 } as Record<string, unknown>)[name]);
  assert.equal(old.settings.deviceMemoryGiB, 16);
  assert.match(old.warnings.join('\n'), /prolong\.engine\.deviceMemoryGiB is deprecated.*prolong\.engine\.deviceMemory\./);
  const both = readEngineSettings((name) => ({ modelPath: '/m', deviceMemory: 8, deviceMemoryGiB: 16 } as Record<string, unknown>)[name]);
  assert.equal(both.settings.deviceMemoryGiB, 8);
  assert.equal(both.warnings.length, 1);
});
