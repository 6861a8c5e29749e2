// The engine process behind the Backend interface: cancellation, queued concurrent requests, a crashed
// process, memory and context limits, and the chat path with the real Llama 3 tokenizer and template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GenerateEvent } from '../../engine/backends/types';
import { UserError } from '../../engine/errors';
import { EXTENSION_SETTINGS } from '../../engine/settingNames';
import { Engine } from '../../engine/runtime/engine';
import { crashedLlamaCppGpu, LocalBackend } from '../../engine/runtime/localBackend';
import { loadTokenizer } from '../../engine/tokenizer';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import { documentHeader, fileChunk } from '../../engine/packer/format';
import { tinyModel } from './fixtures';

const prompt = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => (i * 31 + offset) % 200);
const long = { maxTokens: 400 };

test('cancellation takes effect at the next decode step', async () => {
  const engine = await Engine.load({ modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 64 });
  try {
    const controller = new AbortController();
    let texts = 0;
    let textsAfterAbort = 0;
    const result = await engine.generate({ prompt: { kind: 'tokens', tokens: prompt(20) }, sampling: long, ignoreStopTokens: true, returnTokens: true },
      (event) => {
        if (event.type !== 'text') return;
        if (controller.signal.aborted) textsAfterAbort++;
        else if (++texts === 5) controller.abort();
      }, controller.signal);
    assert.equal(result.finishReason, 'cancelled');
    // The token whose text fired the abort is the last one: no model run followed it (the cache holds the
    // prompt and every answer token but the last), and at most the decoder's held-back bytes came after.
    assert.equal(engine.stats().cachedTokens, 20 + result.completionTokens - 1);
    assert.ok(textsAfterAbort <= 1);
    assert.ok(result.completionTokens < long.maxTokens);
  } finally {
    await engine.dispose();
  }
});

test('through the engine process: a cancel stops a long answer, and the engine answers the next request', async () => {
  const backend = new LocalBackend({ modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 64 });
  try {
    const controller = new AbortController();
    let texts = 0;
    const result = await backend.run({ prompt: { kind: 'tokens', tokens: prompt(30) }, sampling: long, ignoreStopTokens: true },
      (event) => { if (event.type === 'text' && ++texts === 3) controller.abort(); }, controller.signal);
    assert.equal(result.finishReason, 'cancelled');
    assert.ok(result.completionTokens < long.maxTokens);
    const next = await backend.run({ prompt: { kind: 'tokens', tokens: prompt(30) }, sampling: { maxTokens: 4 }, ignoreStopTokens: true });
    assert.equal(next.finishReason, 'length');
    assert.equal(next.completionTokens, 4);
  } finally {
    await backend.dispose();
  }
});

test('a second concurrent request waits its turn and gets the answer it would get alone', async () => {
  const modelDir = await tinyModel();
  const options = { modelDir, executionProvider: 'cpu' as const, contextTokens: 0, prefillChunkTokens: 64 };
  const request = (offset: number) => ({ prompt: { kind: 'tokens' as const, tokens: prompt(25, offset) }, sampling: { maxTokens: 16 }, ignoreStopTokens: true, returnTokens: true });
  const alone = new LocalBackend(options);
  const together = new LocalBackend(options);
  try {
    const expectedA = (await alone.run(request(0))).engine?.tokens;
    const expectedB = (await alone.run(request(5))).engine?.tokens;
    const order: string[] = [];
    const [a, b] = await Promise.all([
      together.run(request(0), (e) => { if (e.type === 'first-token') order.push('a'); }),
      together.run(request(5), (e) => { if (e.type === 'first-token') order.push('b'); }),
    ]);
    assert.deepEqual(a.engine?.tokens, expectedA);
    assert.deepEqual(b.engine?.tokens, expectedB);
    assert.deepEqual(order, ['a', 'b']);
  } finally {
    await Promise.all([alone.dispose(), together.dispose()]);
  }
});

