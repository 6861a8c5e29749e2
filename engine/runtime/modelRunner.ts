/**
 * One converted model (kernels' ONNX graph + its sidecar) in an onnxruntime session: `run` appends tokens to
 * a KV cache and returns the logits of the last one. Prefill calls it with chunks, decode with one token.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from './ort';
import { layerName, readSidecar, type ModelSidecar } from '../../kernels/sidecar';
import { UserError } from '../errors';
import { GraphDecoder } from './graphDecoder';
import { CpuKvCache, DeviceKvCache, HostCopyKvCache, KvPadder, KvSlicer, SharedDeviceKvCache, type KvCache, type KvLayout } from './kvCache';
import type { ModelDimensions } from './memoryBudget';
import type { ExecutionProviderName, KvPlacement } from './protocol';

/** What the memory check and the loader need to know before creating a session. */
export interface ModelFiles {
  dir: string;
  sidecar: ModelSidecar;
  onnxPath: string;
  weightBytes: number;
  dims: ModelDimensions;
}

export function readModelFiles(dir: string): ModelFiles {
  const sidecar = readSidecar(dir);
  const onnxPath = join(dir, sidecar.onnx.file);
  const dataPath = join(dir, sidecar.onnx.externalData);
  for (const path of [onnxPath, dataPath]) {
    if (!existsSync(path)) throw new UserError(`${path} is missing.`, `Convert the model again into ${dir}.`);
  }
  const m = sidecar.model;
  return {
    dir, sidecar, onnxPath,
    weightBytes: statSync(onnxPath).size + statSync(dataPath).size,
    dims: {
      numLayers: m.numLayers, numKvHeads: m.numKeyValueHeads, headDim: m.headSize, hiddenSize: m.hiddenSize,
      // The sidecar has no MLP width; Llama-family models use 3.5-4x the hidden size.
      intermediateSize: 4 * m.hiddenSize, numHeads: m.numAttentionHeads, vocabSize: m.vocabSize,
      kvElementBytes: sidecar.onnx.kvCacheType === 'float16' ? 2 : 4,
    },
  };
}

export function kvLayoutOf(sidecar: ModelSidecar): KvLayout {
  const pastNames: string[] = [];
  const presentNames: string[] = [];
  for (let layer = 0; layer < sidecar.model.numLayers; layer++) {
    pastNames.push(layerName(sidecar.onnx.inputs.pastKey, layer), layerName(sidecar.onnx.inputs.pastValue, layer));
    presentNames.push(layerName(sidecar.onnx.outputs.presentKey, layer), layerName(sidecar.onnx.outputs.presentValue, layer));
  }
  return { pastNames, presentNames, numKvHeads: sidecar.model.numKeyValueHeads, headDim: sidecar.model.headSize, type: sidecar.onnx.kvCacheType };
}

export class ModelRunner {
  private constructor(
    readonly files: ModelFiles,
    readonly provider: ExecutionProviderName,
    readonly kvPlacement: KvPlacement,
    private readonly session: ort.InferenceSession,
    private readonly slicer: KvSlicer | undefined,
    private readonly padder: KvPadder | undefined,
    private readonly layout: KvLayout,
    private readonly webgpu: { name: 'webgpu' } | undefined,
  ) {}

  /** The graph-captured decoder (`device-graph`), bound to one cache's buffers. */
  private decoder: GraphDecoder | undefined;

  /** All ones, grown geometrically; each run's attention mask is a view of its first `total` entries. */
  private ones = new BigInt64Array(0);

  private attentionMask(total: number): BigInt64Array {
    if (this.ones.length < total) this.ones = new BigInt64Array(Math.max(total, this.ones.length * 2, 1024)).fill(1n);
    return this.ones.subarray(0, total);
  }

