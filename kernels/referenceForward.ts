// A plain-TypeScript forward pass of a Llama-family checkpoint, written to be read, not to be fast: it
// follows Hugging Face transformers' LlamaForCausalLM step by step (RMSNorm, q/k/v projections, rotate_half
// rotary, grouped-query causal attention, SwiGLU MLP, lm_head), in float64 arithmetic. Tests compare the
// converted ONNX graph's logits against it. Small checkpoints only: every weight is held in memory.
import { Checkpoint, hfNames } from './checkpoint';
import { roundToFloat16 } from './float16';
import type { DecoderConfig } from './hfConfig';
import { dequantizeInt4, quantizeInt4, type Int4BlockSize } from './int4';
import { rotaryCaches } from './rope';

export interface ReferenceOptions {
  /**
   * Which weights to use: as stored (fp32 math), rounded to float16, or int4 round-trip of the projections
   * (quantized, then dequantized from the packed bytes, as MatMulNBits sees them).
   */
  weights?: 'fp32' | 'fp16' | 'int4';
  int4BlockSize?: Int4BlockSize;
  /** With int4: the embedding quantized too (the converter's int4Embedding). */
  int4Embedding?: boolean;
  /** With int4: scales rounded to float16 (an fp16-activation graph stores them so). */
  int4Fp16Scales?: boolean;
}

interface Linear { w: Float32Array; out: number; in: number; bias?: Float32Array }
interface Layer { inputNorm: Float32Array; postNorm: Float32Array; q: Linear; k: Linear; v: Linear; o: Linear; gate: Linear; up: Linear; down: Linear }

export class ReferenceModel {
  private constructor(
    readonly config: DecoderConfig,
    private embed: Float32Array,
    private layers: Layer[],
    private finalNorm: Float32Array,
    private lmHead: Linear,
  ) {}

  static load(hfDir: string, options: ReferenceOptions = {}): ReferenceModel {
    const checkpoint = new Checkpoint(hfDir);
    try {
      const c = checkpoint.config;
      const mode = options.weights ?? 'fp32';
      const plain = (name: string): Float32Array => {
        const values = checkpoint.readFloat32(name);
        return mode === 'fp16' ? values.map(roundToFloat16) : values;
      };
      const linear = (prefix: string, out: number, inDim: number, hasBias: boolean): Linear => {
        let w = checkpoint.readFloat32(`${prefix}.weight`);
        if (mode === 'fp16') w = w.map(roundToFloat16);
        if (mode === 'int4') {
          w = dequantizeInt4(quantizeInt4(w, out, inDim, options.int4BlockSize ?? 32, options.int4Fp16Scales ? roundToFloat16 : Math.fround));
        }
        return { w, out, in: inDim, bias: hasBias ? plain(`${prefix}.bias`) : undefined };
      };
      const qDim = c.numHeads * c.headDim;
      const kvDim = c.numKvHeads * c.headDim;
      const layers: Layer[] = [];
      for (let i = 0; i < c.numLayers; i++) {
        const n = hfNames.layer(i);
        layers.push({
          inputNorm: plain(n.inputNorm), postNorm: plain(n.postAttentionNorm),
          q: linear(n.q, qDim, c.hiddenSize, c.qkvBias), k: linear(n.k, kvDim, c.hiddenSize, c.qkvBias), v: linear(n.v, kvDim, c.hiddenSize, c.qkvBias),
          o: linear(n.o, c.hiddenSize, qDim, c.oBias),
          gate: linear(n.gate, c.intermediateSize, c.hiddenSize, false), up: linear(n.up, c.intermediateSize, c.hiddenSize, false),
          down: linear(n.down, c.hiddenSize, c.intermediateSize, false),
        });
      }
      // the converter stores the embedding in float16 unless the whole graph is fp32
      const embed = mode === 'fp32' ? plain(hfNames.embed)
        : mode === 'int4' && options.int4Embedding ? linear(hfNames.embed.replace(/\.weight$/, ''), c.vocabSize, c.hiddenSize, false).w
        : checkpoint.readFloat32(hfNames.embed).map(roundToFloat16);
      const lmHead = c.tieWordEmbeddings
        ? (mode === 'int4' ? linear(hfNames.embed.replace(/\.weight$/, ''), c.vocabSize, c.hiddenSize, false) : { w: embed, out: c.vocabSize, in: c.hiddenSize })
        : linear(hfNames.lmHead.replace(/\.weight$/, ''), c.vocabSize, c.hiddenSize, false);
      return new ReferenceModel(c, embed, layers, plain(hfNames.finalNorm), lmHead);
    } finally {
      checkpoint.close();
    }
  }

