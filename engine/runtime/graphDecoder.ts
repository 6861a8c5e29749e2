/**
 * Decode steps through onnxruntime's WebGPU graph capture: the first step records the GPU commands of the
 * whole model, every later step replays them, so the per-dispatch CPU work of the WebGPU provider (most of a
 * decode step at long context, see BENCHMARKS.md) is paid once. Capture binds buffers, not values, so:
 * - the decode graph (kernels/decodeGraph.ts) takes the token and GroupQueryAttention's lengths as GPU inputs
 *   of fixed shape, written before each step by a tiny upload model into the same buffers;
 * - the KV cache is one set of pre-allocated buffers of the full context, bound as both past and present
 *   (a SharedDeviceKvCache the prefill session fills), so a decoder belongs to one set of KV buffers;
 * - logits land in one GPU buffer and a tiny download model brings them to the host for sampling.
 * The decode session loads its own copy of the weights (onnxruntime shares no initializers between sessions
 * from Node): the memory check counts them twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from './ort';
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema } from 'onnx-buf';
import { convertCheckpoint } from '../../kernels/convert';
import { decodeInputs, ensureDecodeGraph } from '../../kernels/decodeGraph';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { SharedDeviceKvCache, type KvLayout } from './kvCache';
import { serialize, valueInfo } from './kvSliceModel';

const upload = { ids: 'ids', seqlens: 'seqlens', total: 'total', out: (name: string) => `${name}_gpu` };

/** Identity for the three per-step inputs: run with pre-allocated fetches it writes them into GPU buffers. */
function buildUploadModel(): Uint8Array {
  const inputs = [valueInfo(upload.ids, 'int64', [1, 1]), valueInfo(upload.seqlens, 'int32', [1]), valueInfo(upload.total, 'int32', [])];
  const outputs = [valueInfo(upload.out(upload.ids), 'int64', [1, 1]), valueInfo(upload.out(upload.seqlens), 'int32', [1]), valueInfo(upload.out(upload.total), 'int32', [])];
  const nodes = [upload.ids, upload.seqlens, upload.total].map((name) =>
    create(NodeProtoSchema, { opType: 'Identity', input: [name], output: [upload.out(name)], name: `upload_${name}` }));
  return serialize('step_upload', nodes, inputs, outputs);
}

/** Identity for the logits row: on the GPU to allocate their buffer, to the host to read them. */
function buildLogitsModel(vocab: number): Uint8Array {
  const node = create(NodeProtoSchema, { opType: 'Identity', input: ['x'], output: ['y'], name: 'logits_copy' });
  return serialize('logits_copy', [node], [valueInfo('x', 'float32', [1, 1, vocab])], [valueInfo('y', 'float32', [1, 1, vocab])]);
}

const int64 = (value: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(value)]), [1, 1]);
const int32 = (value: number, dims: number[]) => new ort.Tensor('int32', Int32Array.from([value]), dims);

/** Releases the handles a run returns for buffers the caller bound (the buffers stay). */
function releaseHandles(outputs: ort.InferenceSession.OnnxValueMapType, keep: readonly ort.Tensor[]): void {
  for (const value of Object.values(outputs)) if (!keep.includes(value as ort.Tensor)) (value as ort.Tensor).dispose();
}

export interface GraphDecoderNames { inputIds: string; logits: string }

export class GraphDecoder {
  private constructor(
    private readonly decode: ort.InferenceSession,
    private readonly upload: ort.InferenceSession,
    private readonly download: ort.InferenceSession,
    private readonly helpers: ort.InferenceSession[],
    private readonly feeds: Record<string, ort.Tensor>,
    private readonly fetches: Record<string, ort.Tensor>,
    private readonly uploadFetches: Record<string, ort.Tensor>,
    private readonly stepBuffers: { ids: ort.Tensor; seqlens: ort.Tensor; total: ort.Tensor; logits: ort.Tensor },
    /** The KV buffers the captured graph is bound to. */
    readonly kvBuffers: readonly ort.Tensor[],
  ) {}

