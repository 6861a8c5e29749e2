/**
 * Runs a model job (download + convert) in a worker thread, forwarding progress; cancelling tells the worker to
 * stop (the download keeps its partial blob for resume, the conversion leaves no half model) and terminates it if
 * it has not stopped within CANCEL_GRACE_MS.
 */
import { CancelledError, UserError } from '../../engine/errors';
import type { PulledModel } from '../../engine/models/library';
import { startWorker } from '../../engine/workerScript';
import type { FromModelWorker, ModelJob, ToModelWorker } from './workerProtocol';

export const CANCEL_GRACE_MS = 5000;

export interface ModelJobCallbacks {
  onMessage?: (message: Exclude<FromModelWorker, { type: 'done' | 'failed' }>) => void;
  signal?: AbortSignal;
}

export function runModelJob(job: ModelJob, callbacks: ModelJobCallbacks = {}): Promise<PulledModel> {
  const { signal } = callbacks;
  if (signal?.aborted) return Promise.reject(new CancelledError('model download'));
  const worker = startWorker(__dirname, 'models-worker', 'worker.ts');
  const post = (message: ToModelWorker) => worker.postMessage(message);
  return new Promise<PulledModel>((resolve, reject) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (outcome: { result: PulledModel } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if ('result' in outcome) resolve(outcome.result); else reject(outcome.error);
    };
    const onAbort = () => {
      post({ type: 'cancel' });
      grace = setTimeout(() => finish({ error: new CancelledError('model download') }), CANCEL_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FromModelWorker) => {
      if (message.type === 'done') finish({ result: message.result });
      else if (message.type === 'failed') {
        const e = message.error;
        if (e.kind === 'cancelled') finish({ error: new CancelledError('model download') });
        else if (e.kind === 'user') finish({ error: new UserError(e.message, e.hint) });
        else { const bug = new Error(e.message); if (e.stack) bug.stack = e.stack; finish({ error: bug }); }
      } else callbacks.onMessage?.(message);
    });
    worker.on('error', (error) => finish({ error }));
    worker.on('exit', (code) => finish({ error: new Error(`the model worker stopped unexpectedly (exit code ${code})`) }));
    post({ type: 'start', job });
  });
}
