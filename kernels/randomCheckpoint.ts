// Writes a Hugging Face checkpoint with seeded random weights (config.json, generation_config.json,
// safetensors, optionally sharded with an index), for tests and benchmarks. Tensors are generated and written
// piece by piece, so a 1B-parameter checkpoint needs little memory.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32BitsToBf16, float32BitsToFloat16 } from './float16';
import { safetensorsIndexName } from './checkpoint';
import { elementCount, writeSafetensors, type SafetensorsDtype, type TensorToWrite } from './safetensors';

export interface RandomCheckpointShape {
  architecture: 'llama' | 'mistral' | 'qwen2';
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  ropeTheta: number;
  /** Written as config.json's rope_scaling, verbatim (Hugging Face field names). */
  ropeScaling?: Record<string, unknown>;
  maxPositionEmbeddings: number;
  tieWordEmbeddings?: boolean;
  /** Llama's attention_bias (q/k/v/o biases); Qwen2 always has q/k/v biases. */
  attentionBias?: boolean;
  /** Mistral's sliding_window. */
  slidingWindow?: number;
  rmsNormEps?: number;
}

export interface RandomCheckpointOptions {
  /** Stored dtype of every tensor (default F32). */
  dtype?: SafetensorsDtype;
  /** Split into shards of about this many bytes, with model.safetensors.index.json (default: one file). */
  shardBytes?: number;
  /** Copy a tokenizer.json (+ tokenizer_config.json beside it) into the checkpoint, e.g. the bundled Llama 3 one. */
  tokenizerJson?: string;
  eosTokenIds?: number[];
  bosTokenId?: number;
}

/**
 * Named shapes: `tiny` for quick tests (a 256-token vocabulary: token ids only), `tiny-llama3` to try `prolong ask`
 * and `prolong probe` end to end in seconds (tiny layers, Llama 3's vocabulary and tokenizer, a 32K context),
 * `llama-3.2-1b` for benchmarks (Llama-3.2-1B's exact shape).
 */
export const randomShapes = {
  tiny: {
    architecture: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    vocabSize: 256, ropeTheta: 500000, maxPositionEmbeddings: 512,
  },
  'tiny-llama3': {
    architecture: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    vocabSize: 128256, ropeTheta: 500000, maxPositionEmbeddings: 32768, tieWordEmbeddings: true,
  },
  'llama-3.2-1b': {
    architecture: 'llama', hiddenSize: 2048, intermediateSize: 8192, numLayers: 16, numHeads: 32, numKvHeads: 8, headDim: 64,
    vocabSize: 128256, ropeTheta: 500000, maxPositionEmbeddings: 131072, tieWordEmbeddings: true, rmsNormEps: 1e-5,
    ropeScaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
  },
  /** ProLong-8B's shape (Llama-3-8B with theta 1.28e8 for 512K). */
  'prolong-8b': {
    architecture: 'llama', hiddenSize: 4096, intermediateSize: 14336, numLayers: 32, numHeads: 32, numKvHeads: 8, headDim: 128,
    vocabSize: 128256, ropeTheta: 128000000, maxPositionEmbeddings: 524288, rmsNormEps: 1e-5,
  },
} satisfies Record<string, RandomCheckpointShape>;

export type RandomShapeName = keyof typeof randomShapes;

/** A small, fast seeded generator (sfc32): uniform floats in [-1, 1). */
export class SeededRandom {
  private a: number; private b: number; private c: number; private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [-1, 1). */
  nextSigned(): number {
    return (this.nextUint32() | 0) / 2147483648;
  }
}

/** What one random tensor holds: uniform values `center ± spread`. */
interface RandomTensor { name: string; shape: number[]; center: number; spread: number }

function tensorsOf(shape: RandomCheckpointShape): RandomTensor[] {
  const { hiddenSize: h, intermediateSize: m, numHeads, numKvHeads, headDim: d, vocabSize: v } = shape;
  // uniform(-a, a) has std a/sqrt(3); std 1/sqrt(fanIn) keeps activations near unit size through the layers
  const linear = (name: string, out: number, inDim: number): RandomTensor => ({ name, shape: [out, inDim], center: 0, spread: Math.sqrt(3 / inDim) });
  const norm = (name: string): RandomTensor => ({ name, shape: [h], center: 1, spread: 0.2 });
  const bias = (name: string, n: number): RandomTensor => ({ name, shape: [n], center: 0, spread: 0.5 });
  const qkvBias = shape.architecture === 'qwen2' || shape.attentionBias === true;
  const out: RandomTensor[] = [{ name: 'model.embed_tokens.weight', shape: [v, h], center: 0, spread: 1.7 }];
  for (let i = 0; i < shape.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.push(norm(`${p}.input_layernorm.weight`));
    out.push(linear(`${p}.self_attn.q_proj.weight`, numHeads * d, h));
    out.push(linear(`${p}.self_attn.k_proj.weight`, numKvHeads * d, h));
    out.push(linear(`${p}.self_attn.v_proj.weight`, numKvHeads * d, h));
    if (qkvBias) {
      out.push(bias(`${p}.self_attn.q_proj.bias`, numHeads * d));
      out.push(bias(`${p}.self_attn.k_proj.bias`, numKvHeads * d));
      out.push(bias(`${p}.self_attn.v_proj.bias`, numKvHeads * d));
    }
    out.push(linear(`${p}.self_attn.o_proj.weight`, h, numHeads * d));
    if (shape.attentionBias === true) out.push(bias(`${p}.self_attn.o_proj.bias`, h));
    out.push(norm(`${p}.post_attention_layernorm.weight`));
    out.push(linear(`${p}.mlp.gate_proj.weight`, m, h));
    out.push(linear(`${p}.mlp.up_proj.weight`, m, h));
    out.push(linear(`${p}.mlp.down_proj.weight`, h, m));
  }
  out.push(norm('model.norm.weight'));
  if (!shape.tieWordEmbeddings) out.push(linear('lm_head.weight', v, h));
  return out;
}

