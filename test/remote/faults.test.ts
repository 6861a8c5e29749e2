// Every injected fault, and what the user sees because of it.
import { test } from 'node:test';
import * as net from 'node:net';
import assert from 'node:assert/strict';
import { UserError } from '../../engine/errors';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { CLI_SETTINGS, ContextTooLongError, EXTENSION_SETTINGS } from '../../engine/backends/remote/problems';
import type { GenerateEvent, GenerateRequest } from '../../engine/backends/types';
import { fixturesForThisFile, closedPortUrl, TEST_MODEL, type Fixture, type FixtureOptions, type Flavor } from './fixtures/server';

const start = fixturesForThisFile();
const serve = (flavor: Flavor, options: Partial<FixtureOptions> = {}): Promise<Fixture> => start({ flavor, ...options });

function backend(url: string, options: Partial<ConstructorParameters<typeof RemoteBackend>[0]> = {}): RemoteBackend {
  return new RemoteBackend({ url, model: TEST_MODEL, settingNames: CLI_SETTINGS, retryBaseMs: 10, requestTimeoutMs: 5000, ...options });
}

const ANSWER = 'one two three four five six';
const ask: GenerateRequest = { messages: [{ role: 'user', content: 'Count to six.' }], sampling: { maxTokens: 32 } };

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

test('refused connection: names the port and says to start the server', async () => {
  const url = await closedPortUrl();
  const error = await rejection(backend(url).generate(ask, () => {}));
  assert.match(error.message, /refused the connection: nothing is listening on port \d+/);
  assert.match(error.hint ?? '', /Start the server/);
});

test('DNS failure: names the host', async () => {
  const error = await rejection(backend('http://prolong-fixture.invalid:8000').info());
  assert.match(error.message, /Cannot find the host "prolong-fixture\.invalid".*DNS lookup failed/);
});

