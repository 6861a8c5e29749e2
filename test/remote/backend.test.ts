import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { CLI_SETTINGS, ContextTooLongError } from '../../engine/backends/remote/problems';
import { buildRepositoryPrompt, QUESTION_MARKER } from '../../engine/backends/prompt';
import type { GenerateEvent } from '../../engine/backends/types';
import { fixturesForThisFile, renderChat, tokenize, TEST_MODEL, type Fixture, type FixtureOptions, type Flavor } from './fixtures/server';

const start = fixturesForThisFile();
const serve = (flavor: Flavor, options: Partial<FixtureOptions> = {}): Promise<Fixture> => start({ flavor, ...options });

function backend(fixture: Fixture, options: Partial<ConstructorParameters<typeof RemoteBackend>[0]> = {}): RemoteBackend {
  return new RemoteBackend({ url: fixture.url, model: TEST_MODEL, settingNames: CLI_SETTINGS, retryBaseMs: 10, ...options });
}

const repository = 'src/a.ts\nexport const a = 1;\n\nsrc/b.ts\nimport { a } from "./a";\nexport const b = a + 1;\n';
const ANSWER = 'The packer lives in engine/packer and walks the git index.';

for (const flavor of ['vllm', 'llama.cpp'] as const) {
  test(`${flavor}: info reports the model and the context the server runs with`, async () => {
    const fixture = await serve(flavor, { contextLength: 131072 });
    const info = await backend(fixture, { model: '' }).info();
    assert.equal(info.kind, 'remote');
    assert.equal(info.model, TEST_MODEL);
    assert.equal(info.contextLength, 131072); // llama.cpp: /props n_ctx, not meta.n_ctx_train (524288)
    assert.match(info.detail, new RegExp(`^${flavor.replace('.', '\\.')} at http://127\\.0\\.0\\.1:\\d+$`));
  });

  test(`${flavor}: prompt tokens are counted exactly by the server's tokenizer`, async () => {
    const fixture = await serve(flavor);
    const messages = buildRepositoryPrompt({ repository, question: 'Where is b defined?' });
    const count = await backend(fixture).countPromptTokens({ messages });
    assert.deepEqual(count, { tokens: tokenize(renderChat(messages, true)).length, exact: true });
    const withPrefix = await backend(fixture).countPromptTokens({ messages, assistantPrefix: 'Answer: in' });
    const expected = flavor === 'vllm'
      ? renderChat([...messages, { role: 'assistant', content: 'Answer: in' }], false)
      : renderChat(messages, true) + 'Answer: in';
    assert.equal(withPrefix.tokens, tokenize(expected).length);
    const paths = fixture.requests.map((r) => `${r.method} ${r.path}`);
    assert.ok(paths.includes('POST /tokenize'));
    if (flavor === 'llama.cpp') assert.ok(paths.includes('POST /apply-template'));
  });

  test(`${flavor}: an answer streams with time to first token, usage and the server's prefix cache`, async () => {
    const fixture = await serve(flavor, { prefillMs: 30, answer: ANSWER });
    const remote = backend(fixture, { apiKey: 'sk-test', headers: { 'x-route': 'gpu-7' } });
    const events: GenerateEvent[] = [];
    const first = buildRepositoryPrompt({ repository, question: 'Where is b defined?' });
    const result = await remote.generate({ messages: first, sampling: { maxTokens: 64 } }, (e) => events.push(e));
    assert.equal(result.text, ANSWER);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.promptTokens, tokenize(renderChat(first, true)).length);
    assert.equal(result.completionTokens, ANSWER.split(' ').length);
    assert.ok(result.timeToFirstTokenMs !== undefined && result.timeToFirstTokenMs >= 30, `ttft ${result.timeToFirstTokenMs}`);
    assert.deepEqual(result.warnings, []);
    const kinds = events.map((e) => e.type).filter((t) => t !== 'prefill');
    assert.equal(kinds[0], 'first-token');
    assert.equal(events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text).join(''), ANSWER);

    const sent = fixture.requests.find((r) => r.path === '/v1/chat/completions')!;
    assert.equal(sent.headers.authorization, 'Bearer sk-test');
    assert.equal(sent.headers['x-route'], 'gpu-7');
    const body = JSON.parse(sent.body) as Record<string, unknown>;
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.temperature, 0);
    assert.equal(body.max_tokens, 64);
    assert.equal(body.cache_prompt, flavor === 'llama.cpp' ? true : undefined);

    // A second question on the same repository: the request is byte-identical up to the question.
    const second = buildRepositoryPrompt({ repository, question: 'How is a exported?' });
    const again = await remote.generate({ messages: second, sampling: { maxTokens: 64 } }, () => {});
    const bodies = fixture.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body);
    const shared = commonPrefixLength(bodies[0], bodies[1]);
    assert.ok(bodies[0].slice(0, shared).endsWith(JSON.stringify(QUESTION_MARKER).slice(1, -1)), 'requests share everything before the question');
    // The server's prefix cache served everything up to the question.
    const prefixTokens = tokenize(renderChat(second, true).split('Question:')[0]).length + 1;
    assert.equal(again.cachedPromptTokens, prefixTokens);
  });

  test(`${flavor}: maxTokens reached ends with finishReason 'length'`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    const result = await backend(fixture).generate({ messages: [{ role: 'user', content: 'hi' }], sampling: { maxTokens: 3 } }, () => {});
    assert.equal(result.finishReason, 'length');
    assert.equal(result.text, 'The packer lives ');
    assert.equal(result.completionTokens, 3);
  });
}

