/**
 * The KV cache between model runs, in these placements:
 * - `CpuKvCache` (CPU provider): one pre-allocated buffer per tensor, grown geometrically; fed as both past
 *   input and present output, so GroupQueryAttention appends in place and nothing is copied per step.
 * - `DeviceKvCache` (WebGPU): the present outputs stay on the GPU (`gpu-buffer`) and are fed back as the next
 *   run's past; shortening it runs a tiny slice model on the same device.
 * - `SharedDeviceKvCache` (WebGPU): like the CPU one, pre-allocated gpu-buffer tensors fed as both past and
 *   present, so GroupQueryAttention appends in place (no per-step copy of the past, no per-step allocation);
 *   grown and created by a pad model on the device.
 *   With `device-graph` it is allocated once for the whole context: graph-captured decode steps
 *   (graphDecoder.ts) are bound to its buffers.
 * - `HostCopyKvCache`: the naive way, the cache copied to the host after every run and back before the next;
 *   kept as the benchmark baseline and as a placement that works with any provider.
 * Every placement can be shortened (`truncate`), which is what prefix reuse needs, and frees its tensors in
 * `dispose()`.
 */
import * as ort from './ort';
import { buildKvPadModel, buildKvSliceModel, padNames, sliceNames, type KvElementType } from './kvSliceModel';

export interface KvLayout {
  /** Past input names, in order key.0, value.0, key.1, value.1, ... */
  pastNames: string[];
  /** Present output names, same order. */
  presentNames: string[];
  numKvHeads: number;
  headDim: number;
  type: KvElementType;
}

export interface KvBinding {
  feeds: Record<string, ort.Tensor>;
  /** Pre-allocated outputs (CPU in-place mode), else undefined. */
  fetches?: Record<string, ort.Tensor>;
}

export interface KvCache {
  /** Positions held. */
  readonly length: number;
  /** Past inputs (and pre-allocated present outputs, if any) for a run that appends `count` positions. */
  bind(count: number): KvBinding;
  /** Takes the run's outputs as the new cache state, `count` positions longer. */
  commit(outputs: ort.InferenceSession.OnnxValueMapType, count: number): void;
  /** Keeps only the first `length` positions. */
  truncate(length: number): Promise<void>;
  dispose(): void;
}

function emptyData(type: KvElementType, elements: number): Float32Array | Uint16Array {
  return type === 'float16' ? new Uint16Array(elements) : new Float32Array(elements);
}

function emptyPast(layout: KvLayout): ort.Tensor {
  return new ort.Tensor(layout.type, emptyData(layout.type, 0), [1, layout.numKvHeads, 0, layout.headDim]);
}

/** Pre-allocated host buffers shared by past and present (CPU provider). */
export class CpuKvCache implements KvCache {
  private tensors: ort.Tensor[] = [];
  length = 0;
  capacity = 0;

  constructor(private readonly layout: KvLayout, private readonly maxTokens: number, private readonly initialCapacity = 256) {}

  bind(count: number): KvBinding {
    this.ensureCapacity(this.length + count);
    const feeds: Record<string, ort.Tensor> = {};
    const fetches: Record<string, ort.Tensor> = {};
    this.layout.pastNames.forEach((name, i) => { feeds[name] = this.tensors[i]!; });
    this.layout.presentNames.forEach((name, i) => { fetches[name] = this.tensors[i]!; });
    return { feeds, fetches };
  }

  commit(_outputs: ort.InferenceSession.OnnxValueMapType, count: number): void {
    this.length += count;
  }

  async truncate(length: number): Promise<void> {
    // Positions past `length` are overwritten by the next run; GroupQueryAttention reads only what seqlens_k says.
    this.length = Math.min(this.length, Math.max(0, length));
  }

  dispose(): void {
    this.tensors = [];
    this.length = 0;
    this.capacity = 0;
  }

  /** Bytes of the first `length` positions of every tensor, head by head (for the prefix cache on disk). */
  exportPositions(length: number): Uint8Array[] {
    const { numKvHeads: heads, headDim } = this.layout;
    const count = Math.min(length, this.length);
    return this.tensors.map((tensor) => {
      const source = tensor.data as Float32Array | Uint16Array;
      const out = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(heads * count * headDim);
      for (let h = 0; h < heads; h++) out.set(source.subarray(h * this.capacity * headDim, (h * this.capacity + count) * headDim), h * count * headDim);
      return new Uint8Array(out.buffer);
    });
  }

