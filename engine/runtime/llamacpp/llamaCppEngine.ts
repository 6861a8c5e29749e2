/**
 * The engine on llama.cpp (node-llama-cpp): the same requests, events and results as the onnxruntime engine
 * (engine.ts), with llama.cpp holding the model and its KV cache (on the GPU where its binary has a backend).
 * The text side is ours (tokenizer, chat template, stop tokens and strings, UTF-8-safe streaming); llama.cpp gets
 * token ids, keeps the cache between requests (cut back to the common prefix), and samples.
 */
import { existsSync, statSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readGgufHeader } from '../../../kernels/gguf';
import { readSidecar } from '../../../kernels/sidecar';
import type { GenerateEvent } from '../../backends/types';
import { UserError } from '../../errors';
import { CLI_SETTINGS } from '../../settingNames';
import { checkMemory, largestFittingContext, type AvailableMemory, type ModelDimensions } from '../memoryBudget';
import type { EngineGenerateRequest, EngineGenerateResult, EngineInfo, LoadOptions } from '../protocol';
import { samplerSettings } from '../sampler';
import { loadTextSide, type TextSide } from '../textSide';
import { checkedChunkTokens, chosenContext, RuntimeEngine } from '../runtimeEngine';
import { AnswerStream } from '../answerStream';
import type { Llama, LlamaContext, LlamaEvaluateOptions, LlamaModel, LlamaSequence } from './api';
import type { LlamaCppRuntime } from './locate';

/** A GGUF model and what the engine needs to know about it before loading. */
export interface GgufModelSource {
  ggufPath: string;
  name: string;
  /** The model's own tokenizer.json, when it has one. */
  ownTokenizer?: string;
  eosTokenIds: number[];
  contextLength: number;
  dims: ModelDimensions;
}

/**
 * The GGUF behind `modelPath`: a converted folder's model.gguf (described by its sidecar), or a .gguf file (its
 * header; a tokenizer.json beside it is its own). Undefined for a folder converted without --gguf.
 */
export function ggufSource(modelPath: string): GgufModelSource | undefined {
  if (modelPath.toLowerCase().endsWith('.gguf')) {
    if (!existsSync(modelPath)) throw new UserError(`The model file ${modelPath} does not exist.`, 'Give a .gguf file or a converted model folder.');
    const header = readGgufHeader(modelPath);
    const m = header.metadata;
    const arch = String(m.get('general.architecture') ?? 'llama');
    const num = (key: string): number | undefined => { const v = m.get(`${arch}.${key}`); return typeof v === 'number' ? v : undefined; };
    const heads = num('attention.head_count') ?? 1;
    const hidden = num('embedding_length') ?? 0;
    const tokens = m.get('tokenizer.ggml.tokens');
    const eos = m.get('tokenizer.ggml.eos_token_id');
    const beside = join(dirname(modelPath), 'tokenizer.json');
    return {
      ggufPath: modelPath, name: basename(modelPath, '.gguf'), ownTokenizer: existsSync(beside) ? beside : undefined,
      eosTokenIds: typeof eos === 'number' ? [eos] : [], contextLength: num('context_length') ?? 4096,
      dims: {
        numLayers: num('block_count') ?? 0, numKvHeads: num('attention.head_count_kv') ?? heads, headDim: num('attention.key_length') ?? hidden / heads,
        hiddenSize: hidden, intermediateSize: num('feed_forward_length') ?? 4 * hidden, numHeads: heads,
        vocabSize: Array.isArray(tokens) ? tokens.length : 0, kvElementBytes: 2,
      },
    };
  }
  const sidecar = readSidecar(modelPath);
  if (!sidecar.gguf) return undefined;
  const ggufPath = join(modelPath, sidecar.gguf.file);
  if (!existsSync(ggufPath)) throw new UserError(`${ggufPath} is missing.`, `Convert the model again into ${modelPath} (with --gguf).`);
  const m = sidecar.model;
  return {
    ggufPath, name: m.source.split(/[\\/]/).filter(Boolean).pop() ?? basename(modelPath),
    ownTokenizer: sidecar.tokenizer.file ? join(modelPath, sidecar.tokenizer.file) : undefined,
    eosTokenIds: m.eosTokenIds, contextLength: m.contextLength,
    dims: {
      numLayers: m.numLayers, numKvHeads: m.numKeyValueHeads, headDim: m.headSize, hiddenSize: m.hiddenSize,
      intermediateSize: m.intermediateSize, numHeads: m.numAttentionHeads, vocabSize: m.vocabSize, kvElementBytes: 2,
    },
  };
}

const GiB = 1024 ** 3;

export class LlamaCppEngine extends RuntimeEngine {
  private constructor(
    readonly info: EngineInfo,
    protected readonly options: LoadOptions,
    private readonly source: GgufModelSource,
    private readonly chunkTokens: number,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaSequence,
  ) {
    super();
  }

