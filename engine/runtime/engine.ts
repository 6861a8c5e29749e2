/**
 * The engine proper, as it runs inside the engine process: a loaded model, its tokenizer and chat template,
 * one KV cache kept between requests for prefix reuse, and the generation loop (chunked prefill, sampling,
 * stop tokens and strings, UTF-8-safe streaming, cancellation checked between every two model runs).
 */
import { join } from 'node:path';
import { sidecarFileName } from '../../kernels/sidecar';
import type { GenerateEvent } from '../backends/types';
import { UserError } from '../errors';
import { chooseExecutionProvider, type ProviderChoice } from './executionProvider';
import { CLI_SETTINGS, type SettingNames } from '../settingNames';
import { graphDecodeProblem } from './graphDecoder';
import { CpuKvCache, SharedDeviceKvCache, type KvCache } from './kvCache';
import { availableMemory, checkMemory, estimateMemory, largestFittingContext } from './memoryBudget';
import { ModelRunner, readModelFiles } from './modelRunner';
import { longestCommonPrefix, PrefixTracker } from './prefixCache';
import { modelKey, PrefixStore } from './prefixStore';
import type { EngineGenerateRequest, EngineGenerateResult, EngineInfo, ExecutionProviderName, KvPlacement, LoadOptions } from './protocol';
import { Sampler, samplerSettings } from './sampler';
import { loadTextSide, type TextSide } from './textSide';
import { checkedChunkTokens, chosenContext, RuntimeEngine } from './runtimeEngine';
import { AnswerStream } from './answerStream';
import { CitationGuard, TokenTexts } from './citationGuard';
import { documentPaths } from '../packer/format';

/**
 * The KV placement: the one asked for, else on WebGPU `device-shared` (pre-allocated buffers appended in place:
 * no per-step allocation or copy of the cache, the fastest measured, see BENCHMARKS.md). `device-graph` is checked
 * first: its decode graph holds a second copy of the weights, and replays must match the regular session on this
 * adapter; where either fails it is an error naming why.
 */
export async function choosePlacement(requested: KvPlacement | undefined, provider: ExecutionProviderName, fitsTwice: boolean,
  problem: () => Promise<string | undefined> = graphDecodeProblem): Promise<{ name: KvPlacement; note?: string }> {
  if (provider !== 'webgpu') return { name: requested ?? 'device' };
  if (requested === undefined) return { name: 'device-shared' };
  if (requested !== 'device-graph') return { name: requested };
  const why = !fitsTwice ? 'the weights do not fit in GPU memory twice (the decode graph holds its own copy)' : await problem();
  if (why !== undefined) {
    throw new UserError(`Graph-captured decoding (KV placement device-graph) does not work here: ${why}.`, 'Use the default KV placement (device-shared).');
  }
  return { name: 'device-graph', note: 'decode steps replayed from a WebGPU graph capture' };
}

export class Engine extends RuntimeEngine {
  private kv: KvCache;
  private readonly prefix = new PrefixTracker();
  /** The prefix cache on disk, when configured and the cache is host memory. */
  private readonly store: PrefixStore | undefined;
  private pendingSave: Promise<void> = Promise.resolve();
  /** The vocabulary's texts for the citation guard, built at the first step an answer writes a packed path. */
  private tokenTexts: TokenTexts | undefined;

  private constructor(
    private readonly runner: ModelRunner,
    readonly info: EngineInfo,
    protected readonly options: LoadOptions,
    private readonly chunkTokens: number,
  ) {
    super();
    this.kv = runner.createKvCache(info.contextTokens);
    this.store = options.prefixCacheDir && this.kv instanceof CpuKvCache
      ? new PrefixStore(options.prefixCacheDir, modelKey(options.modelDir, sidecarFileName, runner.files.sidecar.onnx.externalData))
      : undefined;
  }