  /** Logits [tokens.length, vocab] of a causal forward pass over `tokens` at positions 0..n-1. */
  logits(tokens: readonly number[]): Float32Array[] {
    const c = this.config;
    const n = tokens.length;
    const d = c.headDim;
    const half = d / 2;
    const rope = rotaryCaches(c, n);
    let x: Float64Array[] = tokens.map((t) => Float64Array.from(this.embed.subarray(t * c.hiddenSize, (t + 1) * c.hiddenSize)));
    for (const layer of this.layers) {
      const h = x.map((row) => rmsNorm(row, layer.inputNorm, c.rmsNormEps));
      const rotate = (vec: Float64Array, heads: number, pos: number): Float64Array => {
        const out = new Float64Array(vec.length);
        for (let head = 0; head < heads; head++) {
          for (let i = 0; i < d; i++) {
            const j = i % half;
            const cos = rope.cos[pos * half + j]!;
            const sin = rope.sin[pos * half + j]!;
            // rotate_half(x) = cat(-x2, x1)
            const rotated = i < half ? -vec[head * d + i + half]! : vec[head * d + i - half]!;
            out[head * d + i] = vec[head * d + i]! * cos + rotated * sin;
          }
        }
        return out;
      };
      const q = h.map((row, pos) => rotate(apply(layer.q, row), c.numHeads, pos));
      const k = h.map((row, pos) => rotate(apply(layer.k, row), c.numKvHeads, pos));
      const v = h.map((row) => apply(layer.v, row));
      const groups = c.numHeads / c.numKvHeads;
      const attention = q.map((qRow, i) => {
        const out = new Float64Array(c.numHeads * d);
        for (let head = 0; head < c.numHeads; head++) {
          const kvHead = Math.floor(head / groups);
          const first = c.slidingWindow === undefined ? 0 : Math.max(0, i - c.slidingWindow + 1);
          const scores: number[] = [];
          for (let j = first; j <= i; j++) {
            let dot = 0;
            for (let t = 0; t < d; t++) dot += qRow[head * d + t]! * k[j]![kvHead * d + t]!;
            scores.push(dot / Math.sqrt(d));
          }
          const max = Math.max(...scores);
          const weights = scores.map((s) => Math.exp(s - max));
          const sum = weights.reduce((a, b) => a + b, 0);
          for (let j = first; j <= i; j++) {
            const p = weights[j - first]! / sum;
            for (let t = 0; t < d; t++) out[head * d + t]! += p * v[j]![kvHead * d + t]!;
          }
        }
        return out;
      });
      x = x.map((row, i) => add(row, apply(layer.o, attention[i]!)));
      const h2 = x.map((row) => rmsNorm(row, layer.postNorm, c.rmsNormEps));
      x = x.map((row, i) => {
        const gate = apply(layer.gate, h2[i]!);
        const up = apply(layer.up, h2[i]!);
        const act = gate.map((g, t) => (g / (1 + Math.exp(-g))) * up[t]!);
        return add(row, apply(layer.down, act));
      });
    }
    return x.map((row) => Float32Array.from(apply(this.lmHead, rmsNorm(row, this.finalNorm, c.rmsNormEps))));
  }
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let sumSquares = 0;
  for (const v of x) sumSquares += v * v;
  const scale = 1 / Math.sqrt(sumSquares / x.length + eps);
  return x.map((v, i) => v * scale * weight[i]!);
}

/** y = W x (+ b) for W[out, in]. */
function apply(linear: Linear, x: Float64Array): Float64Array {
  const y = new Float64Array(linear.out);
  for (let o = 0; o < linear.out; o++) {
    let sum = linear.bias ? linear.bias[o]! : 0;
    const row = o * linear.in;
    for (let i = 0; i < linear.in; i++) sum += linear.w[row + i]! * x[i]!;
    y[o] = sum;
  }
  return y;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]!);
}