  static async load(options: LoadOptions, source: GgufModelSource, runtime: LlamaCppRuntime, llama: Llama, runtimeReason: string): Promise<LlamaCppEngine> {
    const names = options.settingNames ?? CLI_SETTINGS;
    const limit = source.contextLength;
    const chunkTokens = checkedChunkTokens(options, limit, `the model ${source.ggufPath}`);
    const provider = llama.gpu === false ? 'cpu' : llama.gpu;
    const available = await llamaMemory(llama, options.deviceMemoryBytes);
    const weightBytes = statSync(source.ggufPath).size;
    // llama.cpp writes its cache in place: one copy of the KV, not onnxruntime's past + present
    const fitting = largestFittingContext(source.dims, weightBytes, chunkTokens, available.bytes, 1);
    const contextTokens = chosenContext(options.contextTokens, limit, fitting);
    const estimate = checkMemory({ modelDir: source.ggufPath, dims: source.dims, weightBytes, contextTokens, chunkTokens, provider, available, names, kvCopies: 1 });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: source.ggufPath, gpuLayers: llama.gpu === false ? 0 : 'max', ignoreMemorySafetyChecks: true });
    } catch (error) {
      throw new UserError(`llama.cpp could not load ${source.ggufPath}: ${(error as Error).message}.`, 'Convert the model again (prolong convert HF_DIR OUT_DIR --gguf q4_0).', { cause: error });
    }
    let context: LlamaContext;
    // One core left to the rest of the machine: llama.cpp's threads spin at every barrier, and a descheduled one
    // stalls them all (seen on 2 cores: 770 ms per decoded token with every core, 2 ms with one thread). With every
    // layer on CUDA the CPU threads only look up embeddings: two are enough (llama-bench on an H200, 8B at 64K:
    // 1 thread 153.8 tokens/s, 15 threads 151.8), and fewer spinning threads leave a busy machine's cores alone.
    // (Vulkan and Metal can fall back to the CPU for an operation their device lacks: they keep the cores.)
    const threads = Math.max(1, llama.gpu === 'cuda' ? Math.min(2, llama.cpuMathCores - 1) : llama.cpuMathCores - 1);
    try {
      context = await model.createContext({ contextSize: contextTokens, batchSize: chunkTokens, flashAttention: true, sequences: 1, ignoreMemorySafetyChecks: true, threads });
    } catch (error) {
      await model.dispose();
      throw new UserError(`llama.cpp could not allocate a ${contextTokens}-token context for ${source.ggufPath}: ${(error as Error).message}.`,
        `Set ${names.context} lower (the estimate was ${(estimate.totalBytes / GiB).toFixed(1)} GiB of ${(available.bytes / GiB).toFixed(1)} GiB).`, { cause: error });
    }
    const devices = llama.gpu === false ? [] : await llama.getGpuDeviceNames().catch(() => [] as string[]);
    const where = llama.gpu === false ? `the CPU (${threads} thread${threads === 1 ? '' : 's'})` : `${llama.gpu === 'cuda' ? 'CUDA' : llama.gpu === 'vulkan' ? 'Vulkan' : 'Metal'}${devices.length ? ` on ${devices.join(', ')}` : ''}`;
    const info: EngineInfo = {
      model: source.name, modelDir: options.modelDir, runtime: 'llama.cpp',
      runtimeReason: `${runtimeReason} (node-llama-cpp ${runtime.version}${llama.buildType === 'localBuild' ? ', built on this machine' : ''})`,
      executionProvider: provider, executionProviderReason: `llama.cpp on ${where}`,
      kvPlacement: llama.gpu === false ? 'device' : 'device-shared', contextTokens, estimate,
    };
    if (options.contextTokens === 0 && contextTokens < limit) info.executionProviderReason += `; context ${contextTokens} of the model's ${limit} tokens (what fits in ${available.source})`;
    const engine = new LlamaCppEngine(info, options, source, chunkTokens, llama, model, context, context.getSequence());
    engine.textSide();
    return engine;
  }

  protected loadTextSide(): TextSide {
    const text = loadTextSide(this.source.ownTokenizer, this.options.tokenizerPath, this.source.eosTokenIds);
    if (this.source.dims.vocabSize > 0 && text.tokenizer.vocabSize > this.source.dims.vocabSize) {
      const names = this.options.settingNames ?? CLI_SETTINGS;
      throw new UserError(`The tokenizer (${text.tokenizer.source}) has ${text.tokenizer.vocabSize} tokens but ${this.source.ggufPath} has ${this.source.dims.vocabSize}: it is not this model's tokenizer.`,
        `Put the model's tokenizer.json beside it, or point ${names.tokenizer} at it.`);
    }
    return text;
  }

  protected vocabularySize(): number {
    return this.source.dims.vocabSize;
  }

  protected cachedTokens(): number {
    return this.sequence.nextTokenIndex;
  }

  protected async resetAfterFailure(): Promise<void> {
    await this.sequence.clearHistory().catch(() => undefined);
  }

  protected async runRequest(prompt: number[], maxTokens: number, request: EngineGenerateRequest,
    onEvent: (event: GenerateEvent) => void, signal: AbortSignal, start: number): Promise<EngineGenerateResult> {
    const sequence = this.sequence;
    // Prefix reuse: keep the longest common prefix; an answer needs its last prompt token evaluated again (its logits)
    const common = sequence.compareContextTokens(prompt).firstDifferentIndex;
    const cached = Math.min(common, maxTokens > 0 ? prompt.length - 1 : prompt.length);
    if (sequence.nextTokenIndex > cached) await sequence.eraseContextTokenRanges([{ start: cached, end: sequence.nextTokenIndex }]);
    const result = this.runStarted(prompt, cached, request, onEvent, start);

    // Every chunk but the last is evaluated without sampling (progress and cancel between chunks); the last one goes
    // to llama.cpp's generator, whose first token comes from that chunk's last position.
    const rest = prompt.length - cached;
    const lastChunk = maxTokens > 0 ? ((rest - 1) % this.chunkTokens) + 1 : 0;
    let at = cached;
    while (at < prompt.length - lastChunk) {
      if (signal.aborted) return result('cancelled', '', [], 0, performance.now() - start, 0);
      const piece = prompt.slice(at, Math.min(at + this.chunkTokens, prompt.length - lastChunk));
      await sequence.evaluateWithoutGeneratingNewTokens(piece);
      at += piece.length;
      onEvent({ type: 'prefill', doneTokens: at, totalTokens: prompt.length, reusedTokens: cached });
    }
    if (maxTokens === 0) {
      const prefillMs = performance.now() - start;
      this.statistics.prefillMs = prefillMs;
      return result('length', '', [], prefillMs, prefillMs, 0);
    }
    if (signal.aborted) return result('cancelled', '', [], 0, performance.now() - start, 0);

    const answer = new AnswerStream(this.textSide(), request, maxTokens, onEvent);
    const s = samplerSettings(request.sampling);
    const evaluateOptions: LlamaEvaluateOptions = {
      temperature: s.temperature, topK: s.topK > 0 ? s.topK : undefined, topP: s.topP < 1 ? s.topP : undefined, seed: s.seed,
      repeatPenalty: s.repetitionPenalty !== 1 ? { penalty: s.repetitionPenalty } : false, yieldEogToken: true,
    };
    let finish: EngineGenerateResult['finishReason'] = 'length';
    let prefillMs = 0;
    let timeToFirstTokenMs = 0;
    let decodeStart = 0;
    for await (const token of sequence.evaluate(prompt.slice(at), evaluateOptions)) {
      if (decodeStart === 0) {
        prefillMs = performance.now() - start;
        timeToFirstTokenMs = prefillMs;
        decodeStart = performance.now();
        onEvent({ type: 'prefill', doneTokens: prompt.length, totalTokens: prompt.length, reusedTokens: cached });
        onEvent({ type: 'first-token', timeToFirstTokenMs });
      }
      const ended = answer.push(token);
      if (ended) { finish = ended; break; }
      if (signal.aborted) { finish = 'cancelled'; break; }
    }
    answer.finish();
    const decodeMs = decodeStart > 0 ? performance.now() - decodeStart : 0;
    this.statistics.prefillMs = prefillMs;
    this.statistics.decodeMs = decodeMs;
    this.statistics.decodeTokens = Math.max(0, answer.tokens.length - 1);
    return result(finish, answer.text, answer.tokens, timeToFirstTokenMs, prefillMs, decodeMs);
  }

  async dispose(): Promise<void> {
    await this.sequence.dispose().catch(() => undefined);
    await this.context.dispose().catch(() => undefined);
    await this.model.dispose().catch(() => undefined);
    await this.llama.dispose().catch(() => undefined);
  }
}

/** Free memory where llama.cpp puts the model: the GPU's as llama.cpp reads it, else the host's. */
async function llamaMemory(llama: Llama, override: number | undefined): Promise<AvailableMemory> {
  if (override && override > 0) return { bytes: override, source: 'prolong.engine.deviceMemory' };
  if (llama.gpu !== false) {
    const vram = await llama.getVramState().catch(() => undefined);
    if (vram && vram.free > 0) return { bytes: vram.free, source: `free GPU memory (llama.cpp ${llama.gpu})` };
  }
  return { bytes: freemem(), source: 'free host memory' };
}