test('TLS to a plain-HTTP server: says to use http://', async () => {
  const fixture = await serve('vllm');
  const error = await rejection(backend(fixture.url.replace('http:', 'https:')).info());
  assert.match(error.message, /TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed/);
  assert.match(error.hint ?? '', /use http:\/\//);
});

test('https:// to a server that accepts TCP but never answers the TLS handshake: fails fast, says to try http://', async () => {
  const silent = net.createServer(() => {}); // accepts, then says nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  silent.on('connection', (socket) => sockets.add(socket));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    const error = await rejection(backend(`https://127.0.0.1:${port}`, { connectTimeoutMs: 200, requestTimeoutMs: 60_000 }).info());
    assert.equal(error.message, `https://127.0.0.1:${port}: the TLS handshake did not complete in 0.2 s.`);
    assert.match(error.hint ?? '', /use http:\/\//);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

for (const flavor of ['vllm', 'llama.cpp'] as const) {
  test(`${flavor}: 401 says the API key is missing or wrong, with the server's words`, async () => {
    const fixture = await serve(flavor, { apiKey: 'right' });
    const error = await rejection(backend(fixture.url, { apiKey: 'wrong' }).info());
    assert.match(error.message, flavor === 'vllm' ? /unauthorized \(HTTP 401: Unauthorized\)/ : /unauthorized \(HTTP 401: Invalid API Key\)/);
    assert.match(error.hint ?? '', /PROLONG_API_KEY/);
    assert.ok(!error.toString().includes('wrong'), 'the key never appears in messages');
  });

  test(`${flavor}: a wrong path gives a 404 that names the path`, async () => {
    const fixture = await serve(flavor);
    const error = await rejection(backend(`${fixture.url}/api`).info());
    assert.match(error.message, /has no endpoint \/api\/v1\/models \(HTTP 404/);
  });

  test(`${flavor}: 429 then 200 is retried with backoff and the answer arrives`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'status', status: 429, times: 2, retryAfter: '0' });
    const result = await backend(fixture.url).generate(ask, () => {});
    assert.equal(result.text, ANSWER);
    assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 3);
    assert.equal(result.warnings.filter((w) => /answered HTTP 429 \(busy\).*retried after 0 s/.test(w)).length, 2);
  });

  test(`${flavor}: 500 is not retried and shows the server's message`, async () => {
    const fixture = await serve(flavor);
    fixture.faults.push({ kind: 'status', status: 500, times: 1 });
    const error = await rejection(backend(fixture.url).generate(ask, () => {}));
    assert.match(error.message, /failed with HTTP 500: EngineCore encountered an issue\./);
    assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 1);
  });

  test(`${flavor}: a stream that stalls mid-answer keeps the partial answer and says it was cut`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'stall', afterPieces: 2 });
    const result = await backend(fixture.url, { requestTimeoutMs: 300 }).generate(ask, () => {});
    assert.equal(result.finishReason, 'cut');
    assert.equal(result.text, 'one two ');
    assert.ok(result.warnings.some((w) => /^The answer is cut: .* sent nothing for 0.3 s in the middle of its answer/.test(w)), result.warnings.join('\n'));
  });

  test(`${flavor}: a dropped connection mid-answer keeps the partial answer and says it was cut`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'drop', afterPieces: 3 });
    const events: GenerateEvent[] = [];
    const result = await backend(fixture.url).generate(ask, (e) => events.push(e));
    assert.equal(result.finishReason, 'cut');
    assert.equal(result.text, 'one two three ');
    assert.ok(result.warnings.some((w) => /^The answer is cut: .*closed the connection in the middle of its answer/.test(w)), result.warnings.join('\n'));
    assert.ok(events.some((e) => e.type === 'warning'), 'the warning is also streamed as an event');
  });

  test(`${flavor}: a connection dropped before any text is an error, not an empty answer`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'drop', afterPieces: 0 });
    const error = await rejection(backend(fixture.url).generate(ask, () => {}));
    assert.match(error.message, /closed the connection|ended the stream before the answer was complete/);
  });

  test(`${flavor}: malformed JSON in a chunk is skipped and reported; the answer completes`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'malformed' });
    const result = await backend(fixture.url).generate(ask, () => {});
    assert.equal(result.text, ANSWER);
    assert.equal(result.finishReason, 'stop');
    assert.ok(result.warnings.some((w) => /^Skipped 1 malformed stream line from .*\(first: "\{"id":/.test(w)), result.warnings.join('\n'));
  });

  test(`${flavor}: UTF-8 split across chunks is rejoined; a byte that is not UTF-8 is replaced and reported`, async () => {
    const answer = 'naïve café 日本語 🎉 done';
    const fixture = await serve(flavor, { answer });
    fixture.faults.push({ kind: 'split-bytes' });
    const result = await backend(fixture.url).generate(ask, () => {});
    assert.equal(result.text, 'naïve \uFFFDcafé 日本語 🎉 done');
    assert.equal(result.finishReason, 'stop');
    assert.ok(result.warnings.some((w) => /sent 1 stream line that was not valid UTF-8/.test(w)), result.warnings.join('\n'));
  });

  test(`${flavor}: an error sent inside the stream after some text cuts the answer and shows the server's message`, async () => {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'stream-error', afterPieces: 2 });
    const result = await backend(fixture.url).generate(ask, () => {});
    assert.equal(result.finishReason, 'cut');
    assert.equal(result.text, 'one two ');
    const said = flavor === 'vllm' ? 'CUDA out of memory' : 'failed to decode the batch';
    assert.ok(result.warnings.some((w) => w.includes(`reported an error in the middle of the stream: ${said}`)), result.warnings.join('\n'));
  });

  test(`${flavor}: a prompt longer than the server's context is stopped before sending, with the budget options`, async () => {
    const fixture = await serve(flavor, { contextLength: 60 });
    const long: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(80) }], sampling: { maxTokens: 10 } };
    const error = await rejection(backend(fixture.url).generate(long, () => {}));
    assert.ok(error instanceof ContextTooLongError);
    assert.equal(error.contextLength, 60);
    assert.equal(error.maxNewTokens, 10);
    assert.ok(error.promptTokens > 80);
    assert.match(error.message, /^The prompt is \d+ tokens and the answer may take 10 more, but .* holds 60 tokens in all/);
    assert.match(error.hint ?? '', /pack at least [\d,]+ fewer tokens \(--budget: .*\.prolongignore.*fewer answer tokens \(--max-tokens\).*longer context/);
    assert.doesNotMatch(error.hint ?? '', /prolong\.(pack|ask)\./, 'the CLI names its flags, not VS Code settings');
    const inVsCode = await rejection(backend(fixture.url, { settingNames: EXTENSION_SETTINGS }).generate(long, () => {}));
    assert.match((inVsCode as ContextTooLongError).hint ?? '', /\(the setting prolong\.pack\.tokenBudget: .*prolong\.pack\.exclude.*\(the setting prolong\.ask\.maxAnswerTokens\)/);
    assert.doesNotMatch((inVsCode as ContextTooLongError).hint ?? '', /--budget|--max-tokens/, 'panel text names settings, not CLI flags');
    assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 0, 'nothing was sent');
  });

  test(`${flavor}: the server's own context-length error gives the same explanation, with its numbers`, async () => {
    const fixture = await serve(flavor, { contextLength: 60 });
    const long: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(80) }], sampling: { maxTokens: 10 } };
    const error = await rejection(backend(fixture.url, { checkContext: false }).generate(long, () => {}));
    assert.ok(error instanceof ContextTooLongError, error.message);
    assert.equal(error.contextLength, 60);
    assert.equal(error.promptTokens, 82);
    assert.match(error.hint ?? '', /--budget/);
  });
}

