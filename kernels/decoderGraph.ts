// Emits the decoder graph for a Llama-family checkpoint, the way onnxruntime-genai's model builder lays it out:
//   Gather(embed) -> per layer: (Skip)SimplifiedLayerNormalization, packed QKV MatMul (+bias),
//   com.microsoft.GroupQueryAttention (rotary inside, cos/sin caches from rope.ts, KV cache in/out),
//   o_proj, SkipSimplifiedLayerNormalization, SwiGLU MLP (packed gate+up, Split) -> final norm -> lm_head
//   (last token unless allLogits).
// Weights are read one tensor at a time from the checkpoint and streamed into the external-data file.
import { throwIfAborted, UserError } from '../engine/errors';
import { hfNames, type Checkpoint } from './checkpoint';
import { decodeInputs } from './decodeGraph';
import { roundToFloat16 } from './float16';
import { quantizeInt4, type Int4BlockSize } from './int4';
import { DataType, OnnxModelWriter } from './onnxWriter';
import { rotaryCaches } from './rope';
import { ioNames, layerName, type IoDtype, type WeightDtype } from './sidecar';
import { concatRows, floatBytes, transposedBytes } from './weightBytes';

export interface DecoderGraphOptions {
  dtype: WeightDtype;
  ioDtype: IoDtype;
  int4BlockSize: Int4BlockSize;
  /** MatMulNBits accuracy_level (0: compute in the graph's float type; 4: int8 activations, faster, less exact). */
  int4AccuracyLevel: number;
  /** int4 graphs only: quantize the embedding too (GatherBlockQuantized) instead of keeping it fp16. */
  int4Embedding?: boolean;
  /** Positions in the rotary cache: the longest sequence the graph runs. */
  contextLength: number;
  allLogits: boolean;
}

/** Called after each weight tensor is written, with the checkpoint parameters handled so far. */
export type WeightProgress = (doneParameters: number, tensorName: string) => void;

