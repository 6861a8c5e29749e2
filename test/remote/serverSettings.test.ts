import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteBackendOptions } from '../../engine/backends/factory';
import { apiKeySecretName, backendChoice, displayUrl, guardExtraHeaders, readServerSettings } from '../../extension/server/serverSettings';

test('settings are read with defaults, and an Authorization header in extraHeaders is dropped with a warning', () => {
  const values: Record<string, unknown> = {
    url: ' http://gpu-box:8000 ', model: 'prolong', requestTimeoutSeconds: 0,
    extraHeaders: { 'X-Route': 'a100', Authorization: 'Bearer leaked', 'X-Bad': 7 }, api: 'nonsense',
  };
  const { settings, warnings } = readServerSettings((name) => values[name]);
  assert.deepEqual(settings, { url: 'http://gpu-box:8000', model: 'prolong', requestTimeoutSeconds: 600, extraHeaders: { 'x-route': 'a100' }, api: 'chat' });
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /Authorization header; it is ignored.*secret storage/);
  assert.ok(!warnings.join(' ').includes('leaked'), 'the value never appears in messages');
  assert.match(warnings[1], /\["X-Bad"\] is not a string/);
});

test('the API key is stored per server origin, so it is never sent to another server', () => {
  assert.equal(apiKeySecretName('http://gpu-box:8000/v1'), 'prolong.server.apiKey:http://gpu-box:8000');
  assert.equal(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('http://gpu-box:8000/'));
  assert.notEqual(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('http://other:8000'));
  assert.notEqual(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('https://gpu-box:8000'));
});

test('the backend choice carries the timeout in ms and names the extension settings in hints', () => {
  const options = remoteBackendOptions(backendChoice({ url: 'http://h:1', model: '', requestTimeoutSeconds: 30, extraHeaders: {}, api: 'completions' }, '', ''));
  assert.equal(options.requestTimeoutMs, 30_000);
  assert.equal(options.model, undefined);
  assert.equal(options.apiKey, undefined);
  assert.equal(options.api, 'completions');
  assert.match(options.settingNames.url, /prolong\.server\.url/);
});

test('extra headers from the user\'s settings are not sent to a server a workspace points at', () => {
  const read = () => readServerSettings((name) => ({ url: 'http://elsewhere:9000', extraHeaders: { 'x-api-key': 'GATEWAY-SECRET' } } as Record<string, unknown>)[name]).settings;
  const redirected = read();
  const warning = guardExtraHeaders(redirected, { userUrl: 'https://gpu-gw.corp', urlFromWorkspace: true, headersFromWorkspace: false });
  assert.deepEqual(redirected.extraHeaders, {});
  assert.match(warning ?? '', /prolong\.server\.url to http:\/\/elsewhere:9000; the extra headers from your user settings/);
  // the same origin as the user's own URL, headers set by the workspace itself, or a URL from the user: sent
  for (const sources of [
    { userUrl: 'http://elsewhere:9000/v1', urlFromWorkspace: true, headersFromWorkspace: false },
    { userUrl: 'https://gpu-gw.corp', urlFromWorkspace: true, headersFromWorkspace: true },
    { userUrl: 'http://elsewhere:9000', urlFromWorkspace: false, headersFromWorkspace: false },
  ]) {
    const settings = read();
    assert.equal(guardExtraHeaders(settings, sources), undefined);
    assert.deepEqual(settings.extraHeaders, { 'x-api-key': 'GATEWAY-SECRET' });
  }
});

test('a server URL is shown without the user name and password it may carry', () => {
  assert.equal(displayUrl('https://me:s3cret@gpu-box:8000/v1'), 'https://gpu-box:8000/v1');
  assert.equal(displayUrl('http://gpu-box:8000'), 'http://gpu-box:8000');
  assert.equal(displayUrl('not a url'), 'not a url');
});
