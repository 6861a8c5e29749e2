import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { CLI_SETTINGS } from '../../engine/backends/remote/problems';
import { CancelledError, UserError } from '../../engine/errors';

const MODEL = 'test-model';

/** A server whose /v1/models answers only when the test releases it, with the bodies queued in `answers`. */
async function gatedServer(answers: unknown[]) {
  const waiting: (() => void)[] = [];
  let modelRequests = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/v1/models') {
      modelRequests++;
      const body = JSON.stringify(answers.shift() ?? { object: 'list', data: [{ id: MODEL, object: 'model', max_model_len: 4096 }] });
      waiting.push(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"detail":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const until = async (check: () => boolean) => { while (!check()) await new Promise((resolve) => setImmediate(resolve)); };
  return {
    url,
    get modelRequests() { return modelRequests; },
    /** Waits for a /v1/models request to arrive, then answers it. */
    async release() { await until(() => waiting.length > 0); waiting.shift()!(); },
    async arrived(count: number) { await until(() => modelRequests >= count); },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

test('one caller cancelling while the model is discovered does not cancel the others waiting for it', async (t) => {
  const server = await gatedServer([]);
  t.after(() => server.close());
  const backend = new RemoteBackend({ url: server.url, settingNames: CLI_SETTINGS, retryBaseMs: 10 });
  const first = new AbortController();
  const cancelled = backend.info(first.signal);
  const waiting = backend.info();
  await server.arrived(1);
  first.abort();
  await assert.rejects(cancelled, CancelledError);
  await server.release();
  const info = await waiting;
  assert.equal(info.model, MODEL);
  assert.equal(info.contextLength, 4096);
  assert.equal(server.modelRequests, 1, 'both callers shared one discovery');
  await backend.info();
  assert.equal(server.modelRequests, 1, 'a finished discovery is kept');
  await backend.dispose();
});

test('a failed discovery is not kept: the next call asks the server again', async (t) => {
  const server = await gatedServer([{ unexpected: true }]);
  t.after(() => server.close());
  const backend = new RemoteBackend({ url: server.url, settingNames: CLI_SETTINGS, retryBaseMs: 10 });
  const failing = backend.info();
  await server.release();
  await assert.rejects(failing, UserError);
  const retry = backend.info();
  await server.release();
  assert.equal((await retry).model, MODEL);
  assert.equal(server.modelRequests, 2);
  await backend.dispose();
});

test('dispose stops a discovery nobody cancelled', async (t) => {
  const server = await gatedServer([]);
  t.after(() => server.close());
  const backend = new RemoteBackend({ url: server.url, settingNames: CLI_SETTINGS, retryBaseMs: 10 });
  const waiting = backend.info();
  await server.arrived(1);
  await backend.dispose();
  await assert.rejects(waiting, CancelledError);
});