export async function buildDecoderGraph(
  checkpoint: Checkpoint, writer: OnnxModelWriter, options: DecoderGraphOptions, onWeight: WeightProgress, signal?: AbortSignal,
): Promise<void> {
  const c = checkpoint.config;
  const io = options.ioDtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const kvDims = ['batch_size', c.numKvHeads, 'past_sequence_length', c.headDim];
  const presentDims = ['batch_size', c.numKvHeads, 'total_sequence_length', c.headDim];
  let doneParameters = 0;
  /**
   * The tensor `name` as float32, after checking its shape against the one config.json implies (`fields` name the
   * config values that shape comes from): a config that does not match its weights would otherwise convert into a
   * model that runs and answers wrongly.
   */
  const read = async (name: string, shape: readonly number[], fields: string): Promise<Float32Array> => {
    // let the event loop run between tensors, so a cancellation (or a SIGINT) gets through
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal, 'conversion');
    const actual = checkpoint.info(name).shape;
    if (actual.length !== shape.length || actual.some((size, i) => size !== shape[i])) {
      throw new UserError(`The checkpoint's ${name} has shape [${actual.join(', ')}], but config.json (${fields}) makes it [${shape.join(', ')}].`,
        'The config.json does not belong to these weights: use the config.json that came with the checkpoint.');
    }
    return checkpoint.readFloat32(name);
  };
  const done = (name: string, parameters: number): void => { doneParameters += parameters; onWeight(doneParameters, name); };

  const floatInit = (name: string, values: Float32Array, dims: number[]): string => writer.initializer(name, io, dims, floatBytes(values, options.ioDtype));

  /** MatMulNBits' initializers (packed int4 rows, scales, zero points) of a Hugging Face Linear weight W[out, inDim]. */
  const int4Initializers = (prefix: string, weight: Float32Array, out: number, inDim: number) => {
    const q = quantizeInt4(weight, out, inDim, options.int4BlockSize, options.ioDtype === 'fp16' ? roundToFloat16 : Math.fround);
    const blocks = q.scales.length / out;
    return {
      blocks,
      data: writer.initializer(`${prefix}.weight_q4`, DataType.UINT8, [out, blocks, options.int4BlockSize / 2], q.packed),
      scales: floatInit(`${prefix}.scales`, q.scales, [out * blocks]),
      zeroPoints: writer.initializer(`${prefix}.zero_points`, DataType.UINT8, [q.zeroPoints.length], q.zeroPoints),
    };
  };
  const matMulNBits = (prefix: string, x: string, q: { data: string; scales: string; zeroPoints: string }, out: number, inDim: number): string =>
    writer.node('MatMulNBits', [x, q.data, q.scales, q.zeroPoints], [`${prefix}/output`], {
      K: inDim, N: out, bits: 4, block_size: options.int4BlockSize, accuracy_level: options.int4AccuracyLevel,
    }, 'com.microsoft')[0]!;

  /** y = x W^T (+ b) for a Hugging Face Linear weight W[out, inDim]. */
  const linear = (prefix: string, x: string, weight: Float32Array, out: number, inDim: number, bias?: Float32Array): string => {
    let y: string;
    if (options.dtype === 'int4') {
      y = matMulNBits(prefix, x, int4Initializers(prefix, weight, out, inDim), out, inDim);
    } else {
      const w = writer.initializer(`${prefix}.weight_t`, io, [inDim, out], transposedBytes(weight, out, inDim, options.ioDtype));
      [y] = writer.node('MatMul', [x, w], [`${prefix}/output`]);
    }
    if (bias) [y] = writer.node('Add', [y!, floatInit(`${prefix}.bias`, bias, [out])], [`${prefix}/biased`]);
    return y!;
  };

  // [shape, the config fields it comes from] of the embedding (and a tied lm_head) and of every norm weight
  const embedShape = [[c.vocabSize, c.hiddenSize], `vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}`] as const;
  const normShape = [[c.hiddenSize], `hidden_size ${c.hiddenSize}`] as const;

  // inputs
  const inputIds = writer.input(ioNames.inputIds, DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = writer.input(ioNames.attentionMask, DataType.INT64, ['batch_size', 'total_sequence_length']);
  for (let i = 0; i < c.numLayers; i++) {
    writer.input(layerName(ioNames.pastKey, i), io, kvDims);
    writer.input(layerName(ioNames.pastValue, i), io, kvDims);
  }

  // seqlens_k = (sum of the mask) - 1 and total_sequence_length = mask width, both int32, as GQA wants
  const [maskSum] = writer.node('ReduceSum', [attentionMask, writer.int64s('const_axes_1', [1])], 1, { keepdims: 0 });
  const [seqlens64] = writer.node('Sub', [maskSum!, writer.int64s('const_one', [1], [])], 1);
  const [seqlensK] = writer.node('Cast', [seqlens64!], [decodeInputs.seqlensK], { to: DataType.INT32 });
  const [maskShape] = writer.node('Shape', [attentionMask], 1);
  const [total64] = writer.node('Gather', [maskShape!, writer.int64s('const_index_1', [1], [])], 1, { axis: 0 });
  const [totalLength] = writer.node('Cast', [total64!], [decodeInputs.totalSequenceLength], { to: DataType.INT32 });

  const rope = rotaryCaches(c, options.contextLength);
  const cosCache = floatInit('cos_cache', rope.cos, [rope.positions, rope.halfDim]);
  const sinCache = floatInit('sin_cache', rope.sin, [rope.positions, rope.halfDim]);

  let embedded: string;
  /** int4 graphs with a quantized, tied embedding: the lm_head's MatMulNBits reads the embedding's initializers. */
  let tiedHead: { data: string; scales: string; zeroPoints: string } | undefined;
  if (options.dtype === 'int4' && options.int4Embedding) {
    if (c.hiddenSize % options.int4BlockSize !== 0) {
      throw new UserError(`hidden_size ${c.hiddenSize} is not a multiple of the int4 block size ${options.int4BlockSize}, which a quantized embedding needs.`, 'Use a smaller --block-size or drop --int4-embedding.');
    }
    // int4 rows in MatMulNBits' packing, gathered and dequantized by GatherBlockQuantized through 2-D views of the
    // same bytes; a tied lm_head multiplies by these very initializers (one copy of the largest tensor, not two)
    const q = int4Initializers('model.embed_tokens', await read(hfNames.embed, ...embedShape), c.vocabSize, c.hiddenSize);
    if (c.tieWordEmbeddings) tiedHead = q;
    const view = (name: string, dims: number[]) => writer.node('Reshape', [name, writer.int64s(`${name}/view_shape`, dims)], [`${name}/view`])[0]!;
    const data = view(q.data, [c.vocabSize, q.blocks * options.int4BlockSize / 2]);
    const scales = view(q.scales, [c.vocabSize, q.blocks]);
    const zeroPoints = view(q.zeroPoints, [c.vocabSize, Math.ceil(q.blocks / 2)]);
    [embedded] = writer.node('GatherBlockQuantized', [data, inputIds, scales, zeroPoints], ['embedded'], {
      gather_axis: 0, quantize_axis: 1, block_size: options.int4BlockSize, bits: 4,
    }, 'com.microsoft') as [string];
  } else {
    // float32 only in an fp32 graph; fp16 otherwise (an int4 graph with fp32 activations casts the gathered
    // rows, which halves the largest tensor of a small model)
    const embedDtype = options.dtype === 'fp32' ? 'fp32' : 'fp16';
    const embedName = writer.initializer('model.embed_tokens.weight', embedDtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT,
      [c.vocabSize, c.hiddenSize], floatBytes(await read(hfNames.embed, ...embedShape), embedDtype));
    [embedded] = writer.node('Gather', [embedName, inputIds], ['embedded'], { axis: 0 }) as [string];
    if (embedDtype !== options.ioDtype) [embedded] = writer.node('Cast', [embedded], ['embedded_cast'], { to: io }) as [string];
  }
  done(hfNames.embed, c.vocabSize * c.hiddenSize);

  const eps = { float: c.rmsNormEps };
  let hidden = embedded!; // what the next norm adds to the residual
  let residual = '';
  const splitSizes = writer.int64s('const_gate_up_split', [c.intermediateSize, c.intermediateSize]);
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  for (let i = 0; i < c.numLayers; i++) {
    const n = hfNames.layer(i);
    const p = `layers.${i}`;
    const inputNormWeight = await read(n.inputNorm, ...normShape);
    const inputNorm = floatInit(n.inputNorm, inputNormWeight, [c.hiddenSize]);
    done(n.inputNorm, c.hiddenSize);
    let normed: string;
    if (i === 0) {
      [normed] = writer.node('SimplifiedLayerNormalization', [hidden, inputNorm], [`${p}/input_norm`], { axis: -1, epsilon: eps, stash_type: 1 }) as [string];
      residual = hidden;
    } else {
      const outs = writer.node('SkipSimplifiedLayerNormalization', [hidden, residual, inputNorm], [`${p}/input_norm`, '', '', `${p}/residual_in`], { epsilon: eps }, 'com.microsoft');
      normed = outs[0]!;
      residual = outs[3]!;
    }

    const qFields = `num_attention_heads ${c.numHeads} × head_dim ${c.headDim}, hidden_size ${c.hiddenSize}`;
    const kvFields = `num_key_value_heads ${c.numKvHeads} × head_dim ${c.headDim}, hidden_size ${c.hiddenSize}`;
    const qw = await read(`${n.q}.weight`, [qDim, c.hiddenSize], qFields);
    const kw = await read(`${n.k}.weight`, [kvDim, c.hiddenSize], kvFields);
    const vw = await read(`${n.v}.weight`, [kvDim, c.hiddenSize], kvFields);
    const qkvBias = c.qkvBias
      ? concatRows([await read(`${n.q}.bias`, [qDim], qFields), await read(`${n.k}.bias`, [kvDim], kvFields), await read(`${n.v}.bias`, [kvDim], kvFields)])
      : undefined;
    const qkv = linear(`${p}.attn.qkv_proj`, normed, concatRows([qw, kw, vw]), qDim + 2 * kvDim, c.hiddenSize, qkvBias);
    done(`${n.q}+k+v`, qw.length + kw.length + vw.length + (qkvBias?.length ?? 0));

    const gqaAttributes: Record<string, number> = { num_heads: c.numHeads, kv_num_heads: c.numKvHeads, do_rotary: 1, rotary_interleaved: 0 };
    if (c.slidingWindow !== undefined) gqaAttributes.local_window_size = c.slidingWindow;
    const [attention] = writer.node('GroupQueryAttention',
      [qkv, '', '', layerName(ioNames.pastKey, i), layerName(ioNames.pastValue, i), seqlensK!, totalLength!, cosCache, sinCache],
      [`${p}/attention`, layerName(ioNames.presentKey, i), layerName(ioNames.presentValue, i)], gqaAttributes, 'com.microsoft');
    writer.output(layerName(ioNames.presentKey, i), io, presentDims);
    writer.output(layerName(ioNames.presentValue, i), io, presentDims);

    const oFields = `hidden_size ${c.hiddenSize}, num_attention_heads ${c.numHeads} × head_dim ${c.headDim}`;
    const ow = await read(`${n.o}.weight`, [c.hiddenSize, qDim], oFields);
    const oBias = c.oBias ? await read(`${n.o}.bias`, [c.hiddenSize], oFields) : undefined;
    const attnOut = linear(`${p}.attn.o_proj`, attention!, ow, c.hiddenSize, qDim, oBias);
    done(n.o, ow.length + (oBias?.length ?? 0));

    const postNormWeight = await read(n.postAttentionNorm, ...normShape);
    const postNorm = floatInit(n.postAttentionNorm, postNormWeight, [c.hiddenSize]);
    done(n.postAttentionNorm, c.hiddenSize);
    const post = writer.node('SkipSimplifiedLayerNormalization', [attnOut, residual, postNorm], [`${p}/post_norm`, '', '', `${p}/residual_mid`], { epsilon: eps }, 'com.microsoft');
    residual = post[3]!;

    // gate and up as one packed projection (one weight read per token instead of two), split after
    const mlpFields = `intermediate_size ${c.intermediateSize}, hidden_size ${c.hiddenSize}`;
    const gw = await read(`${n.gate}.weight`, [c.intermediateSize, c.hiddenSize], mlpFields);
    const uw = await read(`${n.up}.weight`, [c.intermediateSize, c.hiddenSize], mlpFields);
    const gateUp = linear(`${p}.mlp.gate_up_proj`, post[0]!, concatRows([gw, uw]), 2 * c.intermediateSize, c.hiddenSize);
    done(`${n.gate}+up`, gw.length + uw.length);
    const [gate, up] = writer.node('Split', [gateUp, splitSizes], [`${p}/gate`, `${p}/up`], { axis: -1 });
    const [sig] = writer.node('Sigmoid', [gate!], 1);
    const [silu] = writer.node('Mul', [gate!, sig!], 1);
    const [gated] = writer.node('Mul', [silu!, up!], 1);
    const dw = await read(`${n.down}.weight`, [c.hiddenSize, c.intermediateSize], mlpFields);
    hidden = linear(`${p}.mlp.down_proj`, gated!, dw, c.hiddenSize, c.intermediateSize);
    done(n.down, dw.length);
  }

  const finalNormWeight = await read(hfNames.finalNorm, ...normShape);
  const finalNorm = floatInit(hfNames.finalNorm, finalNormWeight, [c.hiddenSize]);
  done(hfNames.finalNorm, c.hiddenSize);
  let [normedFinal] = writer.node('SkipSimplifiedLayerNormalization', [hidden, residual, finalNorm], ['final_norm'], { epsilon: eps }, 'com.microsoft');
  if (!options.allLogits) {
    // only the last position's logits: a [batch, 1, vocab] output instead of [batch, sequence, vocab]
    [normedFinal] = writer.node('Slice', [normedFinal!, writer.int64s('const_last_start', [-1]), writer.int64s('const_last_end', [Number.MAX_SAFE_INTEGER]),
      writer.int64s('const_axis_1', [1])], ['final_norm_last']);
  }
  let logits: string;
  if (tiedHead) {
    logits = matMulNBits('lm_head', normedFinal!, tiedHead, c.vocabSize, c.hiddenSize);
    done(`${hfNames.embed} (tied lm_head, shared int4)`, 0);
  } else {
    // a tied lm_head is read again rather than kept: holding the float32 embedding through every layer
    // would add its size (1 GiB for Llama-3.2-1B) to the peak memory
    const lmHead = await read(c.tieWordEmbeddings ? hfNames.embed : hfNames.lmHead, ...embedShape);
    logits = linear('lm_head', normedFinal!, lmHead, c.vocabSize, c.hiddenSize);
    done(c.tieWordEmbeddings ? `${hfNames.embed} (tied lm_head)` : hfNames.lmHead, c.tieWordEmbeddings ? 0 : lmHead.length);
  }
  if (options.ioDtype === 'fp16') [logits] = writer.node('Cast', [logits], 1, { to: DataType.FLOAT }) as [string];
  writer.node('Identity', [logits], [ioNames.logits]);
  writer.output(ioNames.logits, DataType.FLOAT, ['batch_size', options.allLogits ? 'sequence_length' : 1, c.vocabSize]);
}
