/**
 * The probe worker thread: loads the tokenizer, builds and scores instances off the extension host's thread, and
 * forwards each backend call to the host (workerProtocol.ts). No `vscode` here.
 */
import { parentPort } from 'node:worker_threads';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../../engine/backends/types';
import { promptCounterFor } from '../../engine/probes/promptCounter';
import { runProbes } from '../../engine/probes/runner';
import { deserializeError, serializeError } from './errors';
import type { BackendCall, FromWorker, ToWorker, WorkerStart } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('extension/probes/worker.ts runs only as a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

interface PendingCall {
  resolve: (value: BackendInfo | GenerateResult) => void;
  reject: (error: Error) => void;
  onEvent?: (event: GenerateEvent) => void;
}
const pending = new Map<number, PendingCall>();
let nextId = 1;

function call<T extends BackendInfo | GenerateResult>(request: BackendCall, onEvent?: (event: GenerateEvent) => void): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: BackendInfo | GenerateResult) => void, reject, onEvent });
    post({ type: 'call', id, call: request });
  });
}

/** The host's backend seen from here. Cancelling is the host's job: it aborts the request when the user cancels. */
const hostBackend: Backend = {
  info: () => call<BackendInfo>({ method: 'info' }),
  countPromptTokens: async (): Promise<PromptTokenCount> => { throw new Error('the probe runner does not ask the backend to count'); },
  generate: (request: GenerateRequest, onEvent: (event: GenerateEvent) => void) => call<GenerateResult>({ method: 'generate', request }, onEvent),
  dispose: async () => undefined,
};

const controller = new AbortController();

async function start({ plan, threshold, tokenizerPath }: WorkerStart): Promise<void> {
  post({ type: 'status', message: 'loading the tokenizer' });
  const counter = promptCounterFor(tokenizerPath, (message) => post({ type: 'event', event: { type: 'warning', message } }));
  post({ type: 'status', message: 'asking the backend for its model and context length (a local engine loads its model first)' });
  const result = await runProbes({ ...plan, backend: hostBackend, counter, threshold, signal: controller.signal, onEvent: (event) => post({ type: 'event', event }) });
  post({ type: 'done', result });
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start':
      start(message.start).catch((error: unknown) => post({ type: 'failed', error: serializeError(error) }));
      return;
    case 'cancel':
      controller.abort();
      return;
    case 'generate-event':
      pending.get(message.id)?.onEvent?.(message.event);
      return;
    case 'reply': {
      const entry = pending.get(message.id);
      if (!entry) return;
      pending.delete(message.id);
      if (message.ok) entry.resolve(message.value);
      else entry.reject(deserializeError(message.error));
    }
  }
});
