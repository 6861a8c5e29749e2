/**
 * The memory check made before anything is allocated: weights + KV cache for the whole context + working
 * memory for one prefill chunk, against what the device has. A model that cannot fit fails here with a
 * message that says how much context would fit, instead of crashing the engine half-way through a prompt.
 */
import { execFileSync } from 'node:child_process';
import { freemem, totalmem } from 'node:os';
import { UserError } from '../errors';
import type { ExecutionProviderName, MemoryEstimate } from './protocol';
import { CLI_SETTINGS, type SettingNames } from '../settingNames';

export interface ModelDimensions {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  vocabSize: number;
  /** Bytes per KV element (2 for float16, 4 for float32). */
  kvElementBytes: number;
}

/** KV bytes for `tokens` positions: keys and values of every layer. */
export function kvBytesPerToken(dims: ModelDimensions): number {
  return dims.numLayers * 2 * dims.numKvHeads * dims.headDim * dims.kvElementBytes;
}

/**
 * Peak KV bytes for a context: the cache itself, plus one more copy while a step runs (on the GPU each step
 * writes a new present tensor next to the past one; on the CPU the buffer is copied when it grows).
 */
export function kvPeakBytes(dims: ModelDimensions, contextTokens: number, kvCopies = 2): number {
  return kvCopies * kvBytesPerToken(dims) * contextTokens;
}

/** Activations of one prefill chunk (float32, a few live at once) plus the logits row. */
export function workBytes(dims: ModelDimensions, chunkTokens: number): number {
  const perToken = 6 * dims.hiddenSize + 3 * dims.intermediateSize + 3 * dims.numHeads * dims.headDim;
  return chunkTokens * perToken * 4 + dims.vocabSize * 4 * 2;
}

export interface AvailableMemory { bytes: number; source: string }

/** Free memory where the weights and KV cache will live. */
export function availableMemory(provider: ExecutionProviderName, override?: number): AvailableMemory {
  if (override && override > 0) return { bytes: override, source: 'prolong.engine.deviceMemory' };
  if (provider === 'cpu') return { bytes: freemem(), source: 'free host memory' };
  const nvidia = nvidiaFreeMemory();
  if (nvidia !== undefined) return { bytes: nvidia, source: 'free GPU memory (nvidia-smi)' };
  // Apple silicon and integrated GPUs share host memory; for other GPUs this is an upper bound.
  return { bytes: totalmem(), source: 'host memory (GPU memory could not be read; set prolong.engine.deviceMemory)' };
}

function nvidiaFreeMemory(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits'], { timeout: 3000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const mib = Number(out.trim().split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? mib * 1024 * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Longest context (a multiple of 1024) whose weights + KV + working memory fit in `available` bytes; 0 if none. */
export function largestFittingContext(dims: ModelDimensions, weightBytes: number, chunkTokens: number, available: number, kvCopies = 2): number {
  const room = available - weightBytes - workBytes(dims, chunkTokens);
  return room > 0 ? Math.floor(room / (kvCopies * kvBytesPerToken(dims)) / 1024) * 1024 : 0;
}

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(bytes < 10 * GiB ? 2 : 1)} GiB`;

const copies = (count = 1) => count > 1 ? `${count} x ` : '';

/** Weights (times their copies) + KV cache + working memory, against what is available; throws nothing. */
export function estimateMemory(options: {
  dims: ModelDimensions; weightBytes: number; contextTokens: number; chunkTokens: number; available: AvailableMemory; weightCopies?: number;
  /** Copies of the KV cache at the peak (2: onnxruntime's past and present; 1: llama.cpp's cache, written in place). */
  kvCopies?: number;
}): MemoryEstimate {
  const { dims, weightBytes, contextTokens, chunkTokens, available } = options;
  const weights = weightBytes * (options.weightCopies ?? 1);
  const kv = kvPeakBytes(dims, contextTokens, options.kvCopies);
  const work = workBytes(dims, chunkTokens);
  return { weightBytes: weights, kvBytes: kv, workBytes: work, totalBytes: weights + kv + work, availableBytes: available.bytes, availableSource: available.source };
}

/** Throws a UserError naming the model and the context setting when the estimate exceeds what is available. */
export function checkMemory(options: {
  modelDir: string; dims: ModelDimensions; weightBytes: number; contextTokens: number; chunkTokens: number;
  provider: ExecutionProviderName; available: AvailableMemory;
  /** Sessions holding the weights (2 with graph-captured decoding). */
  weightCopies?: number;
  kvCopies?: number;
  /** How the hint names the context setting; default: the CLI's flag. */
  names?: SettingNames;
}): MemoryEstimate {
  const estimate = estimateMemory(options);
  if (estimate.totalBytes <= options.available.bytes) return estimate;
  const { dims, weightBytes, contextTokens, available } = options;
  const { kvBytes: kv, workBytes: work, totalBytes: total } = estimate;
  const device = options.provider === 'cpu' ? 'host' : 'GPU';
  const fits = largestFittingContext(dims, weightBytes * (options.weightCopies ?? 1), options.chunkTokens, available.bytes, options.kvCopies);
  const hint = fits >= 1024
    ? `Set ${(options.names ?? CLI_SETTINGS).context} to ${fits} or less, or use a smaller or int4 model.`
    : 'The weights alone do not fit: use a smaller or int4 model, or another execution provider.';
  throw new UserError(
    `The model in ${options.modelDir} needs about ${gib(total)} on the ${device} for a ${contextTokens}-token context ` +
    `(${copies(options.weightCopies)}${gib(weightBytes)} weights + ${gib(kv)} KV cache + ${gib(work)} working memory), but only ${gib(available.bytes)} is available (${available.source}).`,
    hint);
}
