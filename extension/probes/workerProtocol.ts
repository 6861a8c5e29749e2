/**
 * Messages between the extension host and the probe worker thread. The worker builds instances (synchronous,
 * ~1.5 s each at 512K) and runs the suite; every backend call comes back to the host, which owns the one active
 * Backend (a server connection or the local engine with its model loaded), so the panel never loads a second copy.
 */
import type { GenerateEvent, GenerateRequest, GenerateResult, BackendInfo } from '../../engine/backends/types';
import type { ProbePlan } from '../../engine/probes/runner';
import type { ProbeEvent, ProbeRunResult } from '../../engine/probes/types';

export interface WorkerStart {
  plan: ProbePlan;
  threshold: number;
  /** tokenizer.json to count prompts with; undefined: the bundled Llama 3 one. */
  tokenizerPath?: string;
}

/** An error as it crosses the thread boundary (UserError keeps its hint, cancellation stays a cancellation). */
export interface SerializedError {
  kind: 'user' | 'cancelled' | 'bug' | 'context-too-long';
  message: string;
  hint?: string;
  stack?: string;
  /** kind 'context-too-long': the fields the probe runner reads to skip the task at that length and go on. */
  overflow?: { server: string; model: string; promptTokens: number; maxNewTokens: number; contextLength: number };
}

export type BackendCall =
  | { method: 'info' }
  | { method: 'generate'; request: GenerateRequest };

export type ToWorker =
  | { type: 'start'; start: WorkerStart }
  | { type: 'cancel' }
  | { type: 'reply'; id: number; ok: true; value: BackendInfo | GenerateResult }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'generate-event'; id: number; event: GenerateEvent };

export type FromWorker =
  | { type: 'status'; message: string }
  | { type: 'event'; event: ProbeEvent }
  | { type: 'call'; id: number; call: BackendCall }
  | { type: 'done'; result: ProbeRunResult }
  | { type: 'failed'; error: SerializedError };
