// The JSON file written beside a converted model, describing it for the runtime (modelled on
// onnxruntime-genai's genai_config.json). File: `<outDir>/prolong_model.json`.
//
// How to run the graph (`onnx.file`, weights in `onnx.externalData` beside it):
//   inputs   input_ids          int64 [batch, sequence]           the new tokens
//            attention_mask     int64 [batch, past + sequence]    all ones; its width is the total length (batch 1, or
//                                                                  rows of equal length: last-token logits are the last column)
//            past_key_values.N.key / .value   [batch, kvHeads, past, headSize]   (`kvCacheType`; past may be 0)
//   outputs  logits             float32 [batch, 1 | sequence, vocab]   last token only unless `allLogits`
//            present.N.key / .value   [batch, kvHeads, past + sequence, headSize]
// Positions come from the mask: the new tokens sit at positions past..past+sequence-1. A prompt may be fed
// in chunks (chunked prefill) and a preallocated cache may be shared between past and present (onnxruntime's
// GroupQueryAttention appends in place), as long as the total stays within `contextLength`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import type { Architecture } from './hfConfig';

export const sidecarFileName = 'prolong_model.json';
export const sidecarFormat = 'prolong-onnx-decoder';
export const sidecarVersion = 1;

export type WeightDtype = 'fp32' | 'fp16' | 'int4';
export type IoDtype = 'fp32' | 'fp16';

export interface ModelSidecar {
  format: typeof sidecarFormat;
  version: typeof sidecarVersion;
  model: {
    architecture: Architecture;
    /** Where it was converted from (the Hugging Face directory, as given). */
    source: string;
    numLayers: number;
    hiddenSize: number;
    /** MLP width (gate/up projections). */
    intermediateSize: number;
    numAttentionHeads: number;
    numKeyValueHeads: number;
    headSize: number;
    vocabSize: number;
    /** Most positions the graph can run (size of its rotary cache): prompt + answer must fit. */
    contextLength: number;
    /** The checkpoint's own max_position_embeddings. */
    maxPositionEmbeddings: number;
    /** Attention window (Mistral), when the model has one. */
    slidingWindow?: number;
    bosTokenId?: number;
    eosTokenIds: number[];
    padTokenId?: number;
    rope: { theta: number; scaling: string };
  };
  onnx: {
    file: string;
    externalData: string;
    /** Weight precision of the projections. */
    dtype: WeightDtype;
    int4BlockSize?: number;
    /** int4 graphs: the embedding is int4 too (GatherBlockQuantized), not fp16. */
    int4Embedding?: boolean;
    /** Precision of activations, past/present and the embedding; logits are always float32. */
    ioDtype: IoDtype;
    kvCacheType: 'float32' | 'float16';
    allLogits: boolean;
    inputs: { inputIds: string; attentionMask: string; pastKey: string; pastValue: string };
    outputs: { logits: string; presentKey: string; presentValue: string };
  };
  /** llama.cpp's copy of the same weights (`prolong convert --gguf`), for the engine's llama.cpp runtime. */
  gguf?: { file: string; type: 'f32' | 'f16' | 'q4_0' };
  tokenizer: {
    /** tokenizer.json relative to the sidecar's directory, when the checkpoint had one. */
    file?: string;
    configFile?: string;
    chatTemplate?: string;
  };
  /**
   * Sampling defaults from generation_config.json, when present; `guardPaths` (`prolong convert --guard-paths`): the
   * local engine keeps the paths in this model's answers to the packed files' (engine/runtime/citationGuard.ts), for a
   * small model that finds the right file but misspells its path.
   */
  generation?: { temperature?: number; topP?: number; topK?: number; repetitionPenalty?: number; guardPaths?: boolean };
  /**
   * How the model was trained to read a packed repository (`prolong convert --definitions-index`): the local engine's
   * packs follow it unless the user's setting or flag says otherwise.
   */
  pack?: { definitionsIndex?: boolean };
}

/** Names with `%d` for the layer index. */
export const ioNames = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  pastKey: 'past_key_values.%d.key',
  pastValue: 'past_key_values.%d.value',
  logits: 'logits',
  presentKey: 'present.%d.key',
  presentValue: 'present.%d.value',
} as const;

export function layerName(template: string, layer: number): string {
  return template.replace('%d', String(layer));
}

/** Reads and checks `<dir>/prolong_model.json`. */
export function readSidecar(dir: string): ModelSidecar {
  const path = join(dir, sidecarFileName);
  if (!existsSync(dir)) throw new UserError(`The model directory ${dir} does not exist.`, 'Give the directory `prolong convert HF_DIR OUT_DIR` wrote (OUT_DIR).');
  let value: ModelSidecar;
  try { value = JSON.parse(readFileSync(path, 'utf8')) as ModelSidecar; } catch (error) {
    throw new UserError(`Cannot read ${path}.`, 'Convert the model first with `prolong convert HF_DIR OUT_DIR`.', { cause: error });
  }
  if (value.format !== sidecarFormat || value.version !== sidecarVersion) {
    throw new UserError(`${path} is not a version ${sidecarVersion} ${sidecarFormat} file.`, 'Convert the model again with this version of ProLong.');
  }
  return value;
}