test('vLLM: an assistant prefix continues the final message; llama.cpp prefills it by itself', async () => {
  const vllm = await serve('vllm');
  await backend(vllm).generate({ messages: [{ role: 'user', content: 'hi' }], assistantPrefix: 'Answer:', sampling: { maxTokens: 4 } }, () => {});
  const body = JSON.parse(vllm.requests.find((r) => r.path === '/v1/chat/completions')!.body) as Record<string, unknown>;
  assert.deepEqual(body.messages, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Answer:' }]);
  assert.equal(body.continue_final_message, true);
  assert.equal(body.add_generation_prompt, false);

  const llama = await serve('llama.cpp');
  await backend(llama).generate({ messages: [{ role: 'user', content: 'hi' }], assistantPrefix: 'Answer:', sampling: { maxTokens: 4 } }, () => {});
  const llamaBody = JSON.parse(llama.requests.find((r) => r.path === '/v1/chat/completions')!.body) as Record<string, unknown>;
  assert.equal(llamaBody.continue_final_message, undefined);
  assert.deepEqual((llamaBody.messages as unknown[]).at(-1), { role: 'assistant', content: 'Answer:' });
});

test('the context check asks the server to count once per repository, not once per question', async () => {
  const fixture = await serve('vllm', { contextLength: 600, answer: ANSWER });
  const remote = backend(fixture);
  const tokenizeCalls = () => fixture.requests.filter((r) => r.path === '/tokenize').length;
  const ask = (repo: string, question: string) => remote.generate({ messages: buildRepositoryPrompt({ repository: repo, question }), sampling: { maxTokens: 16 } }, () => {});
  const words = 'word '.repeat(200); // 1,000 bytes (over the room by bytes), about 200 tokens (fits)
  await ask(words, 'First?');
  assert.equal(tokenizeCalls(), 1);
  await ask(words, 'Second question?');
  assert.equal(tokenizeCalls(), 1, 'same repository: the earlier count plus the question\'s bytes settles it');
  await ask(`${words}more `, 'First?');
  assert.equal(tokenizeCalls(), 2, 'another repository is counted');
  await assert.rejects(ask(words, 'why '.repeat(400)), ContextTooLongError);
  assert.equal(tokenizeCalls(), 3, 'a question too long for the bound is counted, and found too long');
});

test('llama.cpp: prompt progress in the stream becomes prefill events', async () => {
  const fixture = await serve('llama.cpp');
  const events: GenerateEvent[] = [];
  await backend(fixture).generate({ messages: [{ role: 'user', content: 'one two three' }], sampling: { maxTokens: 2 } }, (e) => events.push(e));
  const prefill = events.filter((e) => e.type === 'prefill');
  const total = tokenize(renderChat([{ role: 'user', content: 'one two three' }], true)).length;
  assert.deepEqual(prefill, [
    { type: 'prefill', doneTokens: 0, totalTokens: total, reusedTokens: 0 },
    { type: 'prefill', doneTokens: total, totalTokens: total, reusedTokens: 0 },
  ]);
  assert.ok(events.indexOf(prefill[1]) < events.findIndex((e) => e.type === 'first-token'));
});

test('vLLM: the plain completions API sends the prompt rendered by the local chat template, without BOS', async () => {
  const fixture = await serve('vllm', { answer: ANSWER });
  const result = await backend(fixture, { api: 'completions' }).generate({ messages: [{ role: 'user', content: 'hi' }], sampling: { maxTokens: 64 } }, () => {});
  assert.equal(result.text, ANSWER);
  const body = JSON.parse(fixture.requests.find((r) => r.path === '/v1/completions')!.body) as { prompt: string };
  assert.equal(body.prompt, '<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
});

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
