// Converts a Hugging Face Llama-family checkpoint directory into OUT_DIR/model.onnx + model.onnx.data,
// the tokenizer files, and the sidecar (prolong_model.json, written last: its presence means the
// conversion finished). Tensors stream one at a time; peak memory is about the largest tensor a few times.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../engine/errors';
import { Checkpoint } from './checkpoint';
import { buildDecoderGraph } from './decoderGraph';
import { readDecoderConfig } from './hfConfig';
import type { Int4BlockSize } from './int4';
import { ggufFileName, tokenizerJsonOf, writeGgufModel, type GgufWeightType } from './ggufModel';
import { OnnxModelWriter } from './onnxWriter';
import { ioNames, sidecarFileName, sidecarFormat, sidecarVersion, type IoDtype, type ModelSidecar, type WeightDtype } from './sidecar';

export const modelFileName = 'model.onnx';
export const externalDataFileName = 'model.onnx.data';

export interface ConvertOptions {
  dtype: WeightDtype;
  /** Precision of activations and the KV cache (default: fp16 for fp16 weights, fp32 otherwise). */
  ioDtype?: IoDtype;
  /** int4 block size along the input dimension (default 32). */
  int4BlockSize?: Int4BlockSize;
  /** int4 only: quantize the embedding as well (GatherBlockQuantized) instead of storing it in fp16. */
  int4Embedding?: boolean;
  /** MatMulNBits accuracy_level (default 0: exact dequantization in the float type). */
  int4AccuracyLevel?: number;
  /** Longest sequence the graph will run (default: the checkpoint's max_position_embeddings). */
  maxContext?: number;
  /** Logits for every position instead of the last one only (for tests). */
  allLogits?: boolean;
  /** Also write model.gguf (llama.cpp's format, for the engine's llama.cpp runtime) in this weight type. */
  gguf?: GgufWeightType;
  /** tokenizer.json for the GGUF's vocabulary when the checkpoint has none (the bundled Llama 3 one). */
  ggufTokenizerFallback?: string;
  /** The model was trained on packs with the definitions index: the sidecar says so, and local packs get it. */
  definitionsIndex?: boolean;
  /** The engine keeps this model's answers' paths to the packed files' (the sidecar's generation.guardPaths). */
  guardPaths?: boolean;
}

export interface ConvertProgress {
  doneParameters: number;
  totalParameters: number;
  /** The tensor just written. */
  tensor: string;
}

export interface ConvertResult {
  outDir: string;
  sidecar: ModelSidecar;
  parameters: number;
  externalDataBytes: number;
  seconds: number;
}

const tokenizerFiles = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];

/** Names a converted model folder holds; a folder with anything else is not replaced wholesale. */
const modelFolderNames = new Set([modelFileName, externalDataFileName, ggufFileName, sidecarFileName, `${sidecarFileName}.partial`, ...tokenizerFiles]);

/**
 * Converts into a hidden temporary sibling of `outDir` and swaps it in only when the conversion finished: a failed
 * or cancelled conversion leaves a model already in `outDir` as it was, and never a half-written folder there.
 */
export async function convertCheckpoint(
  hfDir: string, outDir: string, options: ConvertOptions, onProgress?: (progress: ConvertProgress) => void, signal?: AbortSignal,
): Promise<ConvertResult> {
  if (resolve(hfDir) === resolve(outDir)) throw new UserError(`The output directory ${outDir} is the checkpoint directory.`, 'Choose another OUT_DIR.');
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError(`${outDir} is a file, not a folder.`, 'Give OUT_DIR as a new or empty folder, or one holding a converted model.');
    const others = readdirSync(target).filter((name) => !modelFolderNames.has(name));
    if (others.length > 0) {
      throw new UserError(`${outDir} holds files that are not a converted model (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}).`,
        'Give OUT_DIR as a new or empty folder, or one holding a converted model.');
    }
  }
  const temporary = join(dirname(target), `.${basename(target)}.converting-${randomBytes(4).toString('hex')}`);
  let result: ConvertResult;
  try {
    result = await convertInto(hfDir, temporary, outDir, options, onProgress, signal);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  // the swap: the old model moves aside, the new one takes its name, then the old one goes
  const previous = existsSync(target) ? `${temporary}.previous` : undefined;
  try {
    if (previous) renameSync(target, previous);
    renameSync(temporary, target);
  } catch (error) {
    if (previous && !existsSync(target) && existsSync(previous)) renameSync(previous, target);
    rmSync(temporary, { recursive: true, force: true });
    throw new UserError(`Could not move the converted model into ${outDir}: ${(error as Error).message}.`, 'Check the folder\'s permissions and convert again.', { cause: error });
  }
  if (previous) rmSync(previous, { recursive: true, force: true });
  return { ...result, outDir };
}