test('vLLM: max_tokens too large for the room left, and the older message form, both give the numbers', async () => {
  for (const vllmLegacyErrors of [false, true]) {
    const fixture = await serve('vllm', { contextLength: 100, vllmLegacyErrors });
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(80) }], sampling: { maxTokens: 30 } };
    const error = await rejection(backend(fixture.url, { checkContext: false }).generate(request, () => {}));
    assert.ok(error instanceof ContextTooLongError, error.message);
    assert.deepEqual([error.promptTokens, error.maxNewTokens, error.contextLength], [82, 30, 100]);
  }
});

test('a context-length error without numbers still says what to do', async () => {
  const { httpProblem, CLI_SETTINGS: names } = await import('../../engine/backends/remote/problems');
  const error = httpProblem(400, { message: 'Input length exceeds context length' }, new URL('http://h:1/v1/chat/completions'), 'm', names);
  assert.match(error.message, /^The prompt is longer than http:\/\/h:1 accepts \(HTTP 400: Input length exceeds context length\)\.$/);
  assert.match(error.hint ?? '', /--budget/);
  const { EXTENSION_SETTINGS } = await import('../../engine/backends/remote/problems');
  assert.match(httpProblem(400, { message: 'Input length exceeds context length' }, new URL('http://h:1/v1/chat/completions'), 'm', EXTENSION_SETTINGS).hint ?? '', /the setting prolong\.pack\.tokenBudget/);
});

test('a proxy that drops stream: true: the whole answer is taken, with a note', async () => {
  const fixture = await serve('vllm', { answer: ANSWER });
  fixture.faults.push({ kind: 'no-stream' });
  const events: GenerateEvent[] = [];
  const result = await backend(fixture.url).generate(ask, (e) => events.push(e));
  assert.equal(result.text, ANSWER);
  assert.equal(result.finishReason, 'stop');
  assert.equal(result.completionTokens, 3);
  assert.deepEqual(events.filter((e) => e.type !== 'warning').map((e) => e.type), ['first-token', 'text']);
  assert.ok(result.warnings.some((w) => /answered in one piece instead of streaming/.test(w)), result.warnings.join('\n'));
});

test('llama.cpp: the older `error:` stream line is understood too', async () => {
  const fixture = await serve('llama.cpp', { answer: ANSWER });
  fixture.faults.push({ kind: 'stream-error', afterPieces: 1, legacyLine: true });
  const result = await backend(fixture.url).generate(ask, () => {});
  assert.equal(result.finishReason, 'cut');
  assert.equal(result.text, 'one ');
  assert.ok(result.warnings.some((w) => w.includes('reported an error in the middle of the stream: failed to decode the batch')), result.warnings.join('\n'));
});

test('cancelling during prefill aborts the HTTP request and resolves as cancelled', async () => {
  const fixture = await serve('vllm', { answer: ANSWER, prefillMs: 5000 });
  const controller = new AbortController();
  const pending = backend(fixture.url).generate(ask, () => {}, controller.signal);
  setTimeout(() => controller.abort(), 100);
  const result = await pending;
  assert.equal(result.finishReason, 'cancelled');
  assert.equal(result.text, '');
  await waitFor(() => fixture.clientAborts === 1);
});

test('cancelling mid-answer keeps the text so far', async () => {
  const fixture = await serve('llama.cpp', { answer: ANSWER, pieceMs: 200 });
  const controller = new AbortController();
  const result = await backend(fixture.url).generate(ask, (e) => { if (e.type === 'text') controller.abort(); }, controller.signal);
  assert.equal(result.finishReason, 'cancelled');
  assert.equal(result.text, 'one ');
  await waitFor(() => fixture.clientAborts === 1);
});

test('a server without tokenize endpoints: counted locally, with a visible note', async () => {
  const fixture = await serve('vllm');
  fixture.faults.push({ kind: 'no-tokenize' });
  const count = await backend(fixture.url).countPromptTokens({ messages: [{ role: 'user', content: 'Hello there' }] });
  assert.equal(count.exact, false);
  // Llama 3: <|begin_of_text|> + header (4) + "Hello there" (2) + <|eot_id|> + assistant header (4).
  assert.equal(count.tokens, 12);
  assert.match(count.note ?? '', /has no tokenize endpoint, so the prompt was counted with the local tokenizer/);
});

