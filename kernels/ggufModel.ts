// A Hugging Face Llama checkpoint as a GGUF file for llama.cpp (the engine's second runtime): llama.cpp's tensor
// names, Q and K rows permuted from Hugging Face's rotate-half layout to llama.cpp's interleaved rotary pairs,
// weights as F32, F16 or Q4_0 (norms stay F32), the byte-level BPE vocabulary and merges, and the chat template.
// Streams one tensor at a time, like the ONNX converter.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../engine/errors';
import { Checkpoint, hfNames } from './checkpoint';
import { float16BitsToFloat32, float32ToFloat16 } from './float16';
import { GgmlType, GgufWriter, type GgufTensorSpec, type GgufValue } from './gguf';
import type { DecoderConfig } from './hfConfig';
import { ropeParameters } from './rope';

export const ggufFileName = 'model.gguf';
export type GgufWeightType = 'f32' | 'f16' | 'q4_0';

const typeOf: Record<GgufWeightType, GgmlType> = { f32: GgmlType.F32, f16: GgmlType.F16, q4_0: GgmlType.Q4_0 };
const fileTypeOf: Record<GgufWeightType, number> = { f32: 0, f16: 1, q4_0: 2 };

/** ggml's reference Q4_0: blocks of 32 as an fp16 scale d = max/-8 (max: the value of largest magnitude) and 16 bytes of 4-bit q, x = (q - 8) * d. */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  if (values.length % 32 !== 0) throw new Error(`Q4_0 needs a multiple of 32 values (got ${values.length})`);
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  const scale = new Float32Array(1);
  const scaleHalf = new Uint16Array(1);
  for (let b = 0; b < blocks; b++) {
    const base = b * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = values[base + j]!;
      if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
    }
    scale[0] = max / -8;
    const d = scale[0];
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    scaleHalf[0] = float32ToFloat16(scale)[0]!;
    view.setUint16(b * 18, scaleHalf[0], true);
    for (let j = 0; j < 16; j++) {
      // (int8)(x + 8.5) truncates toward zero, as C does; values stay within 0..16 before the clamp
      const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(values[base + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(values[base + 16 + j]! * id) + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Dequantizes Q4_0 blocks (tests, and checks against the float weights). */
export function dequantizeQ4_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / 32; b++) {
    const d = float16BitsToFloat32(view.getUint16(b * 18, true));
    for (let j = 0; j < 16; j++) {
      const q = bytes[b * 18 + 2 + j]!;
      out[b * 32 + j] = ((q & 15) - 8) * d;
      out[b * 32 + 16 + j] = ((q >> 4) - 8) * d;
    }
  }
  return out;
}

/**
 * Hugging Face stores each head's rotary dimensions as two halves (rotate_half); llama.cpp's Llama rotates
 * adjacent pairs. Row h*d + half*d/2 + j moves to h*d + 2j + half (what llama.cpp's converter does to q and k).
 */
export function permuteRotaryRows(weight: Float32Array, heads: number, rowLength: number): Float32Array {
  const rows = weight.length / rowLength;
  const headDim = rows / heads;
  const out = new Float32Array(weight.length);
  for (let h = 0; h < heads; h++) {
    for (let half = 0; half < 2; half++) {
      for (let j = 0; j < headDim / 2; j++) {
        const from = h * headDim + half * (headDim / 2) + j;
        const to = h * headDim + 2 * j + half;
        out.set(weight.subarray(from * rowLength, (from + 1) * rowLength), to * rowLength);
      }
    }
  }
  return out;
}

/** Why this checkpoint cannot go to GGUF, or undefined. */
export function ggufProblem(c: DecoderConfig): string | undefined {
  if (c.architecture !== 'llama') return `its architecture is ${c.architecture}; GGUF export covers Llama checkpoints (ProLong is one)`;
  if (c.qkvBias || c.oBias) return 'it has attention biases, which the GGUF export does not write';
  if (c.slidingWindow !== undefined) return 'it has a sliding attention window, which llama.cpp\'s Llama does not apply';
  if (c.ropeScaling.type === 'dynamic' || c.ropeScaling.type === 'yarn') return `its rope scaling is ${c.ropeScaling.type}, which the GGUF export does not write`;
  return undefined;
}

interface Vocabulary { tokens: string[]; types: Int32Array; merges: string[] }

/** The byte-level BPE vocabulary of a tokenizer.json as GGUF wants it: every id up to the model's vocabulary size. */
function readVocabulary(tokenizerPath: string, vocabSize: number): Vocabulary {
  const json = JSON.parse(readFileSync(tokenizerPath, 'utf8')) as {
    model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
    added_tokens?: { id: number; content: string; special?: boolean }[];
  };
  if (json.model?.type !== 'BPE' || !json.model.vocab) throw new UserError(`${tokenizerPath} is not a byte-level BPE tokenizer.`, 'GGUF export needs a Llama 3-style tokenizer.json.');
  const tokens = new Array<string>(vocabSize);
  const types = new Int32Array(vocabSize).fill(5); // UNUSED until named
  for (const [text, id] of Object.entries(json.model.vocab)) if (id < vocabSize) { tokens[id] = text; types[id] = 1; } // NORMAL
  for (const added of json.added_tokens ?? []) {
    if (added.id >= vocabSize) continue;
    tokens[added.id] = added.content;
    types[added.id] = added.special ? 3 : 4; // CONTROL : USER_DEFINED
  }
  for (let id = 0; id < vocabSize; id++) if (tokens[id] === undefined) tokens[id] = `[PAD${id}]`;
  const merges = (json.model.merges ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  return { tokens, types, merges };
}

export interface GgufModelOptions {
  type: GgufWeightType;
  contextLength: number;
  /** tokenizer.json for the vocabulary (the checkpoint's own, or the bundled Llama 3 one). */
  tokenizerPath: string;
  chatTemplate?: string;
  name: string;
}

/** llama.cpp's metadata for a Llama model plus the tokenizer. */
function metadataOf(c: DecoderConfig, options: GgufModelOptions): Map<string, GgufValue> {
  const vocabulary = readVocabulary(options.tokenizerPath, c.vocabSize);
  const m = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: options.name }],
    ['general.file_type', { type: 'u32', value: fileTypeOf[options.type] }],
    ['general.quantization_version', { type: 'u32', value: 2 }],
    ['llama.context_length', { type: 'u32', value: options.contextLength }],
    ['llama.embedding_length', { type: 'u32', value: c.hiddenSize }],
    ['llama.block_count', { type: 'u32', value: c.numLayers }],
    ['llama.feed_forward_length', { type: 'u32', value: c.intermediateSize }],
    ['llama.rope.dimension_count', { type: 'u32', value: c.headDim }],
    ['llama.attention.head_count', { type: 'u32', value: c.numHeads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: c.numKvHeads }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: c.rmsNormEps }],
    ['llama.rope.freq_base', { type: 'f32', value: c.ropeTheta }],
    ['llama.vocab_size', { type: 'u32', value: c.vocabSize }],
  ]);
  if (c.headDim * c.numHeads !== c.hiddenSize) {
    m.set('llama.attention.key_length', { type: 'u32', value: c.headDim });
    m.set('llama.attention.value_length', { type: 'u32', value: c.headDim });
  }
  if (c.ropeScaling.type === 'linear') {
    m.set('llama.rope.scaling.type', { type: 'string', value: 'linear' });
    m.set('llama.rope.scaling.factor', { type: 'f32', value: c.ropeScaling.factor });
  }
  m.set('tokenizer.ggml.model', { type: 'string', value: 'gpt2' });
  m.set('tokenizer.ggml.pre', { type: 'string', value: 'llama-bpe' });
  m.set('tokenizer.ggml.tokens', { type: 'string[]', value: vocabulary.tokens });
  m.set('tokenizer.ggml.token_type', { type: 'i32[]', value: vocabulary.types });
  m.set('tokenizer.ggml.merges', { type: 'string[]', value: vocabulary.merges });
  if (c.bosTokenId !== undefined) m.set('tokenizer.ggml.bos_token_id', { type: 'u32', value: c.bosTokenId });
  if (c.eosTokenIds[0] !== undefined) m.set('tokenizer.ggml.eos_token_id', { type: 'u32', value: c.eosTokenIds[0] });
  if (c.padTokenId !== undefined) m.set('tokenizer.ggml.padding_token_id', { type: 'u32', value: c.padTokenId });
  m.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: false }); // the engine passes token ids, the template has the BOS
  if (options.chatTemplate) m.set('tokenizer.chat_template', { type: 'string', value: options.chatTemplate });
  return m;
}

