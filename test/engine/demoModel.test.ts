// The bundled demo model (media/demo-model, trained by training/, see its README) answers needle questions through
// the engine on the CPU. Random weights cannot tell a working engine from a broken one; this model can: a wrong
// rotary, KV cache, chunk boundary or prefix cut turns its right answers into wrong ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProlong } from './cliProcess';
import { webgpuUnavailableReason } from '../../kernels/webgpuProbe';
import type { GenerateEvent, GenerateRequest } from '../../engine/backends/types';
import { promptCounterFor } from '../../engine/probes/promptCounter';
import { buildInstances, runProbes } from '../../engine/probes/runner';
import type { ProbeInstance } from '../../engine/probes/types';
import { LocalBackend } from '../../engine/runtime/localBackend';
import { DEMO_MODEL_NAME, demoModelDir } from '../../engine/models/demoModel';

const READER = demoModelDir();
const counter = promptCounterFor(undefined, () => {});

function backend(prefillChunkTokens: number): LocalBackend {
  return new LocalBackend({ modelDir: READER, executionProvider: 'cpu', contextTokens: 8192, prefillChunkTokens });
}

/** niah_single_1 at 1K with the CLI's evaluation seed: the model answered every one of them when measured. */
function needles(samples: number): ProbeInstance[] {
  return buildInstances({ tasks: ['niah_single_1'], lengths: [1024], samples, seed: 'eval' }, counter).instances;
}

function request(instance: ProbeInstance): GenerateRequest {
  return { messages: instance.messages, assistantPrefix: instance.assistantPrefix, sampling: { maxTokens: instance.maxTokens, temperature: 0 } };
}

const none = (_event: GenerateEvent) => {};

test('the demo model\'s files are the ones its training card describes (sha256 in its README)', () => {
  const card = readFileSync(join(READER, 'README.md'), 'utf8');
  for (const file of ['model.onnx.data', 'model.onnx']) {
    const listed = new RegExp(`- ${file.replace(/\./g, '\\.')} \`([0-9a-f]{64})\``).exec(card)?.[1];
    assert.ok(listed, `${file} has a hash in the card`);
    assert.equal(createHash('sha256').update(readFileSync(join(READER, file))).digest('hex'), listed, file);
  }
});

test('the demo model finds the needle in 1K- and 8K-token haystacks (probe scores through the engine process)', async () => {
  const engine = backend(256);
  try {
    for (const [task, length, samples] of [['niah_single_1', 1024, 10], ['niah_single_2', 8192, 4]] as const) {
      const result = await runProbes({ tasks: [task], lengths: [length], samples, seed: 'eval', backend: engine, counter });
      assert.equal(result.metadata.error, undefined);
      const score = result.scores.find((s) => s.task === task && s.length === length);
      assert.ok(score, `a ${task} score at ${length}`);
      // measured 100 for both (media/demo-model/README.md); a broken rotary or cache scores 0
      assert.ok(score.score >= 75, `${task} at ${length} scored ${score.score}: ${JSON.stringify(result.instances.map((i) => i.prediction))}`);
    }
  } finally {
    await engine.dispose();
  }
});