async function convertInto(
  hfDir: string, outDir: string, shownOutDir: string, options: ConvertOptions, onProgress?: (progress: ConvertProgress) => void, signal?: AbortSignal,
): Promise<ConvertResult> {
  const started = performance.now();
  // check everything that can be wrong before opening the weights
  const c = readDecoderConfig(hfDir);
  const ioDtype = options.ioDtype ?? (options.dtype === 'fp16' ? 'fp16' : 'fp32');
  if (options.dtype === 'fp16' && ioDtype !== 'fp16') throw new UserError('fp16 weights need fp16 activations (--io-dtype fp16).', 'Use --dtype fp32, or drop --io-dtype.');
  // fp16 activations would store fp32 weights as fp16 all the same: the model would be fp16 but labelled fp32
  if (options.dtype === 'fp32' && ioDtype !== 'fp32') throw new UserError('fp32 weights need fp32 activations (--io-dtype fp32).', 'For fp16 activations use --dtype fp16 (or int4).');
  const contextLength = options.maxContext ?? c.maxPositionEmbeddings;
  if (!Number.isInteger(contextLength) || contextLength < 1) throw new UserError(`--max-context must be a positive integer (got ${contextLength}).`, 'For ProLong-8B use up to 524288.');
  if (c.headDim % 16 !== 0) {
    // onnxruntime's GroupQueryAttention kernels refuse other head sizes
    throw new UserError(`${join(hfDir, 'config.json')}: "head_dim" is ${c.headDim}; the ONNX attention kernel needs a multiple of 16.`, 'This checkpoint cannot be converted.');
  }
  const int4BlockSize = options.int4BlockSize ?? 32;
  if (![32, 64, 128].includes(int4BlockSize)) throw new UserError(`int4 block size must be 32, 64 or 128 (got ${int4BlockSize}).`, 'Pass --block-size 32, 64 or 128.');
  const checkpoint = new Checkpoint(hfDir);
  const modelPath = join(outDir, modelFileName);
  const sidecarPath = join(outDir, sidecarFileName);
  const dataPath = join(outDir, externalDataFileName);
  let writer: OnnxModelWriter;
  let totalParameters: number;
  /** A full disk in words (with what was written and what the model needs); any other error as it is. */
  const fullDisk = (error: unknown, leftBehind: string): unknown =>
    diskProblem(error, shownOutDir, writer.externalBytes, estimatedModelBytes(totalParameters, options.dtype), leftBehind);
  try {
    // from here on the checkpoint's open shards are closed whatever fails (mkdir, rm, opening the output)
    mkdirSync(outDir, { recursive: true });
    rmSync(sidecarPath, { force: true }); // a half-written model must not look finished
    writer = new OnnxModelWriter(dataPath);
    totalParameters = checkpoint.parameterCount();
    const passes = options.gguf ? 2 : 1;
    try {
      await buildDecoderGraph(checkpoint, writer, {
        dtype: options.dtype, ioDtype, int4BlockSize, int4AccuracyLevel: options.int4AccuracyLevel ?? 0, int4Embedding: options.int4Embedding ?? false, contextLength,
        allLogits: options.allLogits ?? false,
      }, (doneParameters, tensor) => onProgress?.({ doneParameters, totalParameters: passes * totalParameters, tensor }), signal);
      writer.finish(modelPath, `${c.architecture}-decoder`, { source: hfDir, dtype: options.dtype });
      if (options.gguf) {
        let done = totalParameters;
        await writeGgufModel(checkpoint, join(outDir, ggufFileName), {
          type: options.gguf, contextLength, chatTemplate: chatTemplateOf(hfDir), name: basename(resolve(hfDir)),
          tokenizerPath: tokenizerJsonOf(hfDir, options.ggufTokenizerFallback ?? join(hfDir, 'tokenizer.json')),
        }, (parameters, tensor) => { done += parameters; onProgress?.({ doneParameters: done, totalParameters: passes * totalParameters, tensor }); }, signal);
      }
    } catch (error) {
      const problem = fullDisk(error, 'the partial files were removed'); // before abandon: it counts what was written
      writer.abandon();
      rmSync(modelPath, { force: true });
      rmSync(dataPath, { force: true });
      rmSync(join(outDir, ggufFileName), { force: true });
      throw problem;
    }
  } finally {
    checkpoint.close();
  }

  const copied = tokenizerFiles.filter((name) => existsSync(join(hfDir, name)));
  const unfinished = 'nothing was left behind';
  try {
    for (const name of copied) copyFileSync(join(hfDir, name), join(outDir, name));
  } catch (error) {
    throw fullDisk(error, unfinished);
  }
  const generation = readJson(join(hfDir, 'generation_config.json'));
  const sidecar: ModelSidecar = {
    format: sidecarFormat,
    version: sidecarVersion,
    model: {
      architecture: c.architecture, source: hfDir, numLayers: c.numLayers, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, numAttentionHeads: c.numHeads,
      numKeyValueHeads: c.numKvHeads, headSize: c.headDim, vocabSize: c.vocabSize, contextLength, maxPositionEmbeddings: c.maxPositionEmbeddings,
      slidingWindow: c.slidingWindow, bosTokenId: c.bosTokenId, eosTokenIds: c.eosTokenIds, padTokenId: c.padTokenId,
      rope: { theta: c.ropeTheta, scaling: c.ropeScaling.type },
    },
    onnx: {
      file: modelFileName, externalData: externalDataFileName, dtype: options.dtype,
      int4BlockSize: options.dtype === 'int4' ? int4BlockSize : undefined,
      int4Embedding: options.dtype === 'int4' ? options.int4Embedding ?? false : undefined,
      ioDtype, kvCacheType: ioDtype === 'fp16' ? 'float16' : 'float32', allLogits: options.allLogits ?? false,
      inputs: { inputIds: ioNames.inputIds, attentionMask: ioNames.attentionMask, pastKey: ioNames.pastKey, pastValue: ioNames.pastValue },
      outputs: { logits: ioNames.logits, presentKey: ioNames.presentKey, presentValue: ioNames.presentValue },
    },
    gguf: options.gguf ? { file: ggufFileName, type: options.gguf } : undefined,
    tokenizer: {
      file: copied.includes('tokenizer.json') ? 'tokenizer.json' : undefined,
      configFile: copied.includes('tokenizer_config.json') ? 'tokenizer_config.json' : undefined,
      chatTemplate: chatTemplateOf(hfDir),
    },
    generation: generation || options.guardPaths ? {
      temperature: numberOrUndefined(generation?.temperature), topP: numberOrUndefined(generation?.top_p),
      topK: numberOrUndefined(generation?.top_k), repetitionPenalty: numberOrUndefined(generation?.repetition_penalty),
      ...(options.guardPaths ? { guardPaths: true } : {}),
    } : undefined,
    pack: options.definitionsIndex ? { definitionsIndex: true } : undefined,
  };
  // written under another name first: a sidecar cut short by a full disk must not make the directory look finished
  const partialSidecar = `${sidecarPath}.partial`;
  try {
    writeFileSync(partialSidecar, JSON.stringify(sidecar, null, 2) + '\n');
    renameSync(partialSidecar, sidecarPath);
  } catch (error) {
    rmSync(partialSidecar, { force: true });
    throw fullDisk(error, unfinished);
  }
  return { outDir, sidecar, parameters: totalParameters, externalDataBytes: writer.externalBytes, seconds: (performance.now() - started) / 1000 };
}

