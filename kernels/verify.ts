// Checks a conversion end to end: writes a random checkpoint, converts it, runs the ONNX graph in
// onnxruntime (CPU or WebGPU) for a whole-prompt prefill, a chunked prefill and token-by-token decode with
// the KV cache carried between runs, and measures the largest difference from the reference forward pass.
// Used by the tests and by the bundled device check (out/kernels-check.js).
import { join } from 'node:path';
import * as ort from '../engine/runtime/ort';
import { convertCheckpoint, modelFileName } from './convert';
import type { Int4BlockSize } from './int4';
import { SeededRandom, writeRandomCheckpoint, type RandomCheckpointOptions, type RandomCheckpointShape } from './randomCheckpoint';
import { ReferenceModel } from './referenceForward';
import { layerName, type IoDtype, type ModelSidecar, type WeightDtype } from './sidecar';

export type ExecutionProvider = 'cpu' | 'webgpu';

export interface VerifyCase {
  name: string;
  shape: RandomCheckpointShape;
  dtype: WeightDtype;
  ioDtype?: IoDtype;
  int4BlockSize?: Int4BlockSize;
  int4Embedding?: boolean;
  checkpoint?: RandomCheckpointOptions;
  /** Prompt length (default 24). */
  tokens?: number;
  /** Chunk size for the chunked prefill (default 7: uneven on purpose). */
  chunk?: number;
  /** Tokens prefilled before the token-by-token decode (default half the prompt). */
  decodeAfter?: number;
  maxContext?: number;
  seed?: number;
}

export interface VerifyResult {
  /** Largest |onnx - reference| over all logits of each pass. */
  prefill: number;
  chunked: number;
  decode: number;
  /** Largest |reference| (for judging relative error). */
  referenceMax: number;
}

/** Runs the converted model of `outDir` over `tokens` in pieces, carrying the KV cache; logits per token. */
export class DecoderRunner {
  private constructor(private session: ort.InferenceSession, readonly sidecar: ModelSidecar) {}

  static async open(outDir: string, sidecar: ModelSidecar, provider: ExecutionProvider): Promise<DecoderRunner> {
    // severity 3: errors only (the WebGPU EP warns about shape ops it leaves on the CPU, by design)
    const session = await ort.InferenceSession.create(join(outDir, modelFileName), { executionProviders: [provider], logSeverityLevel: 3 });
    return new DecoderRunner(session, sidecar);
  }

  /** Feeds `pieces` one after another; returns the logits ([vocab] per token) of every token fed. */
  async run(pieces: number[][]): Promise<Float32Array[]> {
    const m = this.sidecar.model;
    const fp16 = this.sidecar.onnx.ioDtype === 'fp16';
    const empty = (): ort.Tensor => new ort.Tensor(fp16 ? 'float16' : 'float32', fp16 ? new Uint16Array(0) : new Float32Array(0), [1, m.numKeyValueHeads, 0, m.headSize]);
    let past: ort.Tensor[] = [];
    for (let i = 0; i < m.numLayers; i++) past.push(empty(), empty());
    let total = 0;
    const logits: Float32Array[] = [];
    for (const piece of pieces) {
      total += piece.length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(piece.map(BigInt)), [1, piece.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      };
      for (let i = 0; i < m.numLayers; i++) {
        feeds[layerName(this.sidecar.onnx.inputs.pastKey, i)] = past[2 * i]!;
        feeds[layerName(this.sidecar.onnx.inputs.pastValue, i)] = past[2 * i + 1]!;
      }
      const out = await this.session.run(feeds);
      const data = out.logits!.data as Float32Array;
      const rows = this.sidecar.onnx.allLogits ? piece.length : 1;
      for (let r = 0; r < rows; r++) logits.push(data.slice(r * m.vocabSize, (r + 1) * m.vocabSize));
      past = [];
      for (let i = 0; i < m.numLayers; i++) {
        past.push(out[layerName(this.sidecar.onnx.outputs.presentKey, i)]!, out[layerName(this.sidecar.onnx.outputs.presentValue, i)]!);
      }
    }
    return logits;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function maxAbsDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  if (a.length !== b.length) throw new Error(`maxAbsDifference: ${a.length} rows vs ${b.length}`);
  let max = 0;
  a.forEach((row, r) => row.forEach((v, i) => { const d = Math.abs(v - b[r]![i]!); if (!(d <= max)) max = d; }));
  return max;
}

/** Splits `tokens` into pieces of `size` (the last one shorter). */
export function chunks(tokens: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < tokens.length; i += size) out.push(tokens.slice(i, i + size));
  return out;
}

/** Writes, converts and runs one case under `workDir`; compares against the reference forward pass. */
export async function verifyCase(workDir: string, test: VerifyCase, provider: ExecutionProvider): Promise<VerifyResult> {
  const seed = test.seed ?? 7;
  const hfDir = join(workDir, `${test.name}-hf`);
  const outDir = join(workDir, `${test.name}-onnx`);
  writeRandomCheckpoint(hfDir, test.shape, seed, test.checkpoint);
  const { sidecar } = await convertCheckpoint(hfDir, outDir, {
    dtype: test.dtype, ioDtype: test.ioDtype, int4BlockSize: test.int4BlockSize, int4Embedding: test.int4Embedding, allLogits: true, maxContext: test.maxContext,
  });
  const random = new SeededRandom(seed + 1);
  const tokens = Array.from({ length: test.tokens ?? 24 }, () => random.nextUint32() % test.shape.vocabSize);
  const reference = ReferenceModel.load(hfDir, {
    weights: test.dtype, int4BlockSize: test.int4BlockSize, int4Embedding: test.int4Embedding, int4Fp16Scales: sidecar.onnx.ioDtype === 'fp16',
  }).logits(tokens);
  const runner = await DecoderRunner.open(outDir, sidecar, provider);
  try {
    const prefill = await runner.run([tokens]);
    const chunked = await runner.run(chunks(tokens, test.chunk ?? 7));
    const decodeAfter = test.decodeAfter ?? Math.floor(tokens.length / 2);
    const decode = await runner.run([tokens.slice(0, decodeAfter), ...chunks(tokens.slice(decodeAfter), 1)]);
    let referenceMax = 0;
    for (const row of reference) for (const v of row) referenceMax = Math.max(referenceMax, Math.abs(v));
    return {
      prefill: maxAbsDifference(prefill, reference), chunked: maxAbsDifference(chunked, reference),
      decode: maxAbsDifference(decode, reference), referenceMax,
    };
  } finally {
    await runner.close();
  }
}