  /** Replaces the cache with `length` positions exported by `exportPositions`. */
  importPositions(parts: readonly Uint8Array[], length: number): void {
    const { numKvHeads: heads, headDim, type } = this.layout;
    this.dispose();
    this.ensureCapacity(length);
    parts.forEach((bytes, i) => {
      const size = type === 'float16' ? 2 : 4;
      // View the bytes in place; copy only when their offset is not aligned to the element size.
      const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
      const source = type === 'float16'
        ? new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2)
        : new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
      const target = this.tensors[i]!.data as Float32Array | Uint16Array;
      for (let h = 0; h < heads; h++) target.set(source.subarray(h * length * headDim, (h + 1) * length * headDim), h * this.capacity * headDim);
    });
    this.length = length;
  }

  /** Grows to at least `needed` positions: double, capped at the context budget, copying what is held. */
  private ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const capacity = Math.min(Math.max(needed, this.capacity * 2, this.initialCapacity), Math.max(needed, this.maxTokens));
    const { numKvHeads: heads, headDim, type } = this.layout;
    const next = this.layout.pastNames.map((_, i) => {
      const data = emptyData(type, heads * capacity * headDim);
      const old = this.tensors[i];
      if (old && this.length > 0) {
        const source = old.data as Float32Array | Uint16Array;
        for (let h = 0; h < heads; h++) {
          const from = h * this.capacity * headDim;
          data.set(source.subarray(from, from + this.length * headDim), h * capacity * headDim);
        }
      }
      return new ort.Tensor(type, data, [1, heads, capacity, headDim]);
    });
    this.tensors = next;
    this.capacity = capacity;
  }
}

/** Present outputs kept where the provider put them (gpu-buffer on WebGPU) and fed back as past. */
export class DeviceKvCache implements KvCache {
  private tensors: ort.Tensor[] | undefined;
  length = 0;

  constructor(private readonly layout: KvLayout, private readonly slicer: KvSlicer) {}

  bind(): KvBinding {
    const feeds: Record<string, ort.Tensor> = {};
    this.layout.pastNames.forEach((name, i) => { feeds[name] = this.tensors?.[i] ?? emptyPast(this.layout); });
    return { feeds };
  }

  commit(outputs: ort.InferenceSession.OnnxValueMapType, count: number): void {
    const next = this.layout.presentNames.map((name) => outputs[name] as ort.Tensor);
    this.release();
    this.tensors = next;
    this.length += count;
  }

  async truncate(length: number): Promise<void> {
    if (length >= this.length) return;
    if (length <= 0 || !this.tensors) { this.release(); this.length = 0; return; }
    const next = await this.slicer.slice(this.tensors, length);
    this.release();
    this.tensors = next;
    this.length = length;
  }

  dispose(): void {
    this.release();
    this.length = 0;
  }

  private release(): void {
    for (const tensor of this.tensors ?? []) tensor.dispose();
    this.tensors = undefined;
  }
}

/** Pre-allocated gpu-buffer tensors shared by past and present (WebGPU), grown geometrically on the device. */
export class SharedDeviceKvCache implements KvCache {
  private tensors: ort.Tensor[] | undefined;
  length = 0;
  capacity = 0;

  constructor(private readonly layout: KvLayout, private readonly padder: KvPadder, private readonly maxTokens: number,
    private readonly initialCapacity = 1024) {}

  /** Capacity must be ensured before `bind` (growing runs the pad model). */
  async reserve(count: number): Promise<void> {
    const needed = this.length + count;
    if (needed <= this.capacity && this.tensors) return;
    const capacity = Math.min(Math.max(needed, this.capacity * 2, this.initialCapacity), Math.max(needed, this.maxTokens));
    const next = await this.padder.grow(this.tensors, this.capacity, capacity);
    this.release();
    this.tensors = next;
    this.capacity = capacity;
  }

  /** The buffers (past and present, layout order); valid until the cache grows or is disposed. */
  get buffers(): readonly ort.Tensor[] {
    if (!this.tensors) throw new Error('SharedDeviceKvCache: reserve() before using the buffers');
    return this.tensors;
  }

  /** Positions written by a run outside `bind` (a graph-captured decode step on `buffers`). */
  advance(count: number): void {
    if (this.length + count > this.capacity) throw new Error('SharedDeviceKvCache: advanced past its capacity');
    this.length += count;
  }

  bind(count: number): KvBinding {
    if (!this.tensors || this.length + count > this.capacity) throw new Error('SharedDeviceKvCache: reserve() before bind()');
    const feeds: Record<string, ort.Tensor> = {};
    const fetches: Record<string, ort.Tensor> = {};
    this.layout.pastNames.forEach((name, i) => { feeds[name] = this.tensors![i]!; });
    this.layout.presentNames.forEach((name, i) => { fetches[name] = this.tensors![i]!; });
    return { feeds, fetches };
  }

  commit(outputs: ort.InferenceSession.OnnxValueMapType, count: number): void {
    // The outputs are new handles on our own buffers: release the handles, keep the buffers.
    for (const name of this.layout.presentNames) {
      const output = outputs[name] as ort.Tensor | undefined;
      if (output && !this.tensors?.includes(output)) output.dispose();
    }
    this.length += count;
  }

