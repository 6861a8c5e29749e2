/**
 * Turns a model converted by `prolong convert` (kernels/convert.ts: ONNX graph plus external data) back into a
 * float32 Hugging Face checkpoint that training/train.py can continue training from (`--init DIR`): config.json,
 * generation_config.json and model.safetensors with the parameter names of training/model.py's LlamaModel.
 * int4 weights (MatMulNBits / GatherBlockQuantized initializers, layout in kernels/int4.ts) are dequantized as
 * W = (q - zeroPoint) * scale with the block padding past K cut off; the packed q/k/v and gate/up projections are
 * split back into their Hugging Face tensors. The tied lm_head is the embedding, as in model.py.
 *
 *   node out/training-unconvert.js MODEL_DIR OUT_DIR
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { float16BitsToFloat32 } from '../../kernels/float16';
import { dequantizeInt4, type Int4BlockSize } from '../../kernels/int4';
import { writeSafetensors } from '../../kernels/safetensors';

class UnconvertError extends Error {}
const fail = (message: string): never => { throw new UnconvertError(message); };

// ---------------------------------------------------------------- a minimal protobuf reader

/** Calls `onField(field, wireType, value)` for each field of a message; value: a number for varints and fixed
 * widths (fixed32 as its bits), the bytes for length-delimited fields. */
function readMessage(bytes: Uint8Array, where: string, onField: (field: number, wire: number, value: number | Uint8Array) => void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) fail(`${where}: truncated varint at byte ${pos}`);
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return fail(`${where}: malformed varint at byte ${pos}`);
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) onField(field, wire, varint());
    else if (wire === 1) {
      if (pos + 8 > bytes.length) fail(`${where}: truncated fixed64 field ${field}`);
      onField(field, wire, Number(view.getBigUint64(pos, true))); pos += 8;
    } else if (wire === 2) {
      const length = varint();
      if (pos + length > bytes.length) fail(`${where}: field ${field} runs past the end of the message (${length} bytes at ${pos} of ${bytes.length})`);
      onField(field, wire, bytes.subarray(pos, pos + length)); pos += length;
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) fail(`${where}: truncated fixed32 field ${field}`);
      onField(field, wire, view.getUint32(pos, true)); pos += 4;
    } else fail(`${where}: unsupported protobuf wire type ${wire} (field ${field}) at byte ${pos}`);
  }
}

/** Varints of a packed repeated field. */
function packedVarints(bytes: Uint8Array, where: string): number[] {
  const out: number[] = [];
  // a packed field is a run of varints: parse it as a message of field-less values
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) fail(`${where}: truncated packed varint`);
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    out.push(result);
  }
  return out;
}

const utf8 = new TextDecoder();

// ONNX TensorProto.DataType values used here
const FLOAT = 1;
const UINT8 = 2;
const FLOAT16 = 10;

interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  floatData?: number[];
  external?: Record<string, string>;
}

interface GraphNode { opType: string; inputs: string[]; attributes: Record<string, number> }

function parseTensor(bytes: Uint8Array, where: string): Tensor {
  const t: Tensor = { name: '', dims: [], dataType: 0 };
  readMessage(bytes, where, (field, wire, value) => {
    if (field === 1) {
      if (wire === 0) t.dims.push(value as number);
      else t.dims.push(...packedVarints(value as Uint8Array, `${where} dims`));
    } else if (field === 2) t.dataType = value as number;
    else if (field === 8) t.name = utf8.decode(value as Uint8Array);
    else if (field === 9) t.raw = value as Uint8Array;
    else if (field === 4) {
      t.floatData ??= [];
      if (wire === 5) t.floatData.push(bitsToFloat(value as number));
      else {
        const b = value as Uint8Array;
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 0; i + 4 <= b.byteLength; i += 4) t.floatData.push(v.getFloat32(i, true));
      }
    } else if (field === 13) {
      let key = '';
      let val = '';
      readMessage(value as Uint8Array, `${where} external_data`, (f, _w, x) => {
        if (f === 1) key = utf8.decode(x as Uint8Array);
        else if (f === 2) val = utf8.decode(x as Uint8Array);
      });
      (t.external ??= {})[key] = val;
    }
  });
  return t;
}

function bitsToFloat(bits: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, bits, true);
  return v.getFloat32(0, true);
}

