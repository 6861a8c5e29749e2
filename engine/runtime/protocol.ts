/**
 * The typed messages between the extension host (or CLI) and the engine process. Requests carry an id; every
 * reply names the request it answers. One request runs at a time in the engine; later ones wait in order.
 */
import type { ChatMessage, FinishReason, GenerateEvent, SamplingOptions } from '../backends/types';
import type { SettingNames } from '../settingNames';

/** Which execution provider runs the model: `auto` tries WebGPU and falls back to the CPU. */
export type ExecutionProviderSetting = 'auto' | 'webgpu' | 'cpu';
/** onnxruntime's providers, and llama.cpp's GPU backends (the llama.cpp runtime on the CPU is `cpu`). */
export type ExecutionProviderName = 'webgpu' | 'cpu' | 'cuda' | 'vulkan' | 'metal';

/** Which library runs the local model: onnxruntime (the ONNX model) or llama.cpp (model.gguf). `auto`: see runtimeChoice.ts. */
export type RuntimeSetting = 'auto' | 'onnx' | 'llama.cpp';
export type RuntimeName = 'onnx' | 'llama.cpp';

/**
 * Where the KV cache lives between steps: `device` keeps each run's present outputs on the device;
 * `device-shared` pre-allocates device buffers that are both past and present (appended in place);
 * `device-graph` is `device-shared` allocated for the whole context, with decode steps replayed from an
 * onnxruntime graph capture (WebGPU only; the weights are loaded twice);
 * `host-copy` is the naive way (copied to the host every step), kept as a baseline.
 * Unset, a WebGPU engine takes `device-shared`.
 */
export type KvPlacement = 'device' | 'device-shared' | 'device-graph' | 'host-copy';

export interface LoadOptions {
  /** Directory with model.onnx (+ external data), maybe model.gguf, and the kernels' sidecar JSON; or one .gguf file (llama.cpp runtime). */
  modelDir: string;
  /** Default `auto`. */
  runtime?: RuntimeSetting;
  /** Folder the llama.cpp runtime was installed into (`prolong runtime install`); absent: only a copy beside this program is found. */
  llamaCppDir?: string;
  /** llama.cpp GPU backends not to use (one that stopped the engine process before: a driver that cannot run it). */
  llamaCppExcludeGpus?: ('cuda' | 'vulkan' | 'metal')[];
  executionProvider: ExecutionProviderSetting;
  /** Longest prompt + answer the engine must hold; KV memory is budgeted for it up front. 0: the model's limit. */
  contextTokens: number;
  /**
   * Where contextTokens came from, for the error when the model cannot run that long: what set it and how to
   * change it. Default: `settingNames.context`.
   */
  contextTokensSource?: { what: string; fix: string };
  /** Tokens per prefill run. */
  prefillChunkTokens: number;
  kvPlacement?: KvPlacement;
  /** tokenizer.json to use when the model directory has none; default: the bundled Llama 3 one. */
  tokenizerPath?: string;
  /** Device memory to budget against, bytes; default: detected (nvidia-smi) or the host's memory. */
  deviceMemoryBytes?: number;
  /**
   * Dawn/WebGPU validation: 'basic' (onnxruntime's default) or 'disabled' (less CPU work per dispatch; a WebGPU
   * error can then end the engine process, which the host survives and restarts).
   */
  webgpuValidation?: 'basic' | 'disabled';
  /** Directory for the prefix cache on disk (CPU provider only); absent: not saved. */
  prefixCacheDir?: string;
  /** How hints name the settings (VS Code settings or CLI flags); default: CLI flags. */
  settingNames?: SettingNames;
  /** onnxruntime profiling: the trace file's path prefix (written when the engine unloads). Benchmarks only. */
  profileFilePrefix?: string;
}

/** A prompt either as chat messages (rendered with the model's chat template) or as token ids (benchmarks, tests). */
export type PromptInput =
  /** `partial`: the conversation so far without the assistant's header (to prefill a shared prefix ahead of the question). */
  | { kind: 'chat'; messages: ChatMessage[]; assistantPrefix?: string; partial?: boolean }
  | { kind: 'tokens'; tokens: number[] };

export interface EngineGenerateRequest {
  prompt: PromptInput;
  sampling: SamplingOptions;
  /** Keep going past stop tokens (benchmarks on random weights). */
  ignoreStopTokens?: boolean;
  /** Return the generated ids too (tests). */
  returnTokens?: boolean;
  /**
   * Whether a path the answer starts writing is kept to the packed files' (citationGuard.ts; the paths are read from
   * the chat prompt's packed document): by default when the model's sidecar asks for it (generation.guardPaths).
   */
  citationGuard?: boolean;
  /** Nats below the model's best token at which the guard lets a path go (default RELEASE_MARGIN; tests and evaluations). */
  citationReleaseMargin?: number;
}

export interface EngineInfo {
  model: string;
  modelDir: string;
  runtime: RuntimeName;
  /** Why this runtime runs the model, for the user. */
  runtimeReason: string;
  executionProvider: ExecutionProviderName;
  /** Why this provider was chosen, for the user. */
  executionProviderReason: string;
  kvPlacement: KvPlacement;
  /** Longest context budgeted for. */
  contextTokens: number;
  /** The memory estimate made before loading. */
  estimate: MemoryEstimate;
}

export interface MemoryEstimate {
  weightBytes: number;
  kvBytes: number;
  /** Working memory for one prefill chunk (activations, logits). */
  workBytes: number;
  totalBytes: number;
  availableBytes: number;
  /** Where `availableBytes` came from. */
  availableSource: string;
}

export interface EngineStats {
  /** Tokens whose KV is held for reuse by the next request. */
  cachedTokens: number;
  /** Tokens the last request reused / prefilled. */
  lastReusedTokens: number;
  lastPrefilledTokens: number;
  prefillMs: number;
  decodeMs: number;
  decodeTokens: number;
  /** Peak resident memory of the engine process, bytes. */
  peakRssBytes: number;
}

export interface EngineGenerateResult {
  text: string;
  finishReason: Exclude<FinishReason, 'cut'>;
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  timeToFirstTokenMs: number;
  totalMs: number;
  prefillMs: number;
  decodeMs: number;
  tokens?: number[];
}

/** Host -> engine. */
export type EngineRequest =
  | { id: number; type: 'load'; options: LoadOptions }
  | { id: number; type: 'count'; prompt: PromptInput }
  | { id: number; type: 'generate'; request: EngineGenerateRequest }
  /** Fills the KV cache with a prompt (e.g. the packed repository) before any question, so the first answer starts fast. */
  | { id: number; type: 'prefill'; prompt: PromptInput }
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'stats' }
  | { id: number; type: 'unload' };

/** What each request type resolves with. */
export interface EngineReplies {
  load: EngineInfo;
  count: { tokens: number };
  generate: EngineGenerateResult;
  prefill: EngineGenerateResult;
  cancel: { cancelled: boolean };
  stats: EngineStats;
  unload: { unloaded: boolean };
}

export type SerializedError = { kind: 'user' | 'cancelled' | 'internal'; message: string; hint?: string };

/** Engine -> host. */
export type EngineMessage =
  | { id: number; type: 'event'; event: GenerateEvent }
  | { id: number; type: 'done'; value: EngineReplies[keyof EngineReplies] }
  | { id: number; type: 'failed'; error: SerializedError }
  /** Sent once when the engine process is ready for requests. */
  | { id: 0; type: 'ready'; pid: number };