test('a tokenize endpoint that refuses the chat messages (HTTP 422/400): counted locally with a note, and generation goes on', async () => {
  for (const status of [422, 400]) {
    const fixture = await serve('vllm', { answer: ANSWER, contextLength: 1000 });
    fixture.faults.push({ kind: 'tokenize-status', status, message: 'messages is not supported here' });
    const remote = backend(fixture.url);
    const count = await remote.countPromptTokens({ messages: [{ role: 'user', content: 'Hello there' }] });
    assert.equal(count.exact, false, `HTTP ${status}`);
    assert.equal(count.tokens, 12);
    assert.match(count.note ?? '', new RegExp(`did not accept the prompt at /tokenize \\(HTTP ${status}: messages is not supported here\\), so the prompt was counted with the local tokenizer`));
    // A prompt long enough that the context check must count it: the local count stands in.
    const warnings: string[] = [];
    const long: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(300) }], sampling: { maxTokens: 32 } };
    const result = await remote.generate(long, (e) => { if (e.type === 'warning') warnings.push(e.message); });
    assert.equal(result.text, ANSWER, `HTTP ${status}`);
    assert.ok(warnings.some((w) => /counted with the local tokenizer/.test(w)));
  }
});

test('a tokenize endpoint that counted before and refuses one prompt keeps counting the next ones', async () => {
  const fixture = await serve('vllm', { answer: ANSWER, contextLength: 1000 });
  const remote = backend(fixture.url);
  const request = { messages: [{ role: 'user' as const, content: 'Hello there' }] };
  assert.equal((await remote.countPromptTokens(request)).exact, true);
  fixture.faults.push({ kind: 'tokenize-status', status: 422, message: 'cannot tokenize this one' });
  assert.equal((await remote.countPromptTokens(request)).exact, false, 'this prompt is counted locally');
  fixture.faults.length = 0;
  assert.equal((await remote.countPromptTokens(request)).exact, true, 'the server counts again');
});

test('a tokenize endpoint that says the prompt is too long is not a reason to count locally', async () => {
  const fixture = await serve('vllm', { contextLength: 100 });
  fixture.faults.push({ kind: 'tokenize-status', status: 400, message: "This model's maximum context length is 100 tokens. However, your request has 900 input tokens. Please reduce the length of the input messages." });
  const long: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(300) }], sampling: { maxTokens: 32 } };
  const error = await rejection(backend(fixture.url).generate(long, () => {}));
  assert.ok(error instanceof ContextTooLongError, error.message);
  assert.equal(error.promptTokens, 900);
  assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 0);
});

test('an HTTP 200 page instead of an event stream (a proxy\'s login page) is named as such', async () => {
  const fixture = await serve('vllm');
  fixture.faults.push({ kind: 'page', contentType: 'text/html; charset=utf-8', body: '<html><body>Please log in</body></html>' });
  const error = await rejection(backend(fixture.url).generate(ask, () => {}));
  assert.equal(error.message, `${fixture.url} answered /v1/chat/completions with text/html instead of an event stream: "<html><body>Please log in</body></html>".`);
  assert.match(error.hint ?? '', /--server .*proxy/);
});

test('a stream whose last event lacks its closing blank line still ends the answer', async () => {
  for (const flavor of ['vllm', 'llama.cpp'] as const) {
    const fixture = await serve(flavor, { answer: ANSWER });
    fixture.faults.push({ kind: 'no-final-blank-line' });
    const result = await backend(fixture.url).generate(ask, () => {});
    assert.equal(result.text, ANSWER, flavor);
    assert.equal(result.finishReason, 'stop', flavor);
    assert.deepEqual(result.warnings, [], flavor);
  }
});

test('vLLM\'s older error body ({"object":"error",...}) is read too', async () => {
  const fixture = await serve('vllm', { vllmLegacyErrors: true });
  fixture.faults.push({ kind: 'status', status: 500, times: 1 });
  const error = await rejection(backend(fixture.url).generate(ask, () => {}));
  assert.match(error.message, /failed with HTTP 500: EngineCore encountered an issue\./);
});

test('a model the server does not serve: lists the ones it does', async () => {
  const fixture = await serve('vllm');
  const error = await rejection(backend(fixture.url, { model: 'meta-llama/Llama-3-8B' }).generate(ask, () => {}));
  assert.equal(error.message, `${fixture.url} does not serve the model "meta-llama/Llama-3-8B"; it serves "${TEST_MODEL}".`);
  assert.match(error.hint ?? '', /--model/);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'condition not reached in 2 s');
}