function parseNode(bytes: Uint8Array, where: string): GraphNode {
  const node: GraphNode = { opType: '', inputs: [], attributes: {} };
  readMessage(bytes, where, (field, _wire, value) => {
    if (field === 1) node.inputs.push(utf8.decode(value as Uint8Array));
    else if (field === 4) node.opType = utf8.decode(value as Uint8Array);
    else if (field === 5) {
      let name = '';
      let f: number | undefined;
      let i: number | undefined;
      readMessage(value as Uint8Array, `${where} attribute`, (af, _aw, av) => {
        if (af === 1) name = utf8.decode(av as Uint8Array);
        else if (af === 2) f = bitsToFloat(av as number);
        else if (af === 3) i = av as number;
      });
      const v = f ?? i;
      if (v !== undefined) node.attributes[name] = v;
    }
  });
  return node;
}

function readGraph(modelPath: string): { tensors: Map<string, Tensor>; nodes: GraphNode[] } {
  if (!existsSync(modelPath)) fail(`${modelPath} does not exist`);
  const model = new Uint8Array(readFileSync(modelPath));
  let graph: Uint8Array | undefined;
  readMessage(model, `${modelPath} (ModelProto)`, (field, wire, value) => { if (field === 7 && wire === 2) graph = value as Uint8Array; });
  if (!graph) fail(`${modelPath}: no graph in the ModelProto (not an ONNX model?)`);
  const tensors = new Map<string, Tensor>();
  const nodes: GraphNode[] = [];
  readMessage(graph!, `${modelPath} (GraphProto)`, (field, wire, value) => {
    if (wire !== 2) return;
    if (field === 5) {
      const t = parseTensor(value as Uint8Array, `${modelPath} initializer #${tensors.size}`);
      tensors.set(t.name, t);
    } else if (field === 1) nodes.push(parseNode(value as Uint8Array, `${modelPath} node #${nodes.length}`));
  });
  if (tensors.size === 0) fail(`${modelPath}: the graph has no initializers`);
  return { tensors, nodes };
}

// ---------------------------------------------------------------- tensor data

class TensorSource {
  private fds = new Map<string, number>();

  constructor(private readonly dir: string, private readonly modelPath: string, private readonly tensors: Map<string, Tensor>) {}

  has(name: string): boolean { return this.tensors.has(name); }

  tensor(name: string): Tensor {
    return this.tensors.get(name) ?? fail(`${this.modelPath}: no initializer named ${name}`);
  }

  bytes(name: string): Uint8Array {
    const t = this.tensor(name);
    if (t.external) {
      const location = t.external.location ?? fail(`${this.modelPath}: ${name}'s external_data has no location`);
      const offset = Number(t.external.offset ?? '0');
      const length = Number(t.external.length ?? fail(`${this.modelPath}: ${name}'s external_data has no length`));
      const path = join(this.dir, location);
      let fd = this.fds.get(path);
      if (fd === undefined) {
        if (!existsSync(path)) fail(`${path} (external data of ${name} in ${this.modelPath}) does not exist`);
        fd = openSync(path, 'r');
        this.fds.set(path, fd);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) fail(`${path}: ${name} wants bytes ${offset}..${offset + length}, but the file ends at ${offset + done}`);
        done += n;
      }
      return out;
    }
    if (t.raw) return t.raw;
    if (t.floatData && t.dataType === FLOAT) return new Uint8Array(Float32Array.from(t.floatData).buffer);
    return fail(`${this.modelPath}: initializer ${name} has neither raw_data nor external_data`);
  }

  /** A FLOAT or FLOAT16 tensor as float32, with `count` elements. */
  floats(name: string, count: number): Float32Array {
    const t = this.tensor(name);
    const b = this.bytes(name);
    let out: Float32Array;
    if (t.dataType === FLOAT) {
      out = new Float32Array(b.byteLength / 4);
      new Uint8Array(out.buffer).set(b);
    } else if (t.dataType === FLOAT16) {
      const halves = new Uint16Array(b.byteLength / 2);
      new Uint8Array(halves.buffer).set(b);
      out = Float32Array.from(halves, float16BitsToFloat32);
    } else return fail(`${this.modelPath}: ${name} has data type ${t.dataType}; expected float (1) or float16 (10)`);
    if (out.length !== count) fail(`${this.modelPath}: ${name} holds ${out.length} values, expected ${count}`);
    return out;
  }

  uint8(name: string, count: number): Uint8Array {
    const t = this.tensor(name);
    if (t.dataType !== UINT8) fail(`${this.modelPath}: ${name} has data type ${t.dataType}; expected uint8 (2)`);
    const b = this.bytes(name);
    if (b.byteLength !== count) fail(`${this.modelPath}: ${name} holds ${b.byteLength} bytes, expected ${count}`);
    return b;
  }

  close(): void { for (const fd of this.fds.values()) closeSync(fd); }
}

