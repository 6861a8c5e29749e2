// A Hugging Face checkpoint directory: config plus safetensors weights (one file, or shards listed in
// model.safetensors.index.json). Tensors are read one at a time, by their Hugging Face names.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { readDecoderConfig, type DecoderConfig } from './hfConfig';
import { elementCount, SafetensorsFile, type TensorInfo } from './safetensors';

export const safetensorsIndexName = 'model.safetensors.index.json';

export class Checkpoint {
  readonly config: DecoderConfig;
  private files = new Map<string, SafetensorsFile>();
  private fileOf = new Map<string, SafetensorsFile>();

  constructor(readonly dir: string) {
    this.config = readDecoderConfig(dir);
    const indexPath = join(dir, safetensorsIndexName);
    let names: string[];
    if (existsSync(indexPath)) {
      names = readIndexShards(indexPath);
    } else {
      // Mistral repositories also ship consolidated.safetensors in Mistral's own naming: not ours to read
      const all = readdirSync(dir).filter((n) => n.endsWith('.safetensors') && !n.startsWith('consolidated')).sort();
      names = all.includes('model.safetensors') ? ['model.safetensors'] : all;
    }
    if (names.length === 0) {
      throw new UserError(`${dir} has no *.safetensors weights.`, 'Download the safetensors version of the checkpoint (PyTorch .bin files are not read).');
    }
    try {
      for (const name of names) {
        const path = join(dir, name);
        if (!existsSync(path)) throw new UserError(`${path} is listed in ${safetensorsIndexName} but missing.`, 'Download every shard of the checkpoint.');
        const file = new SafetensorsFile(path);
        this.files.set(name, file);
        for (const tensor of file.tensors.keys()) this.fileOf.set(tensor, file);
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Elements of every tensor in the checkpoint. */
  parameterCount(): number {
    let total = 0;
    for (const file of this.files.values()) for (const t of file.tensors.values()) total += elementCount(t.shape);
    return total;
  }

  has(name: string): boolean {
    return this.fileOf.has(name);
  }

  info(name: string): TensorInfo {
    return this.file(name).info(name);
  }

  readFloat32(name: string): Float32Array {
    return this.file(name).readFloat32(name);
  }

  private file(name: string): SafetensorsFile {
    const file = this.fileOf.get(name);
    if (!file) throw new UserError(`${this.dir}: the checkpoint has no tensor ${name}.`, 'Download every shard of the checkpoint.');
    return file;
  }

  close(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }
}

/** The shard files a model.safetensors.index.json lists, or a UserError naming the file and what is wrong. */
function readIndexShards(indexPath: string): string[] {
  const hint = 'Re-download model.safetensors.index.json (and the shards) from the model\'s Hugging Face repository.';
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (error) {
    throw new UserError(`${indexPath} is not valid JSON: ${(error as Error).message}.`, hint, { cause: error });
  }
  const weightMap = typeof index === 'object' && index !== null ? (index as { weight_map?: unknown }).weight_map : undefined;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new UserError(`${indexPath} has no "weight_map" object (tensor name to shard file).`, hint);
  }
  const shards = Object.values(weightMap as Record<string, unknown>);
  const bad = shards.find((shard) => typeof shard !== 'string' || shard === '');
  if (bad !== undefined) throw new UserError(`${indexPath} lists ${JSON.stringify(bad)} as a shard file, which is not a file name.`, hint);
  return [...new Set(shards as string[])];
}

/** Hugging Face tensor names of the Llama family. */
export const hfNames = {
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  layer: (i: number) => ({
    inputNorm: `model.layers.${i}.input_layernorm.weight`,
    postAttentionNorm: `model.layers.${i}.post_attention_layernorm.weight`,
    q: `model.layers.${i}.self_attn.q_proj`,
    k: `model.layers.${i}.self_attn.k_proj`,
    v: `model.layers.${i}.self_attn.v_proj`,
    o: `model.layers.${i}.self_attn.o_proj`,
    gate: `model.layers.${i}.mlp.gate_proj`,
    up: `model.layers.${i}.mlp.up_proj`,
    down: `model.layers.${i}.mlp.down_proj`,
  }),
};