  async truncate(length: number): Promise<void> {
    // Positions past `length` are overwritten by the next run; attention reads only what seqlens_k says.
    this.length = Math.min(this.length, Math.max(0, length));
  }

  dispose(): void {
    this.release();
    this.length = 0;
    this.capacity = 0;
  }

  private release(): void {
    for (const tensor of this.tensors ?? []) tensor.dispose();
    this.tensors = undefined;
  }
}

/** Runs the pad model: allocates zeroed KV tensors on the device, or grows existing ones keeping their content. */
export class KvPadder {
  private constructor(private readonly session: ort.InferenceSession, private readonly layout: KvLayout) {}

  static async create(layout: KvLayout, provider: { name: 'webgpu' }): Promise<KvPadder> {
    const model = buildKvPadModel(layout.pastNames.length, layout.numKvHeads, layout.headDim, layout.type);
    const session = await ort.InferenceSession.create(model, { executionProviders: [provider], preferredOutputLocation: 'gpu-buffer', logSeverityLevel: 3 });
    return new KvPadder(session, layout);
  }

  /** Tensors of `capacity` positions holding the first `from` positions of `tensors` (none: zeros). */
  async grow(tensors: ort.Tensor[] | undefined, from: number, capacity: number): Promise<ort.Tensor[]> {
    const { numKvHeads: heads, headDim, type } = this.layout;
    // Pad cannot start from an empty tensor everywhere: start from one zero position.
    const start = tensors ? from : 1;
    const feeds: Record<string, ort.Tensor> = {
      [padNames.pads]: new ort.Tensor('int64', BigInt64Array.from([0n, 0n, 0n, 0n, 0n, 0n, BigInt(capacity - start), 0n]), [8]),
    };
    this.layout.pastNames.forEach((_, i) => {
      feeds[padNames.input(i)] = tensors?.[i] ?? new ort.Tensor(type, emptyData(type, heads * headDim), [1, heads, 1, headDim]);
    });
    const outputs = await this.session.run(feeds);
    return this.layout.pastNames.map((_, i) => outputs[padNames.output(i)] as ort.Tensor);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The naive placement: outputs come back to the host each run and go up again as the next run's inputs. */
export class HostCopyKvCache implements KvCache {
  private tensors: ort.Tensor[] | undefined;
  length = 0;

  constructor(private readonly layout: KvLayout) {}

  bind(): KvBinding {
    const feeds: Record<string, ort.Tensor> = {};
    this.layout.pastNames.forEach((name, i) => { feeds[name] = this.tensors?.[i] ?? emptyPast(this.layout); });
    return { feeds };
  }

  commit(outputs: ort.InferenceSession.OnnxValueMapType, count: number): void {
    this.tensors = this.layout.presentNames.map((name) => outputs[name] as ort.Tensor);
    this.length += count;
  }

  async truncate(length: number): Promise<void> {
    if (length >= this.length) return;
    if (length <= 0 || !this.tensors) { this.tensors = undefined; this.length = 0; return; }
    const { numKvHeads: heads, headDim, type } = this.layout;
    const old = this.length;
    this.tensors = this.tensors.map((tensor) => {
      const source = tensor.data as Float32Array | Uint16Array;
      const data = emptyData(type, heads * length * headDim);
      for (let h = 0; h < heads; h++) data.set(source.subarray(h * old * headDim, (h * old + length) * headDim), h * length * headDim);
      return new ort.Tensor(type, data, [1, heads, length, headDim]);
    });
    this.length = length;
  }

  dispose(): void {
    this.tensors = undefined;
    this.length = 0;
  }
}

/** Runs the slice model on the model's provider, outputs left on the device. */
export class KvSlicer {
  private constructor(private readonly session: ort.InferenceSession, private readonly count: number) {}

  /** `provider` as the model's session names it, so both share one device. */
  static async create(layout: KvLayout, provider: 'cpu' | { name: 'webgpu' }): Promise<KvSlicer> {
    const count = layout.pastNames.length;
    const model = buildKvSliceModel(count, layout.numKvHeads, layout.headDim, layout.type);
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [provider],
      preferredOutputLocation: provider === 'cpu' ? 'cpu' : 'gpu-buffer',
      logSeverityLevel: 3,
    });
    return new KvSlicer(session, count);
  }

  async slice(tensors: ort.Tensor[], length: number): Promise<ort.Tensor[]> {
    const feeds: Record<string, ort.Tensor> = { [sliceNames.length]: new ort.Tensor('int64', BigInt64Array.from([BigInt(length)]), [1]) };
    for (let i = 0; i < this.count; i++) feeds[sliceNames.input(i)] = tensors[i]!;
    const outputs = await this.session.run(feeds);
    return Array.from({ length: this.count }, (_, i) => outputs[sliceNames.output(i)] as ort.Tensor);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
