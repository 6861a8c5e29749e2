// Engine benchmark: prefill tokens/s, time to first token, decode ms/token, the second question's time to
// first token with prefix reuse, peak host and device memory, the host's event-loop delay while the engine
// generates, and the execution provider, for each context length.
//   npm run bench:engine -- --model DIR --contexts 4096,32768
//   node out/bench-engine.js --random llama-3.2-1b --weights fp16,int4 --work /tmp/models --contexts 4096,32768 --kv device,host-copy
// Prompts are seeded random token ids (random-weight models have no meaningful text); stop tokens are ignored. --help lists the options.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { convertCheckpoint, randomShapes, writeRandomCheckpoint, type RandomShapeName, type WeightDtype } from '../../kernels';
import { sidecarFileName } from '../../kernels/sidecar';
import { errorMessage } from '../../engine/errors';
import { LocalBackend } from '../../engine/runtime/localBackend';
import type { ExecutionProviderSetting, KvPlacement, RuntimeSetting } from '../../engine/runtime/protocol';
import { readGgufHeader } from '../../kernels/gguf';
import { seededRandom } from '../../engine/runtime/sampler';
import { BenchCli } from './cli';

interface Args {
  models: string[];
  random?: RandomShapeName;
  weights: WeightDtype[];
  work: string;
  contexts: number[];
  kv: KvPlacement[];
  /** Contexts for the host-copy baseline (default: all). */
  baselineContexts?: number[];
  provider: ExecutionProviderSetting;
  runtime: RuntimeSetting;
  /** Context to allocate, when larger than the longest prompt needs (a 512K cache with a short prompt). */
  contextTokens?: number;
  /** Where the llama.cpp runtime is installed. */
  llamaCppDir?: string;
  chunk: number;
  decodeTokens: number;
  questionTokens: number;
  json?: string;
  /** Only write and convert the random models. */
  prepareOnly: boolean;
  webgpuValidation: 'basic' | 'disabled';
  /** Directory for onnxruntime traces: first questions only, then a per-operator summary of the last decode steps. */
  profile?: string;
}

const bench = new BenchCli('bench-engine', `usage: npm run bench:engine -- (--model DIR[,DIR] | --random SHAPE --weights LIST) [options]
Measures prefill tok/s, TTFT, decode ms/token, 2nd-question TTFT (prefix reuse), peak memory and event-loop delay.
  --model DIRS             converted model directories or .gguf files, comma-separated
  --random SHAPE           write and convert a random-weight model: ${Object.keys(randomShapes).join(', ')}
  --weights LIST           with --random: fp32, fp16, int4 or none, comma-separated (default fp16)
  --work DIR               where random models are written (default /tmp/prolong-bench-models)
  --prepare-only           only write and convert the random models
  --contexts LIST          context lengths in tokens (default 4096,32768)
  --kv LIST                device, device-shared, device-graph, host-copy (default device)
  --baseline-contexts LIST contexts for host-copy (default: --contexts)
  --ep auto|webgpu|cpu     execution provider (default auto)
  --runtime auto|onnx|llama.cpp  which runtime runs the model (default auto)
  --context-tokens N       allocate this context (default: the longest --contexts plus the answer)
  --llama-cpp DIR          where the llama.cpp runtime is installed (prolong runtime install --dir DIR)
  --chunk N                prefill chunk tokens (default 2048)
  --decode-tokens N        tokens decoded per question (default 32)
  --question-tokens N      question tokens at the prompt's end (default 32)
  --webgpu-validation basic|disabled  (default basic)
  --json FILE              also write the rows as JSON
  --profile DIR            onnxruntime traces of the first questions, and a per-operator summary
`);

