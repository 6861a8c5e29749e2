/**
 * Runs the probe suite in a worker thread (worker.ts) so instance building never blocks the extension host,
 * answering the worker's backend calls with the host's Backend. Cancelling aborts the request in flight at once
 * and tells the worker to stop; the worker then returns what finished (at most one instance build later), and is
 * terminated if it has not within CANCEL_GRACE_MS.
 */
import type { Worker } from 'node:worker_threads';
import type { Backend, BackendInfo, GenerateResult } from '../../engine/backends/types';
import { CancelledError } from '../../engine/errors';
import type { ProbeEvent, ProbeRunResult } from '../../engine/probes/types';
import { startWorker } from '../../engine/workerScript';
import { deserializeError, serializeError } from './errors';
import type { BackendCall, FromWorker, ToWorker, WorkerStart } from './workerProtocol';

export const CANCEL_GRACE_MS = 5000;

export interface WorkerRunOptions extends WorkerStart {
  backend: Backend;
  onEvent: (event: ProbeEvent) => void;
  /** Preparation steps inside the worker ("loading the tokenizer"). */
  onStatus?: (message: string) => void;
  signal?: AbortSignal;
}

export function runProbesInWorker(options: WorkerRunOptions): Promise<ProbeRunResult> {
  const { backend, signal } = options;
  if (signal?.aborted) return Promise.reject(new CancelledError('probe run'));
  const worker: Worker = startWorker(__dirname, 'probes-worker', 'worker.ts');
  const post = (message: ToWorker) => worker.postMessage(message);
  // Backend calls use our own controller, so a cancel aborts them even if the caller's signal is reused.
  const calls = new AbortController();

  return new Promise<ProbeRunResult>((resolve, reject) => {
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: { result: ProbeRunResult } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      calls.abort();
      void worker.terminate();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const onAbort = () => {
      calls.abort();
      post({ type: 'cancel' });
      graceTimer = setTimeout(() => finish({ error: new CancelledError('probe run') }), CANCEL_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const answer = async (id: number, call: BackendCall) => {
      try {
        let value: BackendInfo | GenerateResult;
        if (call.method === 'info') value = await backend.info(calls.signal);
        else value = await backend.generate(call.request, (event) => post({ type: 'generate-event', id, event }), calls.signal);
        if (!settled) post({ type: 'reply', id, ok: true, value });
      } catch (error) {
        if (!settled) post({ type: 'reply', id, ok: false, error: serializeError(error) });
      }
    };

    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'status': options.onStatus?.(message.message); return;
        case 'event': options.onEvent(message.event); return;
        case 'call': void answer(message.id, message.call); return;
        case 'done': finish({ result: message.result }); return;
        case 'failed': finish({ error: deserializeError(message.error) });
      }
    });
    worker.on('error', (error) => finish({ error }));
    worker.on('exit', (code) => finish({ error: new Error(`the probe worker stopped unexpectedly (exit code ${code})`) }));
    post({ type: 'start', start: { plan: options.plan, threshold: options.threshold, ...(options.tokenizerPath ? { tokenizerPath: options.tokenizerPath } : {}) } });
  });
}