/** W[N, K] of a linear the converter wrote under `prefix`: int4 (weight_q4, scales, zero_points) or float (weight_t). */
function linearWeight(src: TensorSource, prefix: string, n: number, k: number): Float32Array {
  if (src.has(`${prefix}.bias`)) fail(`${prefix} has a bias (${prefix}.bias), which training/model.py's Llama has no place for`);
  if (src.has(`${prefix}.weight_q4`)) {
    const dims = src.tensor(`${prefix}.weight_q4`).dims;
    if (dims.length !== 3 || dims[0] !== n) fail(`${prefix}.weight_q4 has dims [${dims.join(', ')}]; expected [${n}, blocks, blockSize/2]`);
    const blocks = dims[1]!;
    const blockSize = dims[2]! * 2;
    if (Math.ceil(k / blockSize) !== blocks) fail(`${prefix}.weight_q4 has ${blocks} blocks of ${blockSize}, which does not cover K = ${k}`);
    const packed = src.uint8(`${prefix}.weight_q4`, n * blocks * (blockSize / 2));
    const scales = src.floats(`${prefix}.scales`, n * blocks);
    const zpStride = Math.ceil(blocks / 2);
    const zeroPoints = src.uint8(`${prefix}.zero_points`, n * zpStride);
    if (blockSize !== 32 && blockSize !== 64 && blockSize !== 128) fail(`${prefix}.weight_q4 has blocks of ${blockSize}; the converter writes 32, 64 or 128`);
    return dequantizeInt4({ n, k, blockSize: blockSize as Int4BlockSize, packed, scales, zeroPoints });
  }
  if (src.has(`${prefix}.weight_t`)) {
    const t = src.floats(`${prefix}.weight_t`, n * k); // [K, N]
    const out = new Float32Array(n * k);
    for (let i = 0; i < k; i++) for (let o = 0; o < n; o++) out[o * k + i] = t[i * n + o]!;
    return out;
  }
  return fail(`no weight for ${prefix} (neither ${prefix}.weight_q4 nor ${prefix}.weight_t)`);
}

function rows(w: Float32Array, k: number, from: number, to: number): Float32Array {
  return w.slice(from * k, to * k);
}

// ---------------------------------------------------------------- main

interface Sidecar {
  model: {
    architecture: string; numLayers: number; hiddenSize: number; intermediateSize: number; numAttentionHeads: number;
    numKeyValueHeads: number; headSize: number; vocabSize: number; maxPositionEmbeddings?: number; contextLength?: number;
    bosTokenId?: number; eosTokenIds?: number[]; rope?: { theta: number; scaling?: string };
  };
  onnx: { file: string; externalData?: string };
}