  /**
   * A decoder for the model in `dir` bound to `kvBuffers` (past and present, in `layout` order).
   * `provider` is the model session's WebGPU provider object, so every session shares its device.
   */
  static async create(dir: string, onnxFile: string, layout: KvLayout, kvBuffers: readonly ort.Tensor[], names: GraphDecoderNames,
    vocab: number, provider: { name: 'webgpu' }): Promise<GraphDecoder> {
    const decodePath = ensureDecodeGraph(dir, onnxFile);
    const onGpu = { executionProviders: [provider], logSeverityLevel: 3 as const };
    // An object map (not the 'gpu-buffer' shorthand): with it, pre-allocated fetches are written in place.
    const uploadModel = buildUploadModel();
    const logitsModel = buildLogitsModel(vocab);
    const uploadMaker = await ort.InferenceSession.create(uploadModel, {
      ...onGpu, preferredOutputLocation: Object.fromEntries([upload.ids, upload.seqlens, upload.total].map((n) => [upload.out(n), 'gpu-buffer' as const])),
    });
    const logitsMaker = await ort.InferenceSession.create(logitsModel, { ...onGpu, preferredOutputLocation: { y: 'gpu-buffer' } });
    const uploader = await ort.InferenceSession.create(uploadModel, onGpu);
    const downloader = await ort.InferenceSession.create(logitsModel, onGpu);
    const made = await uploadMaker.run({ [upload.ids]: int64(0), [upload.seqlens]: int32(0, [1]), [upload.total]: int32(1, []) });
    const logits = (await logitsMaker.run({ x: new ort.Tensor('float32', new Float32Array(vocab), [1, 1, vocab]) })).y as ort.Tensor;
    const stepBuffers = {
      ids: made[upload.out(upload.ids)] as ort.Tensor,
      seqlens: made[upload.out(upload.seqlens)] as ort.Tensor,
      total: made[upload.out(upload.total)] as ort.Tensor,
      logits,
    };
    let decode: ort.InferenceSession;
    try {
      decode = await ort.InferenceSession.create(decodePath, {
        ...onGpu,
        graphOptimizationLevel: 'all',
        // the WebGPU provider's option, as a session config entry (the Node binding passes `extra` through)
        extra: { ep: { webgpuexecutionprovider: { enableGraphCapture: '1' } } },
      } as ort.InferenceSession.SessionOptions);
    } catch (error) {
      for (const tensor of Object.values(stepBuffers)) tensor.dispose();
      for (const session of [uploadMaker, logitsMaker, uploader, downloader]) await session.release();
      throw error;
    }
    const feeds: Record<string, ort.Tensor> = {
      [names.inputIds]: stepBuffers.ids, [decodeInputs.seqlensK]: stepBuffers.seqlens, [decodeInputs.totalSequenceLength]: stepBuffers.total,
    };
    const fetches: Record<string, ort.Tensor> = { [names.logits]: logits };
    layout.pastNames.forEach((name, i) => { feeds[name] = kvBuffers[i]!; });
    layout.presentNames.forEach((name, i) => { fetches[name] = kvBuffers[i]!; });
    const uploadFetches: Record<string, ort.Tensor> = {
      [upload.out(upload.ids)]: stepBuffers.ids, [upload.out(upload.seqlens)]: stepBuffers.seqlens, [upload.out(upload.total)]: stepBuffers.total,
    };
    return new GraphDecoder(decode, uploader, downloader, [uploadMaker, logitsMaker], feeds, fetches, uploadFetches, stepBuffers, kvBuffers);
  }