function parseBenchArgs(): Args {
  const text = { type: 'string' } as const;
  const { values } = bench.parse({
    options: {
      model: text, random: text, weights: text, work: text, contexts: text, kv: text, 'baseline-contexts': text, ep: text, chunk: text, runtime: text, 'llama-cpp': text, 'context-tokens': text,
      'decode-tokens': text, 'question-tokens': text, json: text, 'prepare-only': { type: 'boolean' }, 'webgpu-validation': text, profile: text,
    },
  });
  const counts = (name: string, list: string) => list.split(',').map((s) => s.trim()).filter(Boolean).map((item) => bench.number(name, item));
  const random = values.random === undefined ? undefined : bench.oneOf('--random', values.random, Object.keys(randomShapes) as RandomShapeName[]);
  const models = values.model ? values.model.split(',').map((s) => s.trim()).filter(Boolean) : [];
  if (!random && models.length === 0) bench.fail('give --model DIR (a converted model) or --random SHAPE --weights fp16,int4');
  return {
    models, random,
    weights: bench.listOf('--weights', values.weights ?? 'fp16', ['fp32', 'fp16', 'int4', 'none']).filter((w) => w !== 'none') as WeightDtype[],
    work: values.work ?? '/tmp/prolong-bench-models',
    contexts: counts('--contexts', values.contexts ?? '4096,32768'),
    kv: bench.listOf('--kv', values.kv ?? 'device', ['device', 'device-shared', 'device-graph', 'host-copy']),
    baselineContexts: values['baseline-contexts'] ? counts('--baseline-contexts', values['baseline-contexts']) : undefined,
    provider: bench.oneOf('--ep', values.ep ?? 'auto', ['auto', 'webgpu', 'cpu']),
    runtime: bench.oneOf('--runtime', values.runtime ?? 'auto', ['auto', 'onnx', 'llama.cpp']),
    llamaCppDir: values['llama-cpp'],
    contextTokens: values['context-tokens'] ? bench.number('--context-tokens', values['context-tokens']) : undefined,
    chunk: bench.number('--chunk', values.chunk ?? '2048'),
    decodeTokens: bench.number('--decode-tokens', values['decode-tokens'] ?? '32'),
    questionTokens: bench.number('--question-tokens', values['question-tokens'] ?? '32'),
    json: values.json,
    prepareOnly: values['prepare-only'] ?? false,
    webgpuValidation: bench.oneOf('--webgpu-validation', values['webgpu-validation'] ?? 'basic', ['basic', 'disabled']),
    profile: values.profile,
  };
}

