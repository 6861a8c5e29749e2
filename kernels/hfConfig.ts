// Reads a Hugging Face checkpoint's config.json (and generation_config.json) into the one normalized
// description the converter, the reference forward pass and the sidecar share. Only the Llama family is
// accepted: Llama 2/3/3.1/3.2 (ProLong included), Mistral and Qwen2.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';

export type Architecture = 'llama' | 'mistral' | 'qwen2';

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  /** NTK-aware scaling that grows with the sequence; maxPositionEmbeddings is the length it starts at. */
  | { type: 'dynamic'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | {
      type: 'yarn'; factor: number; originalMaxPositionEmbeddings: number; attentionFactor?: number;
      betaFast: number; betaSlow: number; mscale?: number; mscaleAllDim?: number; truncate: boolean;
    };

export interface DecoderConfig {
  architecture: Architecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on the q/k/v projections (Qwen2 always; Llama when attention_bias is set). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama's attention_bias covers it too). */
  oBias: boolean;
  /** Attend to at most this many most recent positions (the current one included); absent: full causal. */
  slidingWindow?: number;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
}

const architectures: Record<string, Architecture> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};

type Json = Record<string, unknown>;

export function readDecoderConfig(hfDir: string): DecoderConfig {
  const path = join(hfDir, 'config.json');
  if (!existsSync(path)) throw new UserError(`${hfDir} has no config.json.`, 'Point to a Hugging Face checkpoint directory (config.json plus *.safetensors).');
  let raw: Json;
  try { raw = JSON.parse(readFileSync(path, 'utf8')) as Json; } catch (error) {
    throw new UserError(`${path} is not valid JSON.`, 'Re-download the checkpoint.', { cause: error });
  }
  const generationPath = join(hfDir, 'generation_config.json');
  let generation: Json = {};
  if (existsSync(generationPath)) {
    try { generation = JSON.parse(readFileSync(generationPath, 'utf8')) as Json; } catch (error) {
      throw new UserError(`${generationPath} is not valid JSON: ${(error as Error).message}.`, 'Re-download the checkpoint, or fix that file.', { cause: error });
    }
  }
  return parseDecoderConfig(raw, path, generation);
}

