// The engine's llama.cpp runtime (node-llama-cpp on the CPU, installed by test/run.mjs into test/.llama-cpp with
// `prolong runtime install --gpu cpu`, as a user installs it) against the onnxruntime engine on the same weights: the
// demo model turned back into a float32 checkpoint and converted with --gguf f32, so both runtimes compute in float32
// and must pick the same greedy tokens. Prefix reuse, chunked prefill, cancel and the runtime choice are checked
// through the engine process, as the extension and the CLI use it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runProlong } from './cliProcess';
import type { GenerateEvent } from '../../engine/backends/types';
import { demoModelDir } from '../../engine/models/demoModel';
import { LocalBackend } from '../../engine/runtime/localBackend';
import type { LoadOptions } from '../../engine/runtime/protocol';
import { loadTokenizer } from '../../engine/tokenizer';
import { readGgufHeader } from '../../kernels/gguf';

const repoRoot = resolve(__dirname, '..', '..');
const RUNTIME = join(repoRoot, 'test', '.llama-cpp');
let work: string;
let modelDir: string;

before(async () => {
  assert.ok(existsSync(join(RUNTIME, 'node_modules', 'node-llama-cpp')),
    `the llama.cpp runtime is not installed in ${RUNTIME}: test/run.mjs installs it (node out/cli.js runtime install --gpu cpu --dir test/.llama-cpp)`);
  work = mkdtempSync(join(tmpdir(), 'llama-cpp-'));
  const checkpoint = join(work, 'hf');
  const unconvert = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'training/data/unconvert.ts'), demoModelDir(), checkpoint], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(unconvert.status, 0, unconvert.stderr);
  modelDir = join(work, 'model');
  const converted = await runProlong(['convert', checkpoint, modelDir, '--dtype', 'fp32', '--gguf', 'f32', '--max-context', '8192']);
  assert.equal(converted.code, 0, converted.stderr);
});

after(() => rmSync(work, { recursive: true, force: true }));

const none = (_event: GenerateEvent) => {};

function engine(options: Partial<LoadOptions> = {}): LocalBackend {
  return new LocalBackend({ modelDir, executionProvider: 'cpu', contextTokens: 4096, prefillChunkTokens: 1024, runtime: 'llama.cpp', llamaCppDir: RUNTIME, ...options });
}

const tokenizer = loadTokenizer();
/** A needle in filler: the demo model copies the number; the tokens after it are whatever float32 makes of them. */
function needleDocument(number: string, fillerRepeats: number): number[] {
  return [128000, ...tokenizer.encode(`The special magic number for apple is ${number}.\n` + 'The grass is green. The sky is blue. '.repeat(fillerRepeats))];
}
const question = (fruit: string) => tokenizer.encode(`\nWhat is the special magic number for ${fruit}? The special magic number for ${fruit} is`);
function needlePrompt(number: string, fillerRepeats: number): number[] {
  return [...needleDocument(number, fillerRepeats), ...question('apple')];
}

async function greedy(backend: LocalBackend, tokens: number[], maxTokens = 12) {
  const result = await backend.run({ prompt: { kind: 'tokens', tokens }, sampling: { maxTokens, temperature: 0 }, ignoreStopTokens: true, returnTokens: true }, none);
  return result.engine!;
}

test('the GGUF export holds llama.cpp\'s Llama metadata, the vocabulary and every tensor', () => {
  const header = readGgufHeader(join(modelDir, 'model.gguf'));
  assert.equal(header.metadata.get('general.architecture'), 'llama');
  assert.equal(header.metadata.get('llama.context_length'), 8192);
  assert.equal((header.metadata.get('tokenizer.ggml.tokens') as string[]).length, 128256);
  assert.equal(header.metadata.get('tokenizer.ggml.pre'), 'llama-bpe');
  const names = header.tensors.map((t) => t.name);
  assert.ok(names.includes('token_embd.weight') && names.includes('output_norm.weight') && names.includes('blk.0.attn_q.weight'));
  assert.ok(!names.includes('output.weight'), 'tied embeddings: no separate output matrix');
});

test('llama.cpp and onnxruntime pick the same greedy tokens from the same float32 weights', async () => {
  const onnx = engine({ runtime: 'onnx' });
  const llama = engine();
  try {
    for (const [number, filler] of [['7391', 20], ['5820046', 60]] as const) {
      const prompt = needlePrompt(number, filler);
      const a = await greedy(onnx, prompt);
      const b = await greedy(llama, prompt);
      assert.deepEqual(b.tokens, a.tokens, `same tokens for the ${number} needle`);
      assert.match(b.text, new RegExp(number), 'the needle comes back');
    }
    const info = await llama.info();
    assert.match(info.detail ?? '', /llama\.cpp on the CPU/);
  } finally {
    await onnx.dispose();
    await llama.dispose();
  }
});

