/**
 * Messages between the extension host and the model worker thread, which downloads a checkpoint from the Hub and
 * converts it (minutes of hashing and number crunching that must not block the extension host).
 */
import type { ConvertProgress } from '../../kernels/convert';
import type { DownloadProgress, HubSettings } from '../../engine/models/hub';
import type { PulledModel } from '../../engine/models/library';
import type { ModelFit, PullDtype } from '../../engine/models/modelFit';
import type { AvailableMemory } from '../../engine/runtime/memoryBudget';

export interface ModelJob {
  repo: string;
  revision?: string;
  dtype: PullDtype | 'auto';
  modelsDir: string;
  outDir?: string;
  settings: HubSettings;
  available: AvailableMemory;
  /** Also write model.gguf for the llama.cpp runtime (it is installed with a GPU build). */
  gguf?: boolean;
}

/** An error as it crosses the thread boundary: a UserError keeps its hint, a cancellation stays one. */
export interface ModelJobError { kind: 'user' | 'cancelled' | 'bug'; message: string; hint?: string; stack?: string }

export type ToModelWorker = { type: 'start'; job: ModelJob } | { type: 'cancel' };

export type FromModelWorker =
  | { type: 'plan'; fit: ModelFit; dtype: PullDtype }
  | { type: 'download'; progress: DownloadProgress }
  | { type: 'convert'; progress: ConvertProgress }
  | { type: 'done'; result: PulledModel }
  | { type: 'failed'; error: ModelJobError };