/** What goes into the file, in order: GGUF name, Hugging Face name, shape (ggml order), how it is stored. */
interface PlannedTensor { spec: GgufTensorSpec; source: string | undefined; rotaryHeads?: number; values?: Float32Array }

function plan(c: DecoderConfig, checkpoint: Checkpoint, type: GgufWeightType): PlannedTensor[] {
  const weight = typeOf[type];
  const matrix = (name: string, source: string, rows: number, cols: number, rotaryHeads?: number): PlannedTensor =>
    ({ spec: { name, dims: [cols, rows], type: weight }, source, rotaryHeads });
  const vector = (name: string, source: string, length: number): PlannedTensor => ({ spec: { name, dims: [length], type: GgmlType.F32 }, source });
  const tensors: PlannedTensor[] = [matrix('token_embd.weight', hfNames.embed, c.vocabSize, c.hiddenSize)];
  if (c.ropeScaling.type === 'llama3') {
    // llama.cpp divides each rotary frequency by rope_freqs[i]: the default frequency over the scaled one
    const plain = ropeParameters(c.ropeTheta, c.headDim, { type: 'default' }, c.maxPositionEmbeddings).invFreq;
    const scaled = ropeParameters(c.ropeTheta, c.headDim, c.ropeScaling, c.maxPositionEmbeddings).invFreq;
    tensors.push({ spec: { name: 'rope_freqs.weight', dims: [c.headDim / 2], type: GgmlType.F32 }, source: undefined, values: plain.map((x, i) => x / scaled[i]!) });
  }
  const qRows = c.numHeads * c.headDim;
  const kvRows = c.numKvHeads * c.headDim;
  for (let i = 0; i < c.numLayers; i++) {
    const n = hfNames.layer(i);
    tensors.push(
      vector(`blk.${i}.attn_norm.weight`, n.inputNorm, c.hiddenSize),
      matrix(`blk.${i}.attn_q.weight`, `${n.q}.weight`, qRows, c.hiddenSize, c.numHeads),
      matrix(`blk.${i}.attn_k.weight`, `${n.k}.weight`, kvRows, c.hiddenSize, c.numKvHeads),
      matrix(`blk.${i}.attn_v.weight`, `${n.v}.weight`, kvRows, c.hiddenSize),
      matrix(`blk.${i}.attn_output.weight`, `${n.o}.weight`, c.hiddenSize, qRows),
      vector(`blk.${i}.ffn_norm.weight`, n.postAttentionNorm, c.hiddenSize),
      matrix(`blk.${i}.ffn_gate.weight`, `${n.gate}.weight`, c.intermediateSize, c.hiddenSize),
      matrix(`blk.${i}.ffn_up.weight`, `${n.up}.weight`, c.intermediateSize, c.hiddenSize),
      matrix(`blk.${i}.ffn_down.weight`, `${n.down}.weight`, c.hiddenSize, c.intermediateSize),
    );
  }
  tensors.push(vector('output_norm.weight', hfNames.finalNorm, c.hiddenSize));
  // tied embeddings: llama.cpp uses token_embd for the output when output.weight is absent
  if (!c.tieWordEmbeddings && checkpoint.has(hfNames.lmHead)) tensors.push(matrix('output.weight', hfNames.lmHead, c.vocabSize, c.hiddenSize));
  return tensors;
}