const pieceElements = 1 << 20;

function toWrite(tensor: RandomTensor, dtype: SafetensorsDtype, random: SeededRandom): TensorToWrite {
  return {
    name: tensor.name, dtype, shape: tensor.shape,
    write(emit) {
      const total = elementCount(tensor.shape);
      const floats = new Float32Array(Math.min(total, pieceElements));
      const bits = new Uint32Array(floats.buffer);
      const halves = new Uint16Array(floats.length);
      for (let start = 0; start < total; start += floats.length) {
        const n = Math.min(floats.length, total - start);
        for (let i = 0; i < n; i++) floats[i] = tensor.center + tensor.spread * random.nextSigned();
        if (dtype === 'F32') { emit(new Uint8Array(floats.buffer, 0, n * 4)); continue; }
        const convert = dtype === 'BF16' ? float32BitsToBf16 : float32BitsToFloat16;
        for (let i = 0; i < n; i++) halves[i] = convert(bits[i]!);
        emit(new Uint8Array(halves.buffer, 0, n * 2));
      }
    },
  };
}

/** Writes the checkpoint into `dir` (created if needed). The same shape and seed always give the same bytes. */
export function writeRandomCheckpoint(dir: string, shape: RandomCheckpointShape, seed: number, options: RandomCheckpointOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  const dtype = options.dtype ?? 'F32';
  const className = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[shape.architecture];
  const eos = options.eosTokenIds ?? [Math.min(2, shape.vocabSize - 1)];
  const bos = options.bosTokenId ?? Math.min(1, shape.vocabSize - 1);
  const config: Record<string, unknown> = {
    architectures: [className], model_type: shape.architecture,
    hidden_size: shape.hiddenSize, intermediate_size: shape.intermediateSize, num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads, num_key_value_heads: shape.numKvHeads, head_dim: shape.headDim,
    vocab_size: shape.vocabSize, rms_norm_eps: shape.rmsNormEps ?? 1e-5, rope_theta: shape.ropeTheta,
    rope_scaling: shape.ropeScaling ?? null, max_position_embeddings: shape.maxPositionEmbeddings,
    tie_word_embeddings: shape.tieWordEmbeddings ?? false, hidden_act: 'silu',
    bos_token_id: bos, eos_token_id: eos.length === 1 ? eos[0] : eos,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
  };
  if (shape.architecture === 'llama') { config.attention_bias = shape.attentionBias ?? false; config.mlp_bias = false; }
  if (shape.architecture === 'mistral') config.sliding_window = shape.slidingWindow ?? null;
  if (shape.architecture === 'qwen2') config.use_sliding_window = false;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: bos, eos_token_id: config.eos_token_id }, null, 2));

  const random = new SeededRandom(seed);
  const tensors = tensorsOf(shape);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const shards: RandomTensor[][] = [[]];
  let shardSize = 0;
  for (const t of tensors) {
    const size = elementCount(t.shape) * bytesPer;
    if (options.shardBytes && shardSize > 0 && shardSize + size > options.shardBytes) { shards.push([]); shardSize = 0; }
    shards[shards.length - 1]!.push(t);
    shardSize += size;
  }
  if (shards.length === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), shards[0]!.map((t) => toWrite(t, dtype, random)));
  } else {
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      writeSafetensors(join(dir, name), shard.map((t) => toWrite(t, dtype, random)));
      for (const t of shard) weightMap[t.name] = name;
    });
    const totalSize = tensors.reduce((sum, t) => sum + elementCount(t.shape) * bytesPer, 0);
    writeFileSync(join(dir, safetensorsIndexName), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  }
  if (options.tokenizerJson) {
    copyFileSync(options.tokenizerJson, join(dir, 'tokenizer.json'));
    const tokenizerConfig = join(options.tokenizerJson, '..', 'tokenizer_config.json');
    if (existsSync(tokenizerConfig)) copyFileSync(tokenizerConfig, join(dir, 'tokenizer_config.json'));
  }
}