function main(): void {
  const [modelDir, outDir] = process.argv.slice(2);
  if (!modelDir || !outDir) { process.stderr.write('usage: training-unconvert MODEL_DIR OUT_DIR\n'); process.exit(2); }
  const sidecarPath = join(modelDir, 'prolong_model.json');
  if (!existsSync(sidecarPath)) fail(`${sidecarPath} does not exist (MODEL_DIR must be a directory written by prolong convert)`);
  let sidecar: Sidecar;
  try { sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Sidecar; } catch (e) { return fail(`${sidecarPath} is not valid JSON: ${(e as Error).message}`); }
  const m = sidecar.model ?? fail(`${sidecarPath}: no "model" section`);
  for (const f of ['numLayers', 'hiddenSize', 'intermediateSize', 'numAttentionHeads', 'numKeyValueHeads', 'headSize', 'vocabSize'] as const) {
    if (!Number.isInteger(m[f]) || m[f] <= 0) fail(`${sidecarPath}: model.${f} is ${JSON.stringify(m[f])}, not a positive integer`);
  }
  if (m.architecture !== 'llama') fail(`${sidecarPath}: model.architecture is ${JSON.stringify(m.architecture)}; training/model.py is a Llama`);
  if (m.headSize * m.numAttentionHeads !== m.hiddenSize) {
    fail(`${sidecarPath}: headSize ${m.headSize} × numAttentionHeads ${m.numAttentionHeads} is not hiddenSize ${m.hiddenSize}, which training/model.py assumes`);
  }
  if (m.rope?.scaling && m.rope.scaling !== 'default') fail(`${sidecarPath}: rope scaling ${m.rope.scaling}; training/model.py has only the default rotary`);
  const theta = m.rope?.theta ?? fail(`${sidecarPath}: no model.rope.theta`);

  const modelPath = join(modelDir, sidecar.onnx?.file ?? 'model.onnx');
  const { tensors, nodes } = readGraph(modelPath);
  const src = new TensorSource(modelDir, modelPath, tensors);
  const norm = nodes.find((n) => n.opType === 'SimplifiedLayerNormalization' || n.opType === 'SkipSimplifiedLayerNormalization');
  const epsBits = norm?.attributes.epsilon;
  const eps = epsBits === undefined ? 1e-5 : Number(epsBits.toPrecision(6));

  const H = m.hiddenSize;
  const I = m.intermediateSize;
  const qDim = m.numAttentionHeads * m.headSize;
  const kvDim = m.numKeyValueHeads * m.headSize;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], data: Float32Array) => {
    if (data.length !== shape.reduce((a, b) => a * b, 1)) fail(`internal: ${name} has ${data.length} values for shape [${shape}]`);
    out.set(name, { shape, data });
  };

  // embedding (int4 under model.embed_tokens.{weight_q4,scales,zero_points}, or a float model.embed_tokens.weight)
  if (src.has('lm_head.weight_q4') || src.has('lm_head.weight_t')) fail(`${modelPath} has an untied lm_head; training/model.py ties it to the embedding`);
  const embed = src.has('model.embed_tokens.weight_q4')
    ? linearWeight(src, 'model.embed_tokens', m.vocabSize, H)
    : src.floats('model.embed_tokens.weight', m.vocabSize * H);
  put('model.embed_tokens.weight', [m.vocabSize, H], embed);

  for (let i = 0; i < m.numLayers; i++) {
    const n = `model.layers.${i}`;
    const p = `layers.${i}`;
    put(`${n}.input_layernorm.weight`, [H], src.floats(`${n}.input_layernorm.weight`, H));
    put(`${n}.post_attention_layernorm.weight`, [H], src.floats(`${n}.post_attention_layernorm.weight`, H));
    const qkv = linearWeight(src, `${p}.attn.qkv_proj`, qDim + 2 * kvDim, H);
    put(`${n}.self_attn.q_proj.weight`, [qDim, H], rows(qkv, H, 0, qDim));
    put(`${n}.self_attn.k_proj.weight`, [kvDim, H], rows(qkv, H, qDim, qDim + kvDim));
    put(`${n}.self_attn.v_proj.weight`, [kvDim, H], rows(qkv, H, qDim + kvDim, qDim + 2 * kvDim));
    put(`${n}.self_attn.o_proj.weight`, [H, qDim], linearWeight(src, `${p}.attn.o_proj`, H, qDim));
    const gateUp = linearWeight(src, `${p}.mlp.gate_up_proj`, 2 * I, H);
    put(`${n}.mlp.gate_proj.weight`, [I, H], rows(gateUp, H, 0, I));
    put(`${n}.mlp.up_proj.weight`, [I, H], rows(gateUp, H, I, 2 * I));
    put(`${n}.mlp.down_proj.weight`, [H, I], linearWeight(src, `${p}.mlp.down_proj`, H, I));
  }
  put('model.norm.weight', [H], src.floats('model.norm.weight', H));
  if (src.has(`layers.${m.numLayers}.attn.qkv_proj.weight_q4`) || src.has(`model.layers.${m.numLayers}.input_layernorm.weight`)) {
    fail(`${modelPath} has more than the ${m.numLayers} layers ${sidecarPath} declares`);
  }
  src.close();

  mkdirSync(outDir, { recursive: true });
  const eos = m.eosTokenIds ?? [128001, 128009];
  const bos = m.bosTokenId ?? 128000;
  // config.json in the form training/model.py's Config.hf_config() writes
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama',
    vocab_size: m.vocabSize, hidden_size: H, intermediate_size: I, num_hidden_layers: m.numLayers,
    num_attention_heads: m.numAttentionHeads, num_key_value_heads: m.numKeyValueHeads,
    head_dim: m.headSize, hidden_act: 'silu', rope_theta: theta, rope_scaling: null,
    max_position_embeddings: m.maxPositionEmbeddings ?? m.contextLength ?? 2048, rms_norm_eps: eps,
    tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
    bos_token_id: bos, eos_token_id: eos, torch_dtype: 'float32',
  };
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2));
  const generation = join(modelDir, 'generation_config.json');
  if (existsSync(generation)) copyFileSync(generation, join(outDir, 'generation_config.json'));
  else writeFileSync(join(outDir, 'generation_config.json'), JSON.stringify({ bos_token_id: bos, eos_token_id: eos, do_sample: false }, null, 2));
  const names = [...out.keys()].sort();
  writeSafetensors(join(outDir, 'model.safetensors'), names.map((name) => {
    const t = out.get(name)!;
    return { name, dtype: 'F32' as const, shape: t.shape, write: (emit) => emit(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)) };
  }));
  const parameters = names.reduce((s, name) => s + out.get(name)!.data.length, 0);
  process.stdout.write(`unconverted ${modelDir} -> ${outDir}: ${names.length} tensors, ${parameters.toLocaleString('en-US')} parameters (float32), rope theta ${theta}, rms eps ${eps}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`training-unconvert: ${error instanceof UnconvertError ? error.message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