  static async load(options: LoadOptions,
    choose: (setting: LoadOptions['executionProvider'], names: SettingNames) => Promise<ProviderChoice> = (setting, names) => chooseExecutionProvider(setting, undefined, undefined, names)): Promise<Engine> {
    const names = options.settingNames ?? CLI_SETTINGS;
    const files = readModelFiles(options.modelDir);
    const limit = files.sidecar.model.contextLength;
    const chunkTokens = checkedChunkTokens(options, limit, `the model in ${options.modelDir}`);
    const choice = await choose(options.executionProvider, names);
    const available = availableMemory(choice.name, options.deviceMemoryBytes);
    const fitting = largestFittingContext(files.dims, files.weightBytes, chunkTokens, available.bytes);
    const contextTokens = chosenContext(options.contextTokens, limit, fitting);
    const memory = { modelDir: options.modelDir, dims: files.dims, weightBytes: files.weightBytes, contextTokens, chunkTokens, provider: choice.name, available, names };
    const placement = await choosePlacement(options.kvPlacement, choice.name, estimateMemory({ ...memory, weightCopies: 2 }).totalBytes <= available.bytes);
    const estimate = checkMemory({ ...memory, weightCopies: placement.name === 'device-graph' ? 2 : 1 });
    const kvPlacement = placement.name;
    const runner = await ModelRunner.load(files, choice.name, kvPlacement, options.webgpuValidation, options.profileFilePrefix);
    const info: EngineInfo = {
      model: files.sidecar.model.source.split(/[\\/]/).filter(Boolean).pop() ?? options.modelDir,
      modelDir: options.modelDir, runtime: 'onnx', runtimeReason: 'onnxruntime', executionProvider: choice.name, executionProviderReason: choice.reason,
      kvPlacement, contextTokens, estimate,
    };
    if (options.contextTokens === 0 && contextTokens < limit) {
      info.executionProviderReason += `; context ${contextTokens} of the model's ${limit} tokens (what fits in ${available.source})`;
    }
    if (placement.note) info.executionProviderReason += `; ${placement.note}`;
    const engine = new Engine(runner, info, options, chunkTokens);
    // The decode graph is bound to the cache's buffers: allocate them and capture now, not in the first answer.
    if (engine.kv instanceof SharedDeviceKvCache && kvPlacement === 'device-graph') await runner.decoderFor(engine.kv);
    // Load the tokenizer now, so the first answer's time-to-first-token does not pay for it.
    engine.textSide();
    return engine;
  }

  protected loadTextSide(): TextSide {
    const sidecar = this.runner.files.sidecar;
    const own = sidecar.tokenizer.file ? join(this.options.modelDir, sidecar.tokenizer.file) : undefined;
    return loadTextSide(own, this.options.tokenizerPath, sidecar.model.eosTokenIds);
  }

  protected vocabularySize(): number {
    return this.runner.files.sidecar.model.vocabSize;
  }

  protected cachedTokens(): number {
    return this.prefix.length;
  }

  protected async resetAfterFailure(): Promise<void> {
    this.resetCache();
  }

  protected async runRequest(prompt: number[], maxTokens: number, request: EngineGenerateRequest,
    onEvent: (event: GenerateEvent) => void, signal: AbortSignal, start: number): Promise<EngineGenerateResult> {
    this.restoreFromDisk(prompt);
    // Prefix reuse: cut the cache back to the longest common prefix, prefill only the rest.
    const reused = this.prefix.reusable(prompt);
    await this.kv.truncate(reused);
    this.prefix.truncate(reused);
    if (this.kv.length !== this.prefix.length) this.resetCache();
    const cached = this.prefix.length;
    const result = this.runStarted(prompt, cached, request, onEvent, start);

    let logits: Float32Array | undefined;
    for (let at = cached; at < prompt.length; at += this.chunkTokens) {
      if (signal.aborted) return result('cancelled', '', [], 0, performance.now() - start, 0);
      const piece = prompt.slice(at, at + this.chunkTokens);
      logits = await this.runner.run(piece, this.kv);
      this.prefix.append(piece);
      onEvent({ type: 'prefill', doneTokens: at + piece.length, totalTokens: prompt.length, reusedTokens: cached });
    }
    const prefillMs = performance.now() - start;
    this.statistics.prefillMs = prefillMs;
    if (!logits) throw new Error('prefill produced no logits');
    if (maxTokens === 0) {
      // A prefill (the packed repository, ahead of the questions) is the prefix most worth keeping on disk.
      this.saveToDisk(prompt);
      return result('length', '', [], prefillMs, prefillMs, 0);
    }

    const sampler = new Sampler(samplerSettings(request.sampling));
    sampler.observe(prompt);
    const answer = new AnswerStream(this.textSide(), request, maxTokens, onEvent);
    const guard = this.citationGuard(request);
    const pick = (row: Float32Array): number => sampler.sample(guard ? guard.apply(row) : row);
    let next = pick(logits);
    const timeToFirstTokenMs = performance.now() - start;
    onEvent({ type: 'first-token', timeToFirstTokenMs });

    let finish: EngineGenerateResult['finishReason'];
    const decodeStart = performance.now();
    for (;;) {
      const ended = answer.push(next);
      if (ended) { finish = ended; break; }
      sampler.observe([next]);
      guard?.advance(next);
      if (signal.aborted) { finish = 'cancelled'; break; }
      logits = await this.runner.run([next], this.kv);
      this.prefix.append([next]);
      if (signal.aborted) { finish = 'cancelled'; break; }
      next = pick(logits);
    }
    answer.finish();
    const decodeMs = performance.now() - decodeStart;
    this.saveToDisk(prompt);
    this.statistics.decodeMs = decodeMs;
    this.statistics.decodeTokens = Math.max(0, answer.tokens.length - 1);
    return result(finish, answer.text, answer.tokens, timeToFirstTokenMs, prefillMs, decodeMs);
  }

