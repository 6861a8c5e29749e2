// The remote backend against a real llama.cpp llama-server (not the fixture). Runs only where one is at hand:
//   PROLONG_TEST_LLAMA_SERVER=/path/to/llama-server PROLONG_TEST_GGUF=/path/to/model.gguf node test/run.mjs llamaServer
// The model should carry Llama 3's tokenizer (random weights are fine: the answers are not checked, the protocol is).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { CLI_SETTINGS, ContextTooLongError } from '../../engine/backends/remote/problems';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import { loadTokenizer } from '../../engine/tokenizer';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { UserError } from '../../engine/errors';
import type { GenerateEvent } from '../../engine/backends/types';
import { closedPortUrl } from './fixtures/server';

const binary = process.env.PROLONG_TEST_LLAMA_SERVER;
const gguf = process.env.PROLONG_TEST_GGUF;
const skip = !binary || !gguf ? 'set PROLONG_TEST_LLAMA_SERVER and PROLONG_TEST_GGUF to run against a real llama-server' : false;
const CONTEXT = 4096;
let server: ChildProcess | undefined;
let url = '';

after(() => { server?.kill('SIGKILL'); });

async function start(): Promise<string> {
  if (url) return url;
  url = await closedPortUrl();
  const port = new URL(url).port;
  server = spawn(binary!, ['-m', gguf!, '--host', '127.0.0.1', '--port', port, '-c', String(CONTEXT), '-np', '1', '--api-key', 'sk-real', '--no-webui'], { stdio: 'ignore' });
  for (let i = 0; i < 600; i++) {
    const ready = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ready) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('llama-server did not become ready in 60 s');
}

function backend(apiKey = 'sk-real'): RemoteBackend {
  return new RemoteBackend({ url, apiKey, settingNames: CLI_SETTINGS, requestTimeoutMs: 60_000 });
}

const repository = 'src/a.ts\nexport const a = 1;\n\nsrc/b.ts\nimport { a } from "./a";\nexport const b = a + 1;\n'.repeat(20);

test('llama-server: model, context, exact counts equal to the local Llama 3 tokenizer with its chat template', { skip }, async () => {
  await start();
  const remote = backend();
  const info = await remote.info();
  assert.equal(info.contextLength, CONTEXT);
  assert.match(info.detail, /^llama\.cpp at /);
  const messages = buildRepositoryPrompt({ repository, question: 'Where is b defined?' });
  const count = await remote.countPromptTokens({ messages });
  assert.equal(count.exact, true);
  const local = loadTokenizer().encodeWithSpecialTokens(ChatTemplate.forTokenizer().render(messages)).length;
  assert.equal(count.tokens, local);
});

test('llama-server: streams an answer with usage, time to first token and its prefix cache on the second question', { skip }, async () => {
  await start();
  const remote = backend();
  const events: GenerateEvent[] = [];
  const first = await remote.generate({ messages: buildRepositoryPrompt({ repository, question: 'Where is b defined?' }), sampling: { maxTokens: 8 } }, (e) => events.push(e));
  assert.ok(first.finishReason === 'length' || first.finishReason === 'stop');
  assert.ok(first.completionTokens > 0 && first.completionTokens <= 8);
  assert.ok(first.timeToFirstTokenMs !== undefined);
  assert.deepEqual(first.warnings, []);
  assert.ok(events.some((e) => e.type === 'prefill'), 'return_progress gives prefill events');
  const second = await remote.generate({ messages: buildRepositoryPrompt({ repository, question: 'How is a exported?' }), sampling: { maxTokens: 8 } }, () => {});
  assert.ok((second.cachedPromptTokens ?? 0) > first.promptTokens - 20, `cached ${second.cachedPromptTokens} of ${second.promptTokens}`);
});

test('llama-server: wrong key, wrong path, oversized prompt', { skip }, async () => {
  await start();
  await assert.rejects(backend('wrong').info(), (e: unknown) => e instanceof UserError && /HTTP 401: Invalid API Key/.test(e.message));
  await assert.rejects(new RemoteBackend({ url: `${url}/nope`, apiKey: 'sk-real', settingNames: CLI_SETTINGS }).info(),
    (e: unknown) => e instanceof UserError && /has no endpoint \/nope\/v1\/models \(HTTP 404: File Not Found\)/.test(e.message));
  const long = { messages: [{ role: 'user' as const, content: 'word '.repeat(CONTEXT) }], sampling: { maxTokens: 8 } };
  await assert.rejects(backend().generate(long, () => {}), (e: unknown) => e instanceof ContextTooLongError && e.contextLength === CONTEXT);
  // With the pre-check off, llama-server's own error carries the numbers.
  const unchecked = new RemoteBackend({ url, apiKey: 'sk-real', settingNames: CLI_SETTINGS, checkContext: false });
  await assert.rejects(unchecked.generate(long, () => {}), (e: unknown) => e instanceof ContextTooLongError && e.contextLength === CONTEXT);
});
