import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createBackend } from '../../engine/backends/factory';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { runProbes } from '../../engine/probes/runner';
import type { ProbeEvent } from '../../engine/probes/types';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { tinyModel } from '../engine/fixtures';

test('probes run on the local engine, which counts exactly the prompt the probe sized', async () => {
  // A random model with Llama 3's vocabulary and chat template: answers are noise, lengths must match exactly.
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], maxContext: 2048 });
  const tokenizerPath = join(modelDir, 'tokenizer.json');
  const counter = new TemplatePromptCounter(loadTokenizer(tokenizerPath), ChatTemplate.forTokenizer(tokenizerPath));
  const backend = createBackend({ modelDir, executionProvider: 'cpu', contextTokens: 2048, prefillChunkTokens: 512 });
  try {
    const events: ProbeEvent[] = [];
    const result = await runProbes({ tasks: ['niah_single_1', 'vt'], lengths: [2048], samples: 1, seed: 'local', backend, counter, onEvent: (e) => events.push(e) });
    assert.equal(result.metadata.backend.kind, 'local');
    assert.deepEqual(result.skipped, []);
    assert.equal(result.instances.length, 2);
    for (const instance of result.instances) {
      assert.equal(instance.backendPromptTokens, instance.promptTokens, instance.id);
      assert.ok(instance.promptTokens + (instance.task === 'vt' ? 30 : 128) <= 2048);
      assert.ok(instance.completionTokens <= (instance.task === 'vt' ? 30 : 128));
    }
    assert.ok(events.some((e) => e.type === 'prefill' && e.totalTokens === result.instances[0]!.promptTokens));
    assert.ok(!events.some((e) => e.type === 'warning'), JSON.stringify(events.filter((e) => e.type === 'warning')));
  } finally {
    await backend.dispose();
  }
});