  /**
   * For a model that wants one, a guard over the paths of the packed document in the prompt's user turns, following the
   * answer from its assistant prefix on; none without a packed document.
   */
  private citationGuard(request: EngineGenerateRequest): CitationGuard | undefined {
    const wanted = request.citationGuard ?? this.runner.files.sidecar.generation?.guardPaths ?? false;
    if (!wanted || request.prompt.kind !== 'chat') return undefined;
    const paths = request.prompt.messages.filter((message) => message.role === 'user').flatMap((message) => documentPaths(message.content));
    if (paths.length === 0) return undefined;
    const side = this.textSide();
    const vocabulary = () => {
      this.tokenTexts ??= new TokenTexts(side.tokenizer, this.vocabularySize() || side.tokenizer.vocabSize, side.stopIds);
      return this.tokenTexts;
    };
    const guard = new CitationGuard(paths, vocabulary, side.tokenizer, side.stopIds, request.citationReleaseMargin);
    if (request.prompt.assistantPrefix) guard.advanceText(request.prompt.assistantPrefix);
    return guard;
  }

  /**
   * An empty cache (a new engine process) starts from the prefix saved on disk when it shares at least a prefill
   * chunk with the prompt (every chat prompt shares a few header tokens: not worth reading the file for); only the
   * shared positions are read.
   */
  private restoreFromDisk(prompt: readonly number[]): void {
    if (!this.store || this.prefix.length > 0 || !(this.kv instanceof CpuKvCache)) return;
    const worth = (saved: readonly number[]): number => {
      const shared = longestCommonPrefix(saved, prompt);
      return shared >= this.chunkTokens ? shared : 0;
    };
    if (worth(this.store.savedTokens()) === 0) return;
    // `load` reads the file's header again: another engine may have replaced the file meanwhile.
    const saved = this.store.load(worth, this.runner.files.sidecar.model.numKeyValueHeads);
    if (!saved) return;
    this.kv.importPositions(saved.parts, saved.tokens.length);
    this.prefix.append(saved.tokens);
  }

  /**
   * Saves the prompt's KV (not the answer's), written after the reply, unless the prefix on disk already serves
   * all of the prompt but a tail of at most one prefill chunk (then a restore costs at most one chunk's prefill).
   */
  private saveToDisk(prompt: readonly number[]): void {
    if (!this.store || !(this.kv instanceof CpuKvCache)) return;
    if (prompt.length - longestCommonPrefix(this.store.savedTokens(), prompt) <= this.chunkTokens) return;
    const parts = this.kv.exportPositions(prompt.length);
    const store = this.store;
    this.pendingSave = this.pendingSave.then(() => new Promise<void>((resolve) => setImmediate(() => {
      try { store.save(prompt, parts); } catch (error) { process.stderr.write(`prolong engine: could not save the prefix cache: ${(error as Error).message}\n`); }
      resolve();
    })));
  }

  private resetCache(): void {
    this.kv.dispose();
    this.kv = this.runner.createKvCache(this.info.contextTokens);
    this.prefix.clear();
  }

  async dispose(): Promise<void> {
    await this.pendingSave;
    this.kv.dispose();
    this.prefix.clear();
    await this.runner.release();
  }
}