  /** Runs `token` at `position` (the cache holds positions 0..position-1) and returns its logits. */
  async step(token: number, position: number): Promise<Float32Array> {
    const written = await this.upload.run(
      { [upload.ids]: int64(token), [upload.seqlens]: int32(position, [1]), [upload.total]: int32(position + 1, []) },
      this.uploadFetches as unknown as ort.InferenceSession.FetchesType);
    releaseHandles(written, Object.values(this.uploadFetches));
    const outputs = await this.decode.run(this.feeds, this.fetches as unknown as ort.InferenceSession.FetchesType);
    releaseHandles(outputs, Object.values(this.fetches));
    const host = (await this.download.run({ x: this.stepBuffers.logits })).y as ort.Tensor;
    return host.data as Float32Array;
  }

  async release(): Promise<void> {
    for (const tensor of Object.values(this.stepBuffers)) tensor.dispose();
    for (const session of [this.decode, this.upload, this.download, ...this.helpers]) await session.release();
  }
}

let verdict: Promise<string | undefined> | undefined;

/**
 * Whether graph-captured decoding gives the regular session's logits on this machine's WebGPU adapter:
 * undefined when it does, else why not. Checked once per process on a tiny random model (prefill, then
 * decode steps both ways on the same buffers): a replay that read a stale length or wrote the cache in the
 * wrong place would show here, and the engine refuses the placement instead of answering wrongly.
 */
export function graphDecodeProblem(): Promise<string | undefined> {
  verdict ??= checkGraphDecode().catch((error: unknown) => `graph capture failed: ${(error as Error).message.split('\n')[0]}`);
  return verdict;
}

/**
 * Largest logit difference between replayed and regular decode steps, and the largest logit, on kernels' tiny random
 * model: small, so the check costs a fraction of a second (its shaders compile fast), float32 for a tight bound.
 */
async function measureGraphDecode(): Promise<{ worst: number; largest: number }> {
  // imported here: modelRunner imports this module
  const { ModelRunner, readModelFiles, kvLayoutOf } = await import('./modelRunner');
  const work = mkdtempSync(join(tmpdir(), 'prolong-graph-check-'));
  try {
    const shape = randomShapes.tiny;
    writeRandomCheckpoint(join(work, 'hf'), shape, 11, { eosTokenIds: [shape.vocabSize - 1] });
    await convertCheckpoint(join(work, 'hf'), join(work, 'model'), { dtype: 'fp32', maxContext: 128 });
    const files = readModelFiles(join(work, 'model'));
    const runner = await ModelRunner.load(files, 'webgpu', 'device-shared');
    const prompt = Array.from({ length: 24 }, (_, i) => (i * 37 + 5) % shape.vocabSize);
    const steps = [3, 141, 59, 26, 53, 58].map((t) => t % shape.vocabSize);
    const kv = runner.createKvCache(64) as SharedDeviceKvCache;
    await kv.reserve(64);
    try {
      await runner.run(prompt, kv);
      const expected: Float32Array[] = [];
      for (const token of steps) expected.push(await runner.run([token], kv));
      await kv.truncate(prompt.length);
      const { sidecar } = files;
      const decoder = await GraphDecoder.create(files.dir, sidecar.onnx.file, kvLayoutOf(sidecar), kv.buffers,
        { inputIds: sidecar.onnx.inputs.inputIds, logits: sidecar.onnx.outputs.logits }, sidecar.model.vocabSize, { name: 'webgpu' });
      try {
        let worst = 0;
        let largest = 0;
        for (let i = 0; i < steps.length; i++) {
          const logits = await decoder.step(steps[i]!, prompt.length + i);
          for (let j = 0; j < logits.length; j++) {
            worst = Math.max(worst, Math.abs(logits[j]! - expected[i]![j]!));
            largest = Math.max(largest, Math.abs(expected[i]![j]!));
          }
        }
        return { worst, largest };
      } finally {
        await decoder.release();
      }
    } finally {
      kv.dispose();
      await runner.release();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function checkGraphDecode(): Promise<string | undefined> {
  const { worst, largest } = await measureGraphDecode();
  return worst <= 1e-3 * Math.max(1, largest) ? undefined
    : `replayed decode steps differ from the regular session's by up to ${worst.toPrecision(2)} in the logits (largest ${largest.toPrecision(2)}) on this WebGPU adapter`;
}