test('the same answers with small prefill chunks, after a cancelled answer, and from a reused prefix', async () => {
  const [first, second] = needles(2);
  const whole = backend(1024);
  const chunked = backend(64);
  try {
    for (const instance of [first!, second!]) {
      const reference = await whole.generate(request(instance), none);
      assert.ok(reference.text.includes(instance.answers[0]!), `${instance.id}: "${reference.text}" lacks ${instance.answers[0]}`);
      // 64-token chunks cross the haystack at other boundaries: the cache they build must give the same answer
      const inChunks = await chunked.generate(request(instance), none);
      assert.equal(inChunks.text, reference.text, `${instance.id} in 64-token chunks`);
    }

    // A cancelled answer leaves a cache cut mid-answer; asking again reuses the prompt and answers in full.
    const controller = new AbortController();
    const cancelled = await whole.generate(request(first!), (event) => { if (event.type === 'text') controller.abort(); }, controller.signal);
    assert.equal(cancelled.finishReason, 'cancelled');
    const again = await whole.generate(request(first!), none);
    assert.ok((again.cachedPromptTokens ?? 0) > 0, 'the prompt came from the cache');
    assert.ok(again.text.includes(first!.answers[0]!), `after a cancel: "${again.text}"`);

    // A second question over the same haystack: the shared prefix is reused, the new question is answered.
    const followUp: GenerateRequest = {
      ...request(first!),
      messages: first!.messages.map((message, index) => index === first!.context.message
        ? { ...message, content: `${message.content}\n` } : message),
    };
    const reused = await whole.generate(followUp, none);
    assert.ok((reused.cachedPromptTokens ?? 0) > first!.promptTokens / 2, `reused ${reused.cachedPromptTokens} of ${reused.promptTokens}`);
    assert.ok(reused.text.includes(first!.answers[0]!), `from a reused prefix: "${reused.text}"`);
  } finally {
    await whole.dispose();
    await chunked.dispose();
  }
});

// The CLI with no model and no server: the demo model answers, and says what it is.
test('`prolong probe` and `prolong ask` without --model or --server run the demo model and say it is one', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'prolong-demo-cli-'));
  try {
    const probe = await runProlong(['probe', '--tasks', 'niah_single_1', '--lengths', '1k', '--samples', '5', '--seed', 'eval', '--ep', 'cpu', '--out', join(scratch, 'r.json')]);
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stderr, /small demo model .*--model DIR .*--server URL/);
    const result = JSON.parse(readFileSync(join(scratch, 'r.json'), 'utf8')) as { metadata: { backend: { kind: string; model: string } }; scores: { score: number }[] };
    assert.deepEqual([result.metadata.backend.kind, result.metadata.backend.model], ['local', DEMO_MODEL_NAME]);
    assert.ok(result.scores[0]!.score >= 80, `niah_single_1 at 1K through the CLI scored ${result.scores[0]!.score}`);

    const repo = join(scratch, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'a.py'), 'def alpha_value():\n    return 1\n');
    writeFileSync(join(repo, 'b.py'), 'def beta_value():\n    return 2\n');
    const ask = await runProlong(['ask', '--dir', repo, '--ep', 'cpu', '--max-tokens', '8', '--json', 'Which file defines `beta_value`?'], { XDG_CACHE_HOME: join(scratch, 'cache') });
    assert.equal(ask.code, 0, ask.stderr);
    // (what it answers varies with the temporary folder's name in the document header: not asserted)
    const answer = JSON.parse(ask.stdout) as { backend: string; model: string; notice?: string; promptTokens: number; finishReason: string };
    assert.deepEqual([answer.backend, answer.model], ['local', DEMO_MODEL_NAME]);
    assert.match(answer.notice ?? '', /small demo model/);
    assert.ok(answer.promptTokens > 0);
    assert.ok(['stop', 'length'].includes(answer.finishReason), answer.finishReason);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('the demo model finds needles on the WebGPU execution provider too (the default on a machine with a GPU)', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'prolong-demo-webgpu-'));
  const unavailable = await webgpuUnavailableReason(work);
  rmSync(work, { recursive: true, force: true });
  if (unavailable) { t.skip(`no WebGPU adapter: ${unavailable}`); return; }
  const engine = new LocalBackend({ modelDir: READER, executionProvider: 'webgpu', contextTokens: 2048, prefillChunkTokens: 512 });
  try {
    const result = await runProbes({ tasks: ['niah_single_1'], lengths: [1024], samples: 3, seed: 'eval', backend: engine, counter });
    assert.equal(result.metadata.error, undefined);
    assert.match(result.metadata.backend.detail ?? '', /WebGPU/);
    // measured 100 (lavapipe and CPU alike)
    assert.ok(result.scores[0]!.score >= 66, `niah_single_1 at 1K on WebGPU scored ${result.scores[0]!.score}: ${JSON.stringify(result.instances.map((i) => i.prediction))}`);
  } finally {
    await engine.dispose();
  }
});