function encode(values: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case GgmlType.F32: return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case GgmlType.F16: { const h = float32ToFloat16(values); return new Uint8Array(h.buffer, h.byteOffset, h.byteLength); }
    case GgmlType.Q4_0: return quantizeQ4_0(values);
  }
}

/**
 * Writes `path` from the checkpoint. `onTensor` gets each tensor's parameter count as it is written; the signal is
 * checked between tensors (the caller removes the partial file).
 */
export async function writeGgufModel(checkpoint: Checkpoint, path: string, options: GgufModelOptions,
  onTensor?: (parameters: number, name: string) => void, signal?: AbortSignal): Promise<{ bytes: number }> {
  const c = checkpoint.config;
  const problem = ggufProblem(c);
  if (problem) throw new UserError(`${checkpoint.dir} cannot be written as GGUF: ${problem}.`, 'Convert without --gguf (the ONNX engine runs it).');
  if (!existsSync(options.tokenizerPath)) throw new UserError(`${options.tokenizerPath} is missing.`, 'Put the checkpoint\'s tokenizer.json beside its config.json.');
  const tensors = plan(c, checkpoint, options.type);
  const writer = new GgufWriter(path, metadataOf(c, options), tensors.map((t) => t.spec));
  try {
    for (const tensor of tensors) {
      if (signal?.aborted) throw new UserError('The conversion was cancelled.', 'Run it again to convert.');
      let values = tensor.values ?? checkpoint.readFloat32(tensor.source!);
      if (tensor.rotaryHeads !== undefined) values = permuteRotaryRows(values, tensor.rotaryHeads, tensor.spec.dims[0]!);
      writer.write(tensor.spec.name, encode(values, tensor.spec.type));
      onTensor?.(values.length, tensor.spec.name);
      // yield between tensors: progress reaches the caller and a cancel can land
      await new Promise((resolve) => setImmediate(resolve));
    }
    writer.finish();
  } catch (error) {
    writer.abandon();
    throw error;
  }
  return { bytes: writer.totalBytes };
}

