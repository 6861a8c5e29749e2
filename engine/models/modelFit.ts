// What a checkpoint needs, from its config.json alone (before anything is downloaded): parameters, weight bytes per
// dtype, the context it was trained for (RoPE scaling included) and the largest context that fits this machine.
import { parseDecoderConfig, type DecoderConfig } from '../../kernels/hfConfig';
import { largestFittingContext, type AvailableMemory, type ModelDimensions } from '../runtime/memoryBudget';

export type PullDtype = 'fp16' | 'int4';

export interface ModelFit {
  architecture: DecoderConfig['architecture'];
  parameters: number;
  /** Converted weight bytes per dtype (int4: half a byte per weight plus its block's fp16 scale; embedding in fp16). */
  weightBytes: Record<PullDtype, number>;
  /** max_position_embeddings: the context the checkpoint was trained (or RoPE-scaled) for. */
  trainedContext: number;
  /** The RoPE scaling that context relies on, in words ("llama3 x32 from 8192"), or "none". */
  ropeScaling: string;
  /** KV-cache bytes per token in fp16 (keys and values, all layers). */
  kvBytesPerToken: number;
  /** The dtype that gives the longest context on this machine (fp16 when both reach the trained context). */
  suggestedDtype: PullDtype;
  /** Largest context (a multiple of 1024, at most the trained context) that fits per dtype; 0 when the weights alone do not. */
  fittingContext: Record<PullDtype, number>;
  available: AvailableMemory;
}

/** Parameters of a Llama-family decoder from its shape (embedding, attention, MLP, norms, untied head). */
export function parameterCount(c: DecoderConfig): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const attention = c.hiddenSize * q + 2 * c.hiddenSize * kv + q * c.hiddenSize + (c.qkvBias ? q + 2 * kv : 0) + (c.oBias ? c.hiddenSize : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const perLayer = attention + mlp + 2 * c.hiddenSize;
  const embedding = c.vocabSize * c.hiddenSize;
  return embedding + c.numLayers * perLayer + c.hiddenSize + (c.tieWordEmbeddings ? 0 : embedding);
}

export function weightBytesFor(c: DecoderConfig, dtype: PullDtype): number {
  const total = parameterCount(c);
  if (dtype === 'fp16') return total * 2;
  const embedding = c.vocabSize * c.hiddenSize;
  // the embedding stays fp16 (unless --int4-embedding); every other matrix is 4 bits + an fp16 scale per 32 weights
  return embedding * 2 + Math.ceil((total - embedding) * (0.5 + 2 / 32));
}

export function dimensionsOf(c: DecoderConfig): ModelDimensions {
  return {
    numLayers: c.numLayers, numKvHeads: c.numKvHeads, headDim: c.headDim, hiddenSize: c.hiddenSize,
    intermediateSize: c.intermediateSize, numHeads: c.numHeads, vocabSize: c.vocabSize, kvElementBytes: 2,
  };
}

export function ropeScalingText(c: DecoderConfig): string {
  const r = c.ropeScaling;
  switch (r.type) {
    case 'default': return 'none';
    case 'llama3': case 'yarn': return `${r.type} x${r.factor} from ${r.originalMaxPositionEmbeddings}`;
    default: return `${r.type} x${r.factor}`;
  }
}

/** The prefill chunk the engine runs by default; its working memory counts against the context. */
const chunkTokens = 2048;

export function modelFit(config: Record<string, unknown>, where: string, available: AvailableMemory): ModelFit {
  const c = parseDecoderConfig(config, where);
  const dims = dimensionsOf(c);
  const weightBytes = { fp16: weightBytesFor(c, 'fp16'), int4: weightBytesFor(c, 'int4') };
  const fit = (dtype: PullDtype) => Math.min(c.maxPositionEmbeddings, largestFittingContext(dims, weightBytes[dtype], chunkTokens, available.bytes));
  const fittingContext = { fp16: fit('fp16'), int4: fit('int4') };
  return {
    architecture: c.architecture, parameters: parameterCount(c), weightBytes, trainedContext: c.maxPositionEmbeddings,
    ropeScaling: ropeScalingText(c), kvBytesPerToken: 2 * dims.numLayers * dims.numKvHeads * dims.headDim * 2,
    suggestedDtype: fittingContext.fp16 >= fittingContext.int4 ? 'fp16' : 'int4', fittingContext, available,
  };
}

/** "8.03B", "1.24B", "124M". */
export function formatParameters(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${Math.round(n / 1e6)}M`;
}

/** Sizes with k = 1024: "15.0 GiB", "620 MiB". */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

/** "128K", "512K", "8K", "0". */
export function formatContext(tokens: number): string {
  return tokens >= 1024 ? `${Math.floor(tokens / 1024)}K` : String(tokens);
}

/** One line for a picker or `prolong models`: params, weights, trained and fitting context. */
export function describeFit(f: ModelFit): string {
  const d = f.suggestedDtype;
  return `${formatParameters(f.parameters)} params · ${formatBytes(f.weightBytes[d])} ${d} · trained ${formatContext(f.trainedContext)}` +
    `${f.ropeScaling === 'none' ? '' : ` (${f.ropeScaling})`} · fits ${f.fittingContext[d] > 0 ? formatContext(f.fittingContext[d]) : 'nothing'} here`;
}
