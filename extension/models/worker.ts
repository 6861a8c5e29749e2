/** The model worker thread: pullModel (download into the HF cache + convert) off the extension host. No `vscode` here. */
import { parentPort } from 'node:worker_threads';
import { CancelledError, UserError } from '../../engine/errors';
import { pullModel } from '../../engine/models/library';
import type { FromModelWorker, ModelJob, ModelJobError, ToModelWorker } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('extension/models/worker.ts runs only as a worker thread');
const post = (message: FromModelWorker) => port.postMessage(message);
const controller = new AbortController();

function serialize(error: unknown): ModelJobError {
  if (error instanceof CancelledError) return { kind: 'cancelled', message: error.message };
  if (error instanceof UserError) return { kind: 'user', message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof Error) return { kind: 'bug', message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { kind: 'bug', message: String(error) };
}

async function run(job: ModelJob): Promise<void> {
  // progress is throttled to a few messages a second (a fast disk reports every chunk); the latest one is always sent
  let lastPost = 0;
  let trailing: NodeJS.Timeout | undefined;
  const throttled = (send: () => void, final: boolean) => {
    clearTimeout(trailing);
    const now = performance.now();
    if (final || now - lastPost > 200) { lastPost = now; send(); return; }
    trailing = setTimeout(() => { lastPost = performance.now(); send(); }, 200 - (now - lastPost));
  };
  const result = await pullModel({
    ...job, signal: controller.signal,
    onPlan: ({ fit, dtype }) => post({ type: 'plan', fit, dtype }),
    onDownload: (progress) => throttled(() => post({ type: 'download', progress }), progress.doneBytes === progress.totalBytes),
    onConvert: (progress) => throttled(() => post({ type: 'convert', progress }), progress.doneParameters === progress.totalParameters),
  });
  clearTimeout(trailing);
  post({ type: 'done', result });
}

port.on('message', (message: ToModelWorker) => {
  if (message.type === 'cancel') { controller.abort(); return; }
  run(message.job).catch((error: unknown) => post({ type: 'failed', error: serialize(error) }));
});
