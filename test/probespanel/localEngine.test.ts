import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createBackend } from '../../engine/backends/factory';
import type { ProbeEvent } from '../../engine/probes/types';
import { runProbesInWorker } from '../../extension/probes/workerRun';
import { tinyModel } from '../engine/fixtures';

test('the panel worker drives the real local engine on the host side: exact prompt counts, prefill progress, then a prompt cancel', async () => {
  // A random model with Llama 3's vocabulary and chat template: answers are noise, lengths must match exactly.
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], maxContext: 2048 });
  const tokenizerPath = join(modelDir, 'tokenizer.json');
  const backend = createBackend({ modelDir, executionProvider: 'cpu', contextTokens: 2048, prefillChunkTokens: 256 });
  try {
    const events: ProbeEvent[] = [];
    const result = await runProbesInWorker({
      plan: { tasks: ['niah_single_1'], lengths: [1024, 2048, 4096], samples: 1, seed: 'panel-local' }, threshold: 85.6, tokenizerPath, backend,
      onEvent: (event) => events.push(event),
    });
    assert.equal(result.metadata.backend.kind, 'local');
    assert.equal(result.metadata.tokenizer, `${tokenizerPath} (fast BPE)`, "the worker counts with the model's own tokenizer");
    assert.deepEqual(result.skipped.map((s) => s.length), [4096], "4K is past the engine's 2,048-token context");
    assert.equal(result.instances.length, 2);
    for (const instance of result.instances) assert.equal(instance.backendPromptTokens, instance.promptTokens, instance.id);
    const prefills = events.filter((e): e is Extract<ProbeEvent, { type: 'prefill' }> => e.type === 'prefill' && e.id === result.instances[1]!.id);
    assert.ok(prefills.length >= 2, 'chunked prefill progress reaches the panel through the worker');
    assert.equal(prefills.at(-1)!.doneTokens, result.instances[1]!.promptTokens);

    // Cancel at the first prefill report of a new run: the engine stops, nothing is scored.
    const controller = new AbortController();
    const cancelled = await runProbesInWorker({
      plan: { tasks: ['vt'], lengths: [2048], samples: 3, seed: 'panel-local-cancel' }, threshold: 85.6, tokenizerPath, backend, signal: controller.signal,
      onEvent: (event) => { if (event.type === 'prefill') controller.abort(); },
    });
    assert.equal(cancelled.metadata.cancelled, true);
    assert.equal(cancelled.instances.length, 0);
  } finally {
    await backend.dispose();
  }
});