test('llama.cpp runtime: prefix reuse, chunked prefill and a cancelled answer give the answers of a fresh engine', async () => {
  const document = needleDocument('4417', 40);
  const first = [...document, ...question('apple')];
  const second = [...document, ...question('the apple tree')];
  const fresh = engine();
  const chunked = engine({ prefillChunkTokens: 64 });
  try {
    const expected = await greedy(fresh, second);
    await fresh.dispose();

    const one = await greedy(chunked, first);
    assert.match(one.text, /4417/);
    const two = await greedy(chunked, second);
    assert.ok(two.cachedPromptTokens >= document.length && two.cachedPromptTokens < second.length, `the shared prefix is reused, not prefilled again (${two.cachedPromptTokens} of ${second.length})`);
    assert.deepEqual(two.tokens, expected.tokens, 'reused prefix + 64-token chunks answer as a fresh engine does');

    const controller = new AbortController();
    const cancelled = await chunked.run({ prompt: { kind: 'tokens', tokens: first }, sampling: { maxTokens: 200, temperature: 0 }, ignoreStopTokens: true },
      (event) => { if (event.type === 'text') controller.abort(); }, controller.signal);
    assert.equal(cancelled.finishReason, 'cancelled');
    assert.ok(cancelled.completionTokens < 200);
    const again = await greedy(chunked, second);
    assert.deepEqual(again.tokens, expected.tokens, 'after a cancel the cache still answers correctly');
  } finally {
    await fresh.dispose();
    await chunked.dispose();
  }
});

test('the runtime choice and its reason are reported, and a wrong choice is an error naming the fix', async () => {
  const cases: { options: Partial<LoadOptions>; runtime?: string; reason?: RegExp; error?: RegExp }[] = [
    // auto on the CPU: onnxruntime is the faster one there (BENCHMARKS.md)
    { options: { runtime: 'auto' }, runtime: 'onnx', reason: /on the CPU it is faster than llama\.cpp/ },
    // auto with any provider: llama.cpp only with a GPU backend (none on CI: no GPU, or lavapipe's software Vulkan;
    // on a machine where llama.cpp finds a GPU, run with PROLONG_TEST_GPU=1)
    { options: { runtime: 'auto', executionProvider: 'auto' }, runtime: process.env.PROLONG_TEST_GPU ? 'llama.cpp' : 'onnx', reason: process.env.PROLONG_TEST_GPU ? /has a GPU backend/ : /has no GPU backend on this machine/ },
    { options: { runtime: 'llama.cpp' }, runtime: 'llama.cpp', reason: /llama\.cpp, as --runtime asks/ },
    // a GPU backend that stopped the engine process before (LocalBackend passes it after a crash) is left out, and said
    { options: { runtime: 'llama.cpp', llamaCppExcludeGpus: ['vulkan', 'cuda'] }, runtime: 'llama.cpp', reason: /left out: llama\.cpp's vulkan, cuda backend/ },
    { options: { runtime: 'auto', modelDir: join(modelDir, 'model.gguf') }, runtime: 'llama.cpp', reason: /the model is a GGUF file/ },
    { options: { runtime: 'auto', modelDir: demoModelDir() }, runtime: 'onnx', reason: /no GGUF/ },
    { options: { runtime: 'llama.cpp', llamaCppDir: join(work, 'nothing') }, error: /llama\.cpp runtime is not installed in .*nothing.*prolong runtime install/s },
    { options: { runtime: 'llama.cpp', modelDir: demoModelDir() }, error: /has no model\.gguf.*--gguf q4_0/s },
    { options: { runtime: 'onnx', modelDir: join(modelDir, 'model.gguf') }, error: /GGUF file, which only the llama\.cpp runtime runs/ },
  ];
  for (const c of cases) {
    const backend = engine(c.options);
    try {
      if (c.error) {
        await assert.rejects(backend.load(), (error: Error) => { assert.match(`${error.message} ${(error as { hint?: string }).hint ?? ''}`, c.error!); return true; });
        continue;
      }
      const info = await backend.load();
      assert.equal(info.runtime, c.runtime, JSON.stringify(c.options));
      assert.match(info.runtimeReason, c.reason!);
    } finally {
      await backend.dispose();
    }
  }
});
