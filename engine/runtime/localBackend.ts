/**
 * The bundled local engine behind the `Backend` interface: the model runs in a separate engine process
 * (EngineClient), so onnxruntime's blocking runs never touch the caller's thread. A crashed engine process
 * fails the request in flight with a UserError (or 'cut' when text had arrived) and is started again, with
 * the model reloaded, on the next request.
 */
import type {
  Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount,
} from '../backends/types';
import { CancelledError, UserError } from '../errors';
import { EngineClient } from './engineClient';
import { demoModelNotice, isDemoModelDir } from '../models/demoModel';
import { CLI_SETTINGS } from '../settingNames';
import type { EngineGenerateRequest, EngineGenerateResult, EngineInfo, EngineStats, LoadOptions } from './protocol';

export type LlamaCppGpu = 'cuda' | 'vulkan' | 'metal';

/** The llama.cpp GPU backend a crashed engine ran on (undefined: onnxruntime, the CPU, or nothing loaded yet). */
export function crashedLlamaCppGpu(loaded: Pick<EngineInfo, 'runtime' | 'executionProvider'> | undefined): LlamaCppGpu | undefined {
  const provider = loaded?.runtime === 'llama.cpp' ? loaded.executionProvider : undefined;
  return provider === 'cuda' || provider === 'vulkan' || provider === 'metal' ? provider : undefined;
}

export class LocalBackend implements Backend {
  private readonly client = new EngineClient();
  private loading: Promise<EngineInfo> | undefined;

  /** What the running engine process loaded (to know what a crash took down). */
  private loaded: EngineInfo | undefined;
  /** llama.cpp GPU backends that stopped the engine process: the next loads leave them out. */
  private readonly crashedGpus = new Set<LlamaCppGpu>();

  /** Told once per GPU backend that is left out (the extension offers to build llama.cpp for the machine). */
  onGpuLeftOut: ((gpu: LlamaCppGpu) => void) | undefined;

  constructor(readonly options: LoadOptions) {
    // After a crash the next request starts a new process; it must load the model again. A llama.cpp GPU backend
    // that aborted the process (a prebuilt that this driver cannot run) is left out from then on.
    this.client.onCrash = () => {
      const gpu = crashedLlamaCppGpu(this.loaded);
      if (gpu && !this.crashedGpus.has(gpu)) {
        this.crashedGpus.add(gpu);
        this.onGpuLeftOut?.(gpu);
      }
      this.loading = undefined;
      this.loaded = undefined;
    };
  }

  /** Starts the engine process and loads the model (once; again after a crash). */
  load(): Promise<EngineInfo> {
    if (!this.loading) {
      const options = this.crashedGpus.size > 0 ? { ...this.options, llamaCppExcludeGpus: [...this.crashedGpus] } : this.options;
      const loading = this.client.request<'load'>({ type: 'load', options });
      this.loading = loading;
      loading.then((info) => { if (this.loading === loading) this.loaded = info; }, () => { if (this.loading === loading) this.loading = undefined; });
    }
    return this.loading;
  }

  /** True when the engine runs the bundled demo model (its answers come with a notice). */
  get usesDemoModel(): boolean {
    return isDemoModelDir(this.options.modelDir);
  }

  /** Process id of the engine (for reports and tests). */
  get enginePid(): number | undefined {
    return this.client.pid;
  }

  get engineCrashes(): number {
    return this.client.crashes;
  }

  async info(): Promise<BackendInfo> {
    const info = await this.load();
    return {
      kind: 'local', model: info.model, contextLength: info.contextTokens,
      detail: info.runtime === 'llama.cpp'
        ? `${info.executionProviderReason}; KV cache held by llama.cpp; ${info.runtimeReason}`
        : `${info.executionProviderReason}; KV cache ${kvDescription(info)}${info.runtimeReason.includes('llama.cpp') ? `; ${info.runtimeReason}` : ''}`,
      ...(this.usesDemoModel ? { notice: demoModelNotice(this.options.settingNames ?? CLI_SETTINGS) } : {}),
    };
  }

  async countPromptTokens(request: Omit<GenerateRequest, 'sampling'>): Promise<PromptTokenCount> {
    await this.load();
    const { tokens } = await this.client.request<'count'>({
      type: 'count', prompt: { kind: 'chat', messages: request.messages, assistantPrefix: request.assistantPrefix },
    });
    return { tokens, exact: true };
  }

  async generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    const result = await this.run({
      prompt: { kind: 'chat', messages: request.messages, assistantPrefix: request.assistantPrefix },
      sampling: request.sampling,
    }, onEvent, signal);
    return result;
  }

  /** Like `generate`, with the engine's own request (token prompts, stop tokens ignored, ids returned). */
  async run(request: EngineGenerateRequest, onEvent: (event: GenerateEvent) => void = () => {}, signal?: AbortSignal): Promise<GenerateResult & { engine?: EngineGenerateResult }> {
    const started = performance.now();
    if (signal?.aborted) return cancelledBeforeStart(started);
    await this.load();
    let streamed = '';
    const forward = (event: GenerateEvent) => {
      if (event.type === 'text') streamed += event.text;
      onEvent(event);
    };
    let result: EngineGenerateResult;
    try {
      result = await this.client.request<'generate'>({ type: 'generate', request }, forward, signal);
    } catch (error) {
      if (error instanceof CancelledError) return cancelledBeforeStart(started);
      if (streamed.length > 0 && error instanceof UserError) {
        return { text: streamed, finishReason: 'cut', promptTokens: 0, completionTokens: 0, totalMs: performance.now() - started, warnings: [error.toString()] };
      }
      throw error;
    }
    return {
      text: result.text, finishReason: result.finishReason, promptTokens: result.promptTokens,
      completionTokens: result.completionTokens, cachedPromptTokens: result.cachedPromptTokens,
      timeToFirstTokenMs: result.timeToFirstTokenMs, totalMs: result.totalMs, warnings: [], engine: result,
    };
  }

  /**
   * Reads `messages` (typically the system turn with the packed repository) into the KV cache ahead of any
   * question; a later `generate` whose prompt starts with them prefills only the rest. Progress comes as
   * 'prefill' events; a cancelled prefill keeps what it read.
   */
  async prefill(messages: GenerateRequest['messages'], onEvent: (event: GenerateEvent) => void = () => {}, signal?: AbortSignal): Promise<EngineGenerateResult> {
    await this.load();
    return this.client.request<'prefill'>({ type: 'prefill', prompt: { kind: 'chat', messages, partial: true } }, onEvent, signal);
  }

  async stats(): Promise<EngineStats> {
    await this.load();
    return this.client.request<'stats'>({ type: 'stats' });
  }

  async dispose(): Promise<void> {
    this.loading = undefined;
    await this.client.stop();
  }
}

function kvDescription(info: EngineInfo): string {
  if (info.kvPlacement === 'host-copy') return 'copied to the host each step';
  if (info.executionProvider === 'cpu') return 'in pre-allocated host buffers, appended in place';
  if (info.kvPlacement === 'device-graph') return 'in GPU buffers for the whole context, decode steps replayed from a graph capture';
  return info.kvPlacement === 'device-shared' ? 'in pre-allocated GPU buffers, appended in place' : 'kept on the GPU between steps';
}

function cancelledBeforeStart(started: number): GenerateResult {
  return { text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, totalMs: performance.now() - started, warnings: [] };
}