/** About the bytes of the converted weights (int4: half a byte per weight plus its block's fp16 scale and zero point). */
function estimatedModelBytes(parameters: number, dtype: WeightDtype): number {
  return Math.ceil(parameters * (dtype === 'fp32' ? 4 : dtype === 'fp16' ? 2 : 0.6));
}

/** A full disk (or quota) said in words, with what was needed; any other error as it is. */
export function diskProblem(error: unknown, outDir: string, writtenBytes: number, neededBytes: number, leftBehind: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  return new UserError(`The disk under ${outDir} is full (${code}) after ${gb(writtenBytes)} of the converted model; it needs about ${gb(neededBytes)}.`,
    `Free space there or choose another OUT_DIR, then convert again (${leftBehind}).`, { cause: error });
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try { return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>; } catch { return undefined; }
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** The default chat template: chat_template.jinja, or tokenizer_config.json's chat_template (a string or a named list). */
export function chatTemplateOf(hfDir: string): string | undefined {
  const jinja = join(hfDir, 'chat_template.jinja');
  if (existsSync(jinja)) return readFileSync(jinja, 'utf8');
  const template = readJson(join(hfDir, 'tokenizer_config.json'))?.chat_template;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    const named = template as { name?: string; template?: string }[];
    return (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  return undefined;
}