test('a crashed engine process fails the request in flight, then restarts with the model on the next one', async () => {
  const backend = new LocalBackend({ modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 8 });
  try {
    await backend.load();
    const firstPid = backend.enginePid!;
    // Killed during prefill (no text yet): the caller gets a UserError, not a hang.
    await assert.rejects(
      backend.run({ prompt: { kind: 'tokens', tokens: prompt(64) }, sampling: long, ignoreStopTokens: true },
        (event) => { if (event.type === 'prefill' && event.doneTokens === 0) process.kill(firstPid, 'SIGKILL'); }),
      (error: unknown) => error instanceof UserError && /stopped unexpectedly/.test(error.message) && /SIGKILL/.test(error.message));
    assert.equal(backend.engineCrashes, 1);

    // Killed mid-answer: the text so far comes back as a 'cut' answer.
    let secondPid = 0;
    const cut = await backend.run({ prompt: { kind: 'tokens', tokens: prompt(10) }, sampling: long, ignoreStopTokens: true },
      (event) => { if (event.type === 'text' && secondPid === 0) { secondPid = backend.enginePid!; process.kill(secondPid, 'SIGKILL'); } });
    assert.notEqual(secondPid, firstPid, 'a new engine process answered');
    assert.equal(cut.finishReason, 'cut');
    assert.ok(cut.text.length > 0);
    assert.match(cut.warnings[0]!, /stopped unexpectedly/);

    const after = await backend.run({ prompt: { kind: 'tokens', tokens: prompt(10) }, sampling: { maxTokens: 3 }, ignoreStopTokens: true });
    assert.equal(after.completionTokens, 3);
    assert.equal(backend.engineCrashes, 2);
  } finally {
    await backend.dispose();
  }
});

test('a context that does not fit in memory fails at load with the context that would fit', async () => {
  // 2 layers x 2 KV heads x 16 x float32: 256 bytes of KV per token, budgeted twice.
  const modelDir = await tinyModel({ maxContext: 65536 });
  const budget = 8 * 1024 * 1024;
  const tooLarge = new LocalBackend({ modelDir, executionProvider: 'cpu', contextTokens: 65536, prefillChunkTokens: 256, deviceMemoryBytes: budget });
  let suggested = 0;
  try {
    await assert.rejects(tooLarge.load(), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /65536-token context/);
      assert.match(error.message, /KV cache/);
      const match = error.hint?.match(/^Set --context to (\d+)/);
      assert.ok(match, error.hint);
      suggested = Number(match[1]);
      return true;
    });
    assert.ok(suggested >= 1024 && suggested < 65536);
  } finally {
    await tooLarge.dispose();
  }
  // Context 0 means "as much as fits": the same number, said in the engine's detail line.
  const automatic = new LocalBackend({ modelDir, executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 256, deviceMemoryBytes: budget });
  try {
    const info = await automatic.load();
    assert.equal(info.contextTokens, suggested);
    assert.ok(info.estimate.totalBytes <= budget);
    assert.match((await automatic.info()).detail, new RegExp(`context ${suggested} of the model's 65536 tokens`));
  } finally {
    await automatic.dispose();
  }
});

test('a prompt longer than the context is refused with a clear error, and the engine keeps working', async () => {
  const backend = new LocalBackend({ modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 64, prefillChunkTokens: 32 });
  try {
    await assert.rejects(backend.run({ prompt: { kind: 'tokens', tokens: prompt(60) }, sampling: { maxTokens: 10 } }),
      (error: unknown) => error instanceof UserError && /60 tokens/.test(error.message) && /context of 64 tokens/.test(error.message));
    const ok = await backend.run({ prompt: { kind: 'tokens', tokens: prompt(50) }, sampling: { maxTokens: 10 }, ignoreStopTokens: true });
    assert.equal(ok.completionTokens, 10);
  } finally {
    await backend.dispose();
  }
});