/** Writes random checkpoints in the shape asked for and converts them (skipped when already converted). */
async function randomModels(args: Args): Promise<string[]> {
  const shape = randomShapes[args.random!];
  const longest = Math.max(...args.contexts) + args.decodeTokens + args.questionTokens + 64;
  const dirs: string[] = [];
  const hf = join(args.work, `${args.random}-hf`);
  if (!existsSync(join(hf, 'config.json'))) {
    const started = performance.now();
    writeRandomCheckpoint(hf, shape, 1234, { dtype: 'F16', eosTokenIds: [128009] });
    log(`random ${args.random} checkpoint written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  for (const dtype of args.weights) {
    const out = join(args.work, `${args.random}-${dtype}`);
    if (!existsSync(join(out, sidecarFileName))) {
      const result = await convertCheckpoint(hf, out, { dtype, ioDtype: dtype === 'fp32' ? 'fp32' : 'fp16', maxContext: Math.max(longest, 8192) });
      log(`converted ${dtype}: ${(result.externalDataBytes / 2 ** 30).toFixed(2)} GiB of weights in ${result.seconds.toFixed(1)} s`);
    }
    dirs.push(out);
  }
  return dirs;
}

/** Polls nvidia-smi for used GPU memory (MiB); peak is undefined where there is no NVIDIA GPU. */
class GpuMemoryPoll {
  peakMiB: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  static read(): Promise<number | undefined> {
    return new Promise((resolve) => {
      execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { timeout: 2000 }, (error, stdout) => {
        const value = Number(String(stdout).trim().split('\n')[0]);
        resolve(error || !Number.isFinite(value) ? undefined : value);
      });
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void GpuMemoryPoll.read().then((value) => {
        this.busy = false;
        if (value !== undefined) this.peakMiB = Math.max(this.peakMiB ?? 0, value);
      });
    }, 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function randomTokens(seed: number, count: number, vocab: number): number[] {
  const random = seededRandom(seed);
  // Stay clear of Llama 3's special tokens (128000+), which mean nothing to a random model anyway.
  const top = Math.min(vocab, 128000);
  return Array.from({ length: count }, () => Math.floor(random() * top));
}

interface Row {
  model: string; weights: string; kv: KvPlacement | 'llama.cpp'; provider: string; context: number;
  prefillTokensPerSecond: number; timeToFirstTokenMs: number; decodeMsPerToken: number;
  secondTimeToFirstTokenMs: number; secondReusedTokens: number; secondToFirstRatio: number;
  peakHostMiB: number; peakDeviceMiB: number | undefined; deviceBaselineMiB: number | undefined;
  eventLoopDelayP99Ms: number; eventLoopDelayMaxMs: number;
  /** The first question's greedy answer, to check that every KV placement computes the same thing. */
  answerTokens: number[];
}

/** Vocabulary and weight type, from the sidecar or the GGUF's header (a .gguf model, or a folder run by llama.cpp). */
function modelFacts(dir: string, runtime: string): { model: { vocabSize: number }; onnx: { dtype: string } } {
  if (dir.toLowerCase().endsWith('.gguf')) {
    const header = readGgufHeader(dir);
    const fileType = header.metadata.get('general.file_type');
    return { model: { vocabSize: (header.metadata.get('tokenizer.ggml.tokens') as unknown[] | undefined)?.length ?? 128256 }, onnx: { dtype: `gguf ${fileType === 2 ? 'q4_0' : fileType === 1 ? 'f16' : fileType === 0 ? 'f32' : String(fileType)}` } };
  }
  const sidecar = JSON.parse(readFileSync(join(dir, sidecarFileName), 'utf8')) as { model: { vocabSize: number }; onnx: { dtype: string }; gguf?: { type: string } };
  return runtime === 'llama.cpp' && sidecar.gguf ? { ...sidecar, onnx: { dtype: `gguf ${sidecar.gguf.type}` } } : sidecar;
}

async function benchModel(dir: string, kv: KvPlacement, args: Args, contexts: number[], rows: Row[]): Promise<void> {
  const longest = Math.max(Math.max(...contexts) + args.decodeTokens + args.questionTokens + 16, args.contextTokens ?? 0);
  const backend = new LocalBackend({ modelDir: dir, runtime: args.runtime, llamaCppDir: args.llamaCppDir, executionProvider: args.provider, contextTokens: longest, prefillChunkTokens: args.chunk, kvPlacement: kv, webgpuValidation: args.webgpuValidation,
    profileFilePrefix: args.profile ? join(args.profile, `ort-${kv}`) : undefined });
  const baseline = await GpuMemoryPoll.read();
  const poll = new GpuMemoryPoll();
  poll.start();
  try {
    const loadStart = performance.now();
    let info = await backend.load();
    log(`${dir} [${kv}]: ${info.runtimeReason}; ${info.executionProviderReason}; loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; ` +
      `estimate ${(info.estimate.totalBytes / 2 ** 30).toFixed(2)} GiB of ${(info.estimate.availableBytes / 2 ** 30).toFixed(1)} (${info.estimate.availableSource})`);
    const sidecar = modelFacts(dir, info.runtime);
    const vocab = sidecar.model.vocabSize;
    // Warm-up, prefix reuse included: shader compilation and first allocations stay out of the numbers.
    // Two full prefill chunks and a partial one: GPU runtimes compile their kernels for each batch shape on first use.
    const warm = randomTokens(1, Math.min(2 * args.chunk + 300, longest - 64), vocab);
    try {
      await backend.run({ prompt: { kind: 'tokens', tokens: warm }, sampling: { maxTokens: 4 }, ignoreStopTokens: true });
    } catch (error) {
      // what a user's next request meets after an engine crash: the backend restarts it, leaving out a GPU backend that aborted
      if (!/stopped unexpectedly/.test(errorMessage(error))) throw error;
      log(`${dir}: ${errorMessage(error)}; the next request restarts the engine`);
      info = await backend.load();
      log(`${dir}: restarted: ${info.runtimeReason}; ${info.executionProviderReason}`);
      await backend.run({ prompt: { kind: 'tokens', tokens: warm }, sampling: { maxTokens: 4 }, ignoreStopTokens: true });
    }
    await backend.run({ prompt: { kind: 'tokens', tokens: [...warm.slice(0, warm.length - 100), 5, 6, 7] }, sampling: { maxTokens: 4 }, ignoreStopTokens: true });
    for (const context of contexts) {
      const documentTokens = randomTokens(100 + context, context - args.questionTokens, vocab);
      const first = [...documentTokens, ...randomTokens(200 + context, args.questionTokens, vocab)];
      const second = [...documentTokens, ...randomTokens(300 + context, args.questionTokens, vocab)];
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const one = await backend.run({ prompt: { kind: 'tokens', tokens: first }, sampling: { maxTokens: args.decodeTokens }, ignoreStopTokens: true, returnTokens: true });
      delay.disable();
      if (args.profile) {
        log(`profiled ${context}: ${one.engine!.completionTokens} tokens, decode ${(one.engine!.decodeMs / Math.max(1, one.engine!.completionTokens - 1)).toFixed(2)} ms/token`);
        continue;
      }
      const two = await backend.run({ prompt: { kind: 'tokens', tokens: second }, sampling: { maxTokens: 2 }, ignoreStopTokens: true });
      const stats = await backend.stats();
      const e1 = one.engine!;
      const e2 = two.engine!;
      const row: Row = {
        model: dir, weights: sidecar.onnx.dtype, kv: info.runtime === 'llama.cpp' ? 'llama.cpp' : kv, provider: info.executionProvider, context,
        prefillTokensPerSecond: first.length / (e1.prefillMs / 1000),
        timeToFirstTokenMs: e1.timeToFirstTokenMs,
        decodeMsPerToken: e1.decodeMs / Math.max(1, e1.completionTokens - 1),
        secondTimeToFirstTokenMs: e2.timeToFirstTokenMs,
        secondReusedTokens: e2.cachedPromptTokens,
        secondToFirstRatio: e2.timeToFirstTokenMs / e1.timeToFirstTokenMs,
        peakHostMiB: stats.peakRssBytes / 2 ** 20,
        peakDeviceMiB: poll.peakMiB, deviceBaselineMiB: baseline,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6, eventLoopDelayMaxMs: delay.max / 1e6,
        answerTokens: e1.tokens ?? [],
      };
      rows.push(row);
      log(formatRow(row));
    }
  } catch (error) {
    log(`${dir} [${kv}] failed: ${errorMessage(error)}`);
  } finally {
    poll.stop();
    await backend.dispose();
  }
  if (args.profile) summarizeProfile(args.profile, `ort-${kv}`, args.decodeTokens - 2);
}

interface TraceEvent { cat?: string; name?: string; ts?: number; dur?: number; args?: { op_name?: string } }

/** Per-step time by operator over the last `steps` model runs of the newest trace with `prefix` (the decode steps). */
function summarizeProfile(dir: string, prefix: string, steps: number): void {
  const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  const file = readdirSync(dir).filter((name) => name.startsWith(prefix) && name.endsWith('.json')).sort().pop();
  if (!file) { log(`no onnxruntime trace ${prefix}*.json in ${dir}`); return; }
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.name === 'model_run' && e.ts !== undefined && e.dur !== undefined).sort((a, b) => a.ts! - b.ts!).slice(-steps);
  if (runs.length === 0) { log(`${file}: no model_run events`); return; }
  const inRun = (e: TraceEvent) => runs.some((r) => e.ts! >= r.ts! && e.ts! <= r.ts! + r.dur!);
  const totals = new Map<string, { us: number; count: number }>();
  for (const e of events) {
    if (e.name === 'model_run' || e.ts === undefined || e.dur === undefined || !inRun(e)) continue;
    // GPU kernels come as 'Api' events named node&operator&program: summed per operator and program over the layers.
    const parts = (e.name ?? '?').split('&');
    const key = parts.length === 3 ? `${e.cat ?? '?'} ${parts[1]}/${parts[2]}` : `${e.cat ?? '?'} ${e.args?.op_name ?? e.name ?? '?'}`;
    const entry = totals.get(key) ?? { us: 0, count: 0 };
    entry.us += e.dur; entry.count++;
    totals.set(key, entry);
  }
  const perStep = (us: number) => (us / runs.length / 1000).toFixed(3);
  console.log(`\n${file}: ${runs.length} decode runs, model_run ${perStep(runs.reduce((s, r) => s + r.dur!, 0))} ms per step; by category and operator (ms per step, events per step):`);
  for (const [key, entry] of [...totals].sort((a, b) => b[1].us - a[1].us).slice(0, 30)) {
    console.log(`  ${perStep(entry.us).padStart(8)}  ${(entry.count / runs.length).toFixed(1).padStart(6)}  ${key}`);
  }
}

const header = '| weights | KV cache | EP | context | prefill tok/s | TTFT ms | decode ms/token | 2nd TTFT ms (reused) | 2nd/1st | peak host MiB | peak device MiB | host event-loop delay p99/max ms |';

function formatRow(r: Row): string {
  const device = r.peakDeviceMiB === undefined ? 'n/a' : `${r.peakDeviceMiB.toFixed(0)}${r.deviceBaselineMiB !== undefined ? ` (idle ${r.deviceBaselineMiB.toFixed(0)})` : ''}`;
  return `| ${r.weights} | ${r.kv} | ${r.provider} | ${r.context} | ${r.prefillTokensPerSecond.toFixed(0)} | ${r.timeToFirstTokenMs.toFixed(0)} | ` +
    `${r.decodeMsPerToken.toFixed(2)} | ${r.secondTimeToFirstTokenMs.toFixed(1)} (${r.secondReusedTokens}) | ${(100 * r.secondToFirstRatio).toFixed(2)}% | ` +
    `${r.peakHostMiB.toFixed(0)} | ${device} | ${r.eventLoopDelayP99Ms.toFixed(1)}/${r.eventLoopDelayMaxMs.toFixed(1)} |`;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const dirs = [...args.models, ...(args.random ? await randomModels(args) : [])];
  if (args.prepareOnly) return;
  const rows: Row[] = [];
  for (const dir of dirs) {
    for (const kv of args.kv) {
      const contexts = kv === 'host-copy' && args.baselineContexts ? args.baselineContexts : args.contexts;
      await benchModel(dir, kv, args, contexts, rows);
    }
  }
  console.log(`\nprefill chunk ${args.chunk}, ${args.decodeTokens} decoded tokens, questions of ${args.questionTokens} tokens, WebGPU validation ${args.webgpuValidation}`);
  console.log(header);
  console.log(`|${header.split('|').slice(1, -1).map(() => '---').join('|')}|`);
  for (const row of rows) console.log(formatRow(row));
  // Same model, same context: every placement must give the same greedy answer (up to float rounding on near-ties).
  for (const row of rows) {
    const reference = rows.find((r) => r.model === row.model && r.context === row.context && r.kv === 'device');
    if (!reference || reference === row) continue;
    const same = reference.answerTokens.filter((token, i) => row.answerTokens[i] === token).length;
    console.log(`${row.weights} ${row.kv} at ${row.context}: ${same}/${reference.answerTokens.length} answer tokens equal to the 'device' placement's`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2));
}

main().then(() => process.exit(0), (error: unknown) => { log(`bench-engine: ${errorMessage(error)}`); process.exit(1); });
