/**
 * Entry point of the engine process (bundled as out/engine-worker.js). Requests run one at a time in arrival
 * order; a cancel reaches the running request between two model runs (each run yields to the event loop).
 */
import { CancelledError, UserError } from '../errors';
import { serializeError } from './engineClient';
import { loadEngine, type LoadedEngine } from './loadEngine';
import type { EngineMessage, EngineReplies, EngineRequest } from './protocol';

if (!process.send) {
  process.stderr.write('engine-worker: start it through EngineClient (it needs an IPC channel)\n');
  process.exit(2);
}

const send = (message: EngineMessage) => { process.send?.(message); };

let engine: LoadedEngine | undefined;
type QueuedRequest = Exclude<EngineRequest, { type: 'cancel' }>;
const queue: QueuedRequest[] = [];
const controllers = new Map<number, AbortController>();
let draining = false;

process.on('message', (message: EngineRequest) => {
  if (message.type === 'cancel') {
    const controller = controllers.get(message.target);
    controller?.abort();
    send({ id: message.id, type: 'done', value: { cancelled: controller !== undefined } });
    return;
  }
  controllers.set(message.id, new AbortController());
  queue.push(message);
  void drain();
});

// The host went away: nothing is left to answer to.
process.on('disconnect', () => { void shutdown(0); });

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  while (queue.length > 0) {
    const request = queue.shift()!;
    const controller = controllers.get(request.id)!;
    try {
      const value = await handle(request, controller.signal);
      send({ id: request.id, type: 'done', value });
    } catch (error) {
      send({ id: request.id, type: 'failed', error: serializeError(error) });
    } finally {
      controllers.delete(request.id);
    }
    if (request.type === 'unload') await shutdown(0);
  }
  draining = false;
}

async function handle(request: QueuedRequest, signal: AbortSignal): Promise<EngineReplies[keyof EngineReplies]> {
  switch (request.type) {
    case 'load': {
      await engine?.dispose();
      engine = undefined;
      engine = await loadEngine(request.options);
      return engine.info;
    }
    case 'count':
      return { tokens: loaded().promptTokens(request.prompt).length };
    case 'generate': {
      const current = loaded();
      if (signal.aborted) throw new CancelledError('request');
      return current.generate(request.request, (event) => send({ id: request.id, type: 'event', event }), signal);
    }
    case 'prefill': {
      const current = loaded();
      if (signal.aborted) throw new CancelledError('request');
      return current.generate({ prompt: request.prompt, sampling: { maxTokens: 0 } }, (event) => send({ id: request.id, type: 'event', event }), signal);
    }
    case 'stats':
      return loaded().stats();
    case 'unload':
      await engine?.dispose();
      engine = undefined;
      return { unloaded: true };
  }
}

function loaded(): LoadedEngine {
  if (!engine) throw new UserError('No model is loaded in the local engine.', 'Set prolong.engine.modelPath to a converted model directory.');
  return engine;
}

async function shutdown(code: number): Promise<void> {
  try { await engine?.dispose(); } catch { /* exiting anyway */ }
  process.exit(code);
}

send({ id: 0, type: 'ready', pid: process.pid });