/** Validates and normalizes a parsed config.json; `where` names the file in errors. */
export function parseDecoderConfig(raw: Json, where: string, generation: Json = {}): DecoderConfig {
  const names = Array.isArray(raw.architectures) ? raw.architectures as string[] : [];
  const architecture = names.map((n) => architectures[n]).find((a) => a !== undefined);
  if (!architecture) {
    throw new UserError(`${where}: field "architectures" is ${JSON.stringify(raw.architectures)}; only LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM can be converted.`,
      'Use a Llama, Mistral or Qwen2 checkpoint.');
  }
  const int = (field: string, fallback?: number): number => {
    const value = raw[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new UserError(`${where}: field "${field}" must be a positive integer (found ${JSON.stringify(raw[field])}).`, 'Fix config.json.');
    }
    return value;
  };
  const num = (field: string, fallback: number): number => {
    const value = raw[field] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) throw new UserError(`${where}: field "${field}" must be a positive number.`, 'Fix config.json.');
    return value;
  };
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') throw new UserError(`${where}: field "hidden_act" is ${JSON.stringify(act)}; only "silu" (SwiGLU) is supported.`, 'Use a Llama-family checkpoint.');
  if (raw.mlp_bias === true) throw new UserError(`${where}: field "mlp_bias" is true; MLP biases are not supported.`, 'Use a checkpoint without MLP biases.');
  if (raw.partial_rotary_factor !== undefined && raw.partial_rotary_factor !== 1) {
    throw new UserError(`${where}: field "partial_rotary_factor" is ${JSON.stringify(raw.partial_rotary_factor)}; only full rotary embeddings are supported.`, 'Use a Llama-family checkpoint.');
  }
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new UserError(`${where}: "num_attention_heads" (${numHeads}) is not a multiple of "num_key_value_heads" (${numKvHeads}).`, 'Fix config.json.');
  const headDim = raw.head_dim === null || raw.head_dim === undefined ? Math.floor(hiddenSize / numHeads) : int('head_dim');
  if (headDim % 2 !== 0) throw new UserError(`${where}: "head_dim" (${headDim}) must be even for rotary embeddings.`, 'Fix config.json.');
  const maxPositionEmbeddings = int('max_position_embeddings', 2048);

  // transformers 5 moved rope_theta and rope_scaling into rope_parameters
  const params = (raw.rope_parameters ?? raw.rope_scaling ?? null) as Json | null;
  const ropeTheta = typeof params?.rope_theta === 'number' ? params.rope_theta : num('rope_theta', 10000);
  const ropeScaling = parseRopeScaling(params, where, maxPositionEmbeddings);

  let slidingWindow: number | undefined;
  if (architecture === 'mistral' && typeof raw.sliding_window === 'number') slidingWindow = raw.sliding_window;
  if (architecture === 'qwen2' && raw.use_sliding_window === true) {
    throw new UserError(`${where}: field "use_sliding_window" is true; Qwen2 per-layer sliding windows are not supported.`, 'Set it to false (the released Qwen2 models do).');
  }
  const eos = raw.eos_token_id ?? generation.eos_token_id;
  const eosFromGeneration = generation.eos_token_id;
  const eosTokenIds = [...new Set([eos, eosFromGeneration].flat().filter((x): x is number => typeof x === 'number'))];
  const attentionBias = raw.attention_bias === true;
  return {
    architecture,
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: int('vocab_size'),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    qkvBias: architecture === 'qwen2' || attentionBias,
    oBias: attentionBias,
    slidingWindow,
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : undefined,
    eosTokenIds,
    padTokenId: typeof raw.pad_token_id === 'number' ? raw.pad_token_id : undefined,
  };
}

function parseRopeScaling(params: Json | null, where: string, maxPositionEmbeddings: number): RopeScaling {
  if (!params) return { type: 'default' };
  const type = params.rope_type ?? params.type ?? 'default';
  const field = (name: string, fallback?: number): number => {
    const value = params[name] ?? fallback;
    if (typeof value !== 'number') throw new UserError(`${where}: "rope_scaling.${name}" must be a number for rope type ${String(type)}.`, 'Fix config.json.');
    return value;
  };
  switch (type) {
    case 'default': return { type: 'default' };
    case 'linear': return { type: 'linear', factor: field('factor') };
    case 'dynamic': return { type: 'dynamic', factor: field('factor') };
    case 'llama3': return {
      type: 'llama3', factor: field('factor'), lowFreqFactor: field('low_freq_factor'), highFreqFactor: field('high_freq_factor'),
      originalMaxPositionEmbeddings: field('original_max_position_embeddings'),
    };
    case 'yarn': return {
      type: 'yarn',
      factor: field('factor'),
      originalMaxPositionEmbeddings: field('original_max_position_embeddings', maxPositionEmbeddings),
      attentionFactor: typeof params.attention_factor === 'number' ? params.attention_factor : undefined,
      // transformers treats 0/null as "use the default" here
      betaFast: typeof params.beta_fast === 'number' && params.beta_fast ? params.beta_fast : 32,
      betaSlow: typeof params.beta_slow === 'number' && params.beta_slow ? params.beta_slow : 1,
      mscale: typeof params.mscale === 'number' ? params.mscale : undefined,
      mscaleAllDim: typeof params.mscale_all_dim === 'number' ? params.mscale_all_dim : undefined,
      truncate: params.truncate !== false,
    };
    default:
      throw new UserError(`${where}: field "rope_scaling.rope_type" is ${JSON.stringify(type)}; supported: default, linear, dynamic, llama3, yarn.`, 'Use a checkpoint with a supported RoPE scaling.');
  }
}
