import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkServer, formatHealthReport } from '../../engine/backends/remote/health';
import { EXTENSION_SETTINGS } from '../../engine/backends/remote/problems';
import { fixturesForThisFile, closedPortUrl, TEST_MODEL } from './fixtures/server';

const serve = fixturesForThisFile();

const base = { settingNames: EXTENSION_SETTINGS, retryBaseMs: 10, requestTimeoutMs: 5000 };

test('a healthy vLLM server passes every step', async () => {
  const fixture = await serve({ flavor: 'vllm', contextLength: 131072 });
  const report = await checkServer({ ...base, url: fixture.url, model: TEST_MODEL }, { packedTokens: 100_000 });
  assert.equal(report.ok, true, JSON.stringify(report.steps, null, 1));
  assert.deepEqual(report.steps.map((s) => [s.name, s.status]), [
    ['Connect', 'ok'], ['Model', 'ok'], ['Context length', 'ok'], ['Token counts', 'ok'], ['Answer', 'ok'],
  ]);
  assert.match(report.steps[2].message, /^131,072 tokens; the packed repository \(100,000 tokens\) fits\.$/);
  assert.match(report.steps[4].message, /first token after \d+\.\d\d s/);
  assert.deepEqual(report.models.map((m) => m.id), [TEST_MODEL]);
  assert.equal(fixture.requests.filter((r) => r.method === 'GET' && r.path === '/v1/models').length, 1, 'the model list is read once');
});

test('refused: the check stops at Connect and says why', async () => {
  const report = await checkServer({ ...base, url: await closedPortUrl() });
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => [s.name, s.status]), [['Connect', 'error']]);
  assert.match(report.steps[0].message, /refused the connection/);
});

test('a bad URL is reported as such', async () => {
  const report = await checkServer({ ...base, url: 'gpu-box:8000' });
  assert.equal(report.steps[0].name, 'Server URL');
  assert.match(report.steps[0].message, /must start with http:\/\/ or https:\/\//);
});

test('401 names the API key and how to set it', async () => {
  const fixture = await serve({ flavor: 'vllm', apiKey: 'secret' });
  const report = await checkServer({ ...base, url: fixture.url });
  assert.equal(report.steps[0].status, 'error');
  assert.match(report.steps[0].message, /HTTP 401/);
  assert.match(report.steps[0].hint ?? '', /ProLong: Configure Server/);
});

test('a model that is not served: lists the served ones', async () => {
  const fixture = await serve({ flavor: 'llama.cpp' });
  const report = await checkServer({ ...base, url: fixture.url, model: 'llama-3-8b' });
  assert.deepEqual(report.steps.map((s) => [s.name, s.status]), [['Connect', 'ok'], ['Model', 'error']]);
  assert.match(report.steps[1].message, new RegExp(`does not serve the model "llama-3-8b"; it serves "${TEST_MODEL}"`));
  assert.match(report.steps[1].hint ?? '', /prolong\.server\.model/);
});

test('a context shorter than the packed repository is an error with the budget to set', async () => {
  const fixture = await serve({ flavor: 'llama.cpp', contextLength: 32768 });
  const report = await checkServer({ ...base, url: fixture.url }, { packedTokens: 40_000, answerTokens: 1024, tryGeneration: false });
  const step = report.steps.find((s) => s.name === 'Context length')!;
  assert.equal(step.status, 'error');
  assert.equal(step.message, 'The packed repository is 40,000 tokens, but the server holds 32,768 tokens (with 1,024 kept for the answer).');
  assert.match(step.hint ?? '', /prolong\.pack\.tokenBudget to at most 31,744/);
  assert.equal(report.ok, false);
});

test('the health report reads as one line per step, hints indented', () => {
  const lines = formatHealthReport({ server: 'http://h:1', ok: false, models: [], steps: [
    { name: 'Connect', status: 'ok', message: 'answered.' },
    { name: 'Model', status: 'error', message: 'not served.', hint: 'Pick another.' },
  ] });
  assert.deepEqual(lines, ['Server http://h:1: not ready', '  ✓ Connect: answered.', '  ✗ Model: not served.', '      Pick another.']);
});
