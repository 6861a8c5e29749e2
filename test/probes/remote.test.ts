import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../engine/backends/factory';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { runProbes } from '../../engine/probes/runner';
import type { ProbeEvent } from '../../engine/probes/types';
import { startFixture } from '../remote/fixtures/server';

test('probes run through the remote backend: lengths past the server context are skipped, answers are scored', async () => {
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 6000, answer: 'The special magic number is 0000000.' });
  const backend = createBackend({ server: fixture.url });
  try {
    const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());
    const events: ProbeEvent[] = [];
    const result = await runProbes({
      tasks: ['niah_single_1'], lengths: [4096, 8192], samples: 1, seed: 'remote', backend, counter, onEvent: (event) => events.push(event),
    });
    assert.equal(result.metadata.backend.kind, 'remote');
    assert.equal(result.metadata.backend.contextLength, 6000);
    assert.deepEqual(result.skipped.map((s) => [s.task, s.length]), [['niah_single_1', 8192]]);
    assert.match(result.skipped[0]!.reason, /context length is 6000/);
    assert.equal(result.instances.length, 1);
    assert.equal(result.instances[0]!.prediction, 'The special magic number is 0000000.');
    assert.equal(result.instances[0]!.score, 0);
    assert.deepEqual(result.scores, [{ task: 'niah_single_1', length: 4096, samples: 1, score: 0 }]);
    // The fixture counts whitespace pieces, not Llama 3 tokens: the run says the counts differ.
    assert.ok(events.some((e) => e.type === 'warning' && /the backend counted \d+ prompt tokens/.test(e.message)));
    const generation = fixture.requests.find((r) => r.method === 'POST' && /completions/.test(r.path));
    assert.ok(generation, 'a generation request reached the server');
    assert.match(generation.body, /mentioned in the provided text is/);
  } finally {
    await backend.dispose();
    await fixture.close();
  }
});

test('a prompt the server counts over its context (its template adds a system message) is skipped with both counts; shorter lengths run', async () => {
  // 1,500 words the probe does not see: the 2K prompt still fits the server's 4,096 tokens, the 4K one does not.
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 4096, answer: 'nothing', systemPreamble: 'You are a helpful assistant. '.repeat(300) });
  const backend = createBackend({ server: fixture.url });
  try {
    const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());
    const result = await runProbes({ tasks: ['niah_single_1'], lengths: [2048, 4096], samples: 1, seed: 'remote', backend, counter });
    assert.equal(result.metadata.error, undefined);
    assert.deepEqual(result.instances.map((i) => i.id), ['niah_single_1/2048/0']);
    assert.deepEqual(result.scores.map((s) => s.length), [2048]);
    assert.equal(result.skipped.length, 1);
    const { overflow, reason } = result.skipped[0]!;
    assert.equal(overflow?.id, 'niah_single_1/4096/0');
    assert.equal(overflow.contextLength, 4096);
    assert.equal(overflow.maxTokens, 128);
    assert.ok(overflow.promptTokens + overflow.maxTokens <= 4096, 'the probe sized it to fit');
    assert.ok(overflow.backendPromptTokens + overflow.maxTokens > 4096, 'the server counts it over');
    assert.match(reason, /as [\d,]+ tokens where the probe counted [\d,]+; .* leave 4K out of the lengths/);
    // Stopped by the count before generation: only the 2K prompt reached the completions endpoint.
    assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 1);
  } finally {
    await backend.dispose();
    await fixture.close();
  }
});