test('chat requests: template, prompt count, streamed text equal to the decoded answer, prefix reuse for a new question', async () => {
  // Llama 3's vocabulary with tied embeddings keeps the model small (about 33 MB).
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009] });
  const backend = new LocalBackend({ modelDir, executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 128, settingNames: EXTENSION_SETTINGS });
  const guardingDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], guardPaths: true });
  const guarding = new LocalBackend({ modelDir: guardingDir, executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 128 });
  const tokenizer = loadTokenizer();
  try {
    const info = await backend.info();
    assert.equal(info.kind, 'local');
    assert.match(info.detail, /CPU: chosen by the setting prolong\.engine\.executionProvider/, 'in VS Code, the setting (never --ep)');
    assert.match(info.detail, /pre-allocated host buffers/);
    const documentText = 'File: src/main.ts\nexport const answer = 42;\n'.repeat(5);
    const ask = (question: string) => ({ messages: [{ role: 'system' as const, content: documentText }, { role: 'user' as const, content: question }] });

    const count = await backend.countPromptTokens(ask('What is the answer?'));
    assert.equal(count.exact, true);
    // Prefill the repository before any question: the first question then reuses all of it.
    const prefillEvents: GenerateEvent[] = [];
    const warmed = await backend.prefill([{ role: 'system', content: documentText }], (e) => prefillEvents.push(e));
    assert.equal(warmed.completionTokens, 0);
    assert.ok(warmed.promptTokens > 50 && warmed.promptTokens < count.tokens);
    assert.deepEqual(prefillEvents.at(-1), { type: 'prefill', doneTokens: warmed.promptTokens, totalTokens: warmed.promptTokens, reusedTokens: 0 });

    const events: GenerateEvent[] = [];
    const first = await backend.generate({ ...ask('What is the answer?'), sampling: { maxTokens: 12, temperature: 0.8, seed: 3 } }, (e) => events.push(e));
    assert.equal(first.promptTokens, count.tokens);
    assert.equal(first.cachedPromptTokens, warmed.promptTokens, 'the prefilled repository was reused whole');
    const streamed = events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text).join('');
    assert.equal(streamed, first.text);
    assert.deepEqual(events.slice(0, 1).map((e) => e.type), ['prefill']);
    assert.ok(events.findIndex((e) => e.type === 'first-token') < events.findIndex((e) => e.type === 'text'));
    if (first.finishReason === 'length') assert.equal(first.completionTokens, 12);

    // Streaming never splits a character: random sampling over the whole vocabulary emits byte-level pieces of
    // multi-byte characters, yet every streamed piece is whole UTF-16 and together they are the decoded answer.
    const pieces: string[] = [];
    const sampled = await backend.run({ prompt: { kind: 'chat', messages: ask('Say something.').messages }, sampling: { maxTokens: 60, temperature: 2, seed: 9 }, ignoreStopTokens: true, returnTokens: true },
      (e) => { if (e.type === 'text') pieces.push(e.text); });
    assert.equal(pieces.join(''), sampled.text);
    assert.equal(sampled.text, tokenizer.decode(sampled.engine!.tokens!));
    for (const piece of pieces) assert.doesNotMatch(piece, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);

    const second = await backend.generate({ ...ask('Where is it defined?'), sampling: { maxTokens: 4 } }, () => {});
    // Everything up to the user turn is shared: the system turn with the document.
    const systemOnly = count.tokens - tokenizer.encode('What is the answer?').length;
    assert.ok((second.cachedPromptTokens ?? 0) >= systemOnly - 8, `reused ${second.cachedPromptTokens} of about ${systemOnly}`);
    assert.ok((second.cachedPromptTokens ?? 0) < second.promptTokens);

    // The answer's paths are kept to the packed files' (citationGuard.ts; the engine reads them from the packed
    // document in the prompt), through the engine process, greedy or sampled: random weights, unguarded, write no
    // packed path after "src/net/kol". They want "/" far above any packed path's next piece, so the guard lets the word
    // go at its default margin and holds it when told never to. This random model's sidecar does not ask for the
    // guard: the requests do.
    const paths = ['src/net/kolkhoses_timothies.py', 'src/net/kolkhoz.py', 'src/store/haute_november.ts', 'src/main.ts'];
    const repository = documentHeader('fixture', paths.length) + paths.map((path) => fileChunk(path, 'x = 1\n')).join('');
    const prompt = { kind: 'chat' as const, messages: buildRepositoryPrompt({ repository, question: 'Which file defines `x`?' }), assistantPrefix: 'It is defined in src/net/kol' };
    const pathAfter = (text: string) => `src/net/kol${/^[A-Za-z0-9_/.-]*/.exec(text)![0].replace(/\.+$/, '')}`;
    for (const sampling of [{ maxTokens: 16, temperature: 0 }, { maxTokens: 16, temperature: 1.5, seed: 5 }]) {
      const strict = await backend.run({ prompt, sampling, citationGuard: true, citationReleaseMargin: 1e9 });
      assert.ok(paths.includes(pathAfter(strict.text)), `${JSON.stringify(strict.text)} goes on with a packed path`);
      const free = await backend.run({ prompt, sampling });
      assert.ok(!paths.includes(pathAfter(free.text)), `unguarded: ${JSON.stringify(free.text)}`);
      const released = await backend.run({ prompt, sampling, citationGuard: true });
      assert.equal(released.text, free.text, 'far from every packed path: let go');
      const notAsked = await backend.run({ prompt, sampling, citationReleaseMargin: 1e9 });
      assert.equal(notAsked.text, free.text, 'a model whose sidecar does not ask for the guard writes freely');
      const byModel = await guarding.run({ prompt, sampling, citationReleaseMargin: 1e9 });
      assert.equal(byModel.text, strict.text, 'the same weights converted --guard-paths: guarded without being asked');
      assert.equal((await guarding.run({ prompt, sampling, citationGuard: false })).text, free.text);
    }
  } finally {
    await backend.dispose();
    await guarding.dispose();
  }
});

