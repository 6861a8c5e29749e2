import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../../engine/backends/types';
import { CancelledError, UserError } from '../../engine/errors';
import { ContextTooLongError } from '../../engine/backends/remote/problems';
import type { ProbeEvent } from '../../engine/probes/types';
import { runProbesInWorker } from '../../extension/probes/workerRun';
import { OracleBackend } from '../probes/scriptedBackends';

test('the worker runs the suite and every backend call comes back to the host backend', async () => {
  const backend = new OracleBackend();
  const events: ProbeEvent[] = [];
  const statuses: string[] = [];
  const result = await runProbesInWorker({
    plan: { tasks: ['niah_single_1', 'vt'], lengths: [2048], samples: 2, seed: 'panel' }, threshold: 85.6,
    backend, onEvent: (event) => events.push(event), onStatus: (message) => statuses.push(message),
  });
  assert.equal(backend.requests.length, 4, 'four instances were answered on the host side');
  assert.deepEqual(result.scores.map((s) => [s.task, s.length, s.score]), [['niah_single_1', 2048, 100], ['vt', 2048, 100]]);
  assert.equal(result.metadata.cancelled, false);
  assert.equal(result.metadata.backend.model, 'oracle');
  assert.equal(result.ruler.effectiveLength, 2048);
  assert.deepEqual(events.filter((e) => e.type === 'instance-finished').length, 4);
  assert.equal(events[0]!.type, 'planned');
  assert.ok(statuses.includes('loading the tokenizer'));
});

/** Answers only when its request is aborted (a server still prefilling), reporting prefill progress first. */
class HangingBackend implements Backend {
  started = 0;
  async info(): Promise<BackendInfo> { return { kind: 'remote', model: 'slow', detail: 'hangs until cancelled' }; }
  async countPromptTokens(): Promise<PromptTokenCount> { return { tokens: 0, exact: false }; }
  generate(_request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    this.started++;
    onEvent({ type: 'prefill', doneTokens: 10, totalTokens: 100, reusedTokens: 0 });
    return new Promise((resolve) => signal?.addEventListener('abort', () => resolve({
      text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, totalMs: 1, warnings: [],
    }), { once: true }));
  }
  async dispose(): Promise<void> {}
}

test('cancel aborts the request in flight and returns the partial results, marked cancelled', async () => {
  const backend = new HangingBackend();
  const controller = new AbortController();
  const events: ProbeEvent[] = [];
  const result = await runProbesInWorker({
    plan: { tasks: ['niah_single_1'], lengths: [1024, 2048], samples: 3, seed: 'cancel' }, threshold: 85.6, backend, signal: controller.signal,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'prefill') controller.abort();
    },
  });
  assert.equal(result.metadata.cancelled, true);
  assert.equal(backend.started, 1, 'no instance started after the cancel');
  assert.equal(result.instances.length, 0);
  assert.ok(events.some((e) => e.type === 'prefill' && e.doneTokens === 10), 'prefill events travel from the host backend to the worker and back');
});

test('a UserError from the backend reaches the caller with its hint; an aborted signal never starts a worker', async () => {
  const failing = new OracleBackend();
  failing.info = async () => { throw new UserError('Cannot reach http://127.0.0.1:9 (connection refused).', 'Start the server.'); };
  await assert.rejects(runProbesInWorker({ plan: { tasks: ['vt'], lengths: [1024], samples: 1, seed: 's' }, threshold: 85.6, backend: failing, onEvent: () => undefined }),
    (error: unknown) => error instanceof UserError && error.hint === 'Start the server.' && /connection refused/.test(error.message));
  await assert.rejects(runProbesInWorker({ plan: { tasks: ['vt'], lengths: [1024], samples: 1, seed: 's' }, threshold: 85.6, backend: failing, onEvent: () => undefined, signal: AbortSignal.abort() }),
    CancelledError);
});

test('a prompt the backend finds too long crosses the worker as a ContextTooLongError: that length is skipped, the run goes on', async () => {
  const backend = new OracleBackend();
  const answer = backend.generate.bind(backend);
  backend.generate = async (request, onEvent, signal) => {
    const promptChars = request.messages.reduce((sum, m) => sum + m.content.length, 0);
    // the 2K prompts are "too long" for this backend; the 1K ones are answered
    if (promptChars > 6000) throw new ContextTooLongError('http://127.0.0.1:9', 'oracle', 2100, 128, 2048);
    return answer(request, onEvent, signal);
  };
  const result = await runProbesInWorker({
    plan: { tasks: ['vt'], lengths: [1024, 2048], samples: 2, seed: 'overflow' }, threshold: 85.6, backend, onEvent: () => undefined,
  });
  assert.equal(result.metadata.cancelled, false);
  assert.deepEqual(result.scores.map((s) => [s.length, s.score]), [[1024, 100]]);
  const skipped = result.skipped.find((s) => s.length === 2048);
  assert.ok(skipped, 'the 2K length is recorded as skipped');
  assert.equal(skipped.overflow?.backendPromptTokens, 2100);
  assert.match(skipped.reason, /2,100 tokens/);
});
