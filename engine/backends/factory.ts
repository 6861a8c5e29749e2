/**
 * Creates the Backend that CLI options or extension settings ask for: a remote OpenAI-compatible server when a
 * server is given, else the bundled local engine on a converted model directory, else on the bundled demo model.
 */
import type { Backend } from './types';
import { CLI_SETTINGS, type SettingNames } from './remote/problems';
import { RemoteBackend, type RemoteBackendOptions } from './remote/remoteBackend';
import { LocalBackend } from '../runtime/localBackend';
import type { ExecutionProviderSetting, LoadOptions, RuntimeSetting } from '../runtime/protocol';
import { demoModelDir } from '../models/demoModel';

export interface BackendChoice {
  /** Server root URL (http://host:port); selects the remote backend. */
  server?: string;
  /** Model id on the server; empty: its only model. */
  model?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Longest silence allowed from the server, in ms. */
  requestTimeoutMs?: number;
  /** tokenizer.json for local counts; empty: the bundled Llama 3 one. */
  tokenizerPath?: string;
  api?: 'chat' | 'completions';
  /** How error hints name the settings; default: CLI flags. */
  settingNames?: SettingNames;
  /** Local engine: converted model directory (without a server, `model` is read as this directory; neither: the demo model). */
  modelDir?: string;
  /** Local engine: which runtime runs the model (default auto: llama.cpp where it is installed, has a GPU and the model a GGUF). */
  runtime?: RuntimeSetting;
  /** Local engine: the folder the llama.cpp runtime is installed in. */
  llamaCppDir?: string;
  /** Local engine: 'auto' (WebGPU if an adapter exists, else CPU), 'webgpu' or 'cpu'. */
  executionProvider?: ExecutionProviderSetting;
  /** Local engine: context to budget memory for; 0 or absent: the model's, or the longest that fits. */
  contextTokens?: number;
  /** Local engine: what set contextTokens, when not the user's setting (for the error naming it). */
  contextTokensSource?: LoadOptions['contextTokensSource'];
  /** Local engine: tokens per prefill run (default 2048). */
  prefillChunkTokens?: number;
  /** Local engine: device memory to budget against, GiB; absent: detected. */
  deviceMemoryGiB?: number;
  /** Local engine: directory for the prefix cache on disk (CPU provider); absent: not saved. */
  prefixCacheDir?: string;
}

export function createBackend(choice: BackendChoice): Backend {
  if (choice.server && choice.server.trim()) return new RemoteBackend(remoteBackendOptions(choice));
  return new LocalBackend(localBackendOptions(choice));
}

/** The local engine's options for a choice without a server: its model directory, or the bundled demo model. */
export function localBackendOptions(choice: BackendChoice): LoadOptions {
  const modelDir = (choice.modelDir ?? choice.model ?? '').trim() || demoModelDir();
  return {
    modelDir,
    executionProvider: choice.executionProvider ?? 'auto',
    runtime: choice.runtime ?? 'auto',
    ...(choice.llamaCppDir ? { llamaCppDir: choice.llamaCppDir } : {}),
    contextTokens: choice.contextTokens ?? 0,
    ...(choice.contextTokensSource ? { contextTokensSource: choice.contextTokensSource } : {}),
    prefillChunkTokens: choice.prefillChunkTokens ?? 2048,
    tokenizerPath: choice.tokenizerPath,
    deviceMemoryBytes: choice.deviceMemoryGiB ? choice.deviceMemoryGiB * 1024 ** 3 : undefined,
    prefixCacheDir: choice.prefixCacheDir,
    ...(choice.settingNames ? { settingNames: choice.settingNames } : {}),
  };
}

/** The remote backend's options for a choice with a server (also what its health check takes). */
export function remoteBackendOptions(choice: BackendChoice): RemoteBackendOptions {
  return {
    url: choice.server ?? '',
    model: choice.model,
    apiKey: choice.apiKey,
    headers: choice.headers,
    requestTimeoutMs: choice.requestTimeoutMs,
    tokenizerPath: choice.tokenizerPath,
    api: choice.api,
    settingNames: choice.settingNames ?? CLI_SETTINGS,
  };
}