test('a context longer than the model runs names what asked for it: the setting, or the CLI option that chose it', async () => {
  const modelDir = await tinyModel(); // converted for 512 tokens
  await assert.rejects(Engine.load({ modelDir, executionProvider: 'cpu', contextTokens: 4096, prefillChunkTokens: 64, settingNames: EXTENSION_SETTINGS }),
    (error: unknown) => error instanceof UserError && /^The context \(the setting prolong\.engine\.contextTokens\) is 4096 tokens, but the model in .* runs at most 512 tokens\.$/.test(error.message)
      && /^Set the setting prolong\.engine\.contextTokens to 512 or less/.test(error.hint ?? '') && !/--context/.test(error.hint ?? ''));
  await assert.rejects(Engine.load({ modelDir, executionProvider: 'cpu', contextTokens: 4096, prefillChunkTokens: 64 }),
    (error: unknown) => error instanceof UserError && /^The context \(--context\) is 4096 tokens/.test(error.message) && /^Set --context to 512 or less/.test(error.hint ?? ''));
  await assert.rejects(Engine.load({
    modelDir, executionProvider: 'cpu', contextTokens: 4096, prefillChunkTokens: 64,
    contextTokensSource: { what: 'the longest of --lengths, 4K', fix: 'Give --lengths up to {limit} tokens' },
  }), (error: unknown) => error instanceof UserError && !error.message.includes('prolong.engine.contextTokens')
    && /asked for a 4096-token context \(the longest of --lengths, 4K\)/.test(error.message) && /Give --lengths up to 512 tokens/.test(error.hint ?? ''));
});

test('a llama.cpp GPU backend that takes the engine down is told once and left out; other crashes are not', () => {
  assert.equal(crashedLlamaCppGpu({ runtime: 'llama.cpp', executionProvider: 'cuda' }), 'cuda');
  assert.equal(crashedLlamaCppGpu({ runtime: 'llama.cpp', executionProvider: 'vulkan' }), 'vulkan');
  assert.equal(crashedLlamaCppGpu({ runtime: 'llama.cpp', executionProvider: 'cpu' }), undefined);
  assert.equal(crashedLlamaCppGpu({ runtime: 'onnx', executionProvider: 'webgpu' }), undefined);
  assert.equal(crashedLlamaCppGpu(undefined), undefined);
  // the engine client's crash hook, as it fires when the process dies: no process is started here
  const backend = new LocalBackend({ modelDir: 'unused', executionProvider: 'auto', contextTokens: 0, prefillChunkTokens: 64 });
  const told: string[] = [];
  backend.onGpuLeftOut = (gpu) => told.push(gpu);
  const internals = backend as unknown as { loaded: unknown; client: { onCrash: (reason: string) => void }; crashedGpus: Set<string> };
  for (const provider of ['cuda', 'cuda', 'cpu']) {
    internals.loaded = { runtime: 'llama.cpp', executionProvider: provider };
    internals.client.onCrash('SIGABRT');
  }
  assert.deepEqual(told, ['cuda']);
  assert.deepEqual([...internals.crashedGpus], ['cuda']);
});