export function tokenizerJsonOf(hfDir: string, fallback: string): string {
  const own = join(hfDir, 'tokenizer.json');
  return existsSync(own) ? own : fallback;
}

/**
 * A checkpoint as one GGUF file at `outFile` (written beside it under a temporary name, renamed when complete,
 * so a failed or cancelled conversion leaves nothing that looks finished).
 */
export async function convertToGgufFile(hfDir: string, outFile: string, options: { type: GgufWeightType; maxContext?: number; tokenizerFallback: string; chatTemplate?: string },
  onProgress?: (done: number, total: number, tensor: string) => void, signal?: AbortSignal): Promise<{ path: string; bytes: number; parameters: number; seconds: number }> {
  const started = performance.now();
  const checkpoint = new Checkpoint(hfDir);
  const temporary = `${outFile}.partial-${process.pid}`;
  try {
    const c = checkpoint.config;
    const total = checkpoint.parameterCount();
    let done = 0;
    const { bytes } = await writeGgufModel(checkpoint, temporary, {
      type: options.type, contextLength: options.maxContext ?? c.maxPositionEmbeddings, tokenizerPath: tokenizerJsonOf(hfDir, options.tokenizerFallback),
      chatTemplate: options.chatTemplate, name: basename(resolve(hfDir)),
    }, (parameters, tensor) => { done += parameters; onProgress?.(done, total, tensor); }, signal);
    renameSync(temporary, outFile);
    return { path: outFile, bytes, parameters: total, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    checkpoint.close();
  }
}