  static async load(files: ModelFiles, provider: ExecutionProviderName, kvPlacement: KvPlacement,
    webgpuValidation: 'basic' | 'disabled' = 'basic', profileFilePrefix?: string): Promise<ModelRunner> {
    const layout = kvLayoutOf(files.sidecar);
    const executionProvider = provider === 'webgpu' ? { name: 'webgpu' as const, validationMode: webgpuValidation } : provider;
    // Warnings such as "some nodes were not assigned to the preferred execution provider" are expected here.
    const options: ort.InferenceSession.SessionOptions = { executionProviders: [executionProvider], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    if (profileFilePrefix) { options.enableProfiling = true; options.profileFilePrefix = profileFilePrefix; }
    if (provider === 'webgpu' && kvPlacement === 'device') {
      // Logits come to the host for sampling; the KV cache stays on the GPU between runs. (Not for the shared
      // placements: with a preferred location set, onnxruntime-node 1.30 ignores pre-allocated gpu-buffer fetches
      // and writes new buffers; without it, the fetched buffers are written in place and logits default to the host.)
      const locations: Record<string, ort.Tensor.DataLocation> = { [files.sidecar.onnx.outputs.logits]: 'cpu' };
      for (const name of layout.presentNames) locations[name] = 'gpu-buffer';
      options.preferredOutputLocation = locations;
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(files.onnxPath, options);
    } catch (error) {
      throw new UserError(`onnxruntime could not load ${files.onnxPath} on ${provider}: ${(error as Error).message.split('\n')[0]}`,
        'Convert the model again, or set prolong.engine.executionProvider to "cpu".', { cause: error });
    }
    const onDevice = typeof executionProvider !== 'string';
    const slicer = onDevice && kvPlacement === 'device' ? await KvSlicer.create(layout, executionProvider) : undefined;
    const shared = kvPlacement === 'device-shared' || kvPlacement === 'device-graph';
    const padder = onDevice && shared ? await KvPadder.create(layout, executionProvider) : undefined;
    const runner = new ModelRunner(files, provider, kvPlacement, session, slicer, padder, layout, onDevice ? executionProvider : undefined);
    runner.profiling = profileFilePrefix !== undefined;
    return runner;
  }

  /** A fresh, empty KV cache of this runner's placement, with room for up to `maxTokens`. */
  createKvCache(maxTokens: number): KvCache {
    const layout = this.layout;
    if (this.kvPlacement === 'host-copy') return new HostCopyKvCache(layout);
    if (this.provider === 'cpu') return new CpuKvCache(layout, maxTokens);
    if (this.kvPlacement === 'device-shared') return new SharedDeviceKvCache(layout, this.padder!, maxTokens);
    // the whole context at once: the captured decode graph stays bound to these buffers
    if (this.kvPlacement === 'device-graph') return new SharedDeviceKvCache(layout, this.padder!, maxTokens, maxTokens);
    return new DeviceKvCache(layout, this.slicer!);
  }

  /** Runs `tokens` after what `kv` holds; appends their KV and returns the last token's logits. */
  async run(tokens: readonly number[], kv: KvCache): Promise<Float32Array> {
    if (this.kvPlacement === 'device-graph' && tokens.length === 1 && kv instanceof SharedDeviceKvCache) {
      await kv.reserve(1);
      const logits = await (await this.decoderFor(kv)).step(tokens[0]!, kv.length);
      kv.advance(1);
      return logits;
    }
    const { inputs, outputs } = this.files.sidecar.onnx;
    const total = kv.length + tokens.length;
    if (kv instanceof SharedDeviceKvCache) await kv.reserve(tokens.length);
    const binding = kv.bind(tokens.length);
    const feeds: Record<string, ort.Tensor> = {
      ...binding.feeds,
      [inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, tokens.length]),
      [inputs.attentionMask]: new ort.Tensor('int64', this.attentionMask(total), [1, total]),
    };
    const fetches: Record<string, ort.Tensor | null> = { [outputs.logits]: null, ...binding.fetches };
    for (const name of this.layout.presentNames) if (!(name in fetches)) fetches[name] = null;
    const result = await this.session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    kv.commit(result, tokens.length);
    const logits = result[outputs.logits] as ort.Tensor;
    const data = logits.data as Float32Array;
    const vocab = this.files.sidecar.model.vocabSize;
    // Last position's row (the graph may return every position's logits).
    return data.length === vocab ? data : data.slice(data.length - vocab);
  }

  /**
   * The decoder bound to `kv`'s buffers, created (with its own copy of the weights) on first use or when the
   * cache has new buffers. Engines call it at load so the first answer does not wait for it.
   */
  async decoderFor(kv: SharedDeviceKvCache): Promise<GraphDecoder> {
    await kv.reserve(0);
    const buffers = kv.buffers;
    if (this.decoder && this.decoder.kvBuffers.every((buffer, i) => buffer === buffers[i])) return this.decoder;
    await this.decoder?.release();
    this.decoder = undefined;
    const { onnx, model } = this.files.sidecar;
    this.decoder = await GraphDecoder.create(this.files.dir, onnx.file, this.layout, buffers,
      { inputIds: onnx.inputs.inputIds, logits: onnx.outputs.logits }, model.vocabSize, this.webgpu!);
    return this.decoder;
  }

  private profiling = false;

  async release(): Promise<void> {
    if (this.profiling) this.session.endProfiling();
    await this.decoder?.release();
    this.decoder = undefined;
    await this.slicer?.release();
    await this.padder?.release();
    await this.session.release();
  }
}
