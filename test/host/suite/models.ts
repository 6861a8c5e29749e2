/**
 * Models in a real VS Code, against a fixture Hugging Face Hub on 127.0.0.1 (HF_ENDPOINT and HF_HUB_CACHE set in the
 * extension host's environment): Select Model → Download a model… → a typed ORG/NAME → dtype, a progress notification
 * that Cancel stops (the partial download kept), then the download again, converted and made current, and a question
 * answered by the bundled engine on it.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomShapes, writeRandomCheckpoint } from '../../../kernels/randomCheckpoint';
import { resolveTokenizerPath } from '../../../engine/tokenizer';
import { FixtureHub } from '../../models/fixtureHub';
import { api, hostTest, log } from './hostTest';
import { ui } from './ui';
import type { ProbeRunResult } from '../../../engine/probes/types';

const QUICK_INPUT = '.quick-input-widget .quick-input-box input';
const QUICK_LIST = '.quick-input-widget .quick-input-list';
const FRAME = '.ask-input';

async function choose(filter: string, expect: string): Promise<void> {
  await ui({ action: 'fill', selector: QUICK_INPUT, value: filter });
  await ui({ action: 'waitForText', selector: QUICK_LIST, text: expect });
  await ui({ action: 'press', selector: QUICK_INPUT, key: 'Enter' });
}

/** Waits until a blobs/*.incomplete file in `blobs` holds `bytes` bytes. */
async function waitForPartial(blobs: string, bytes: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let size = 0;
  while (Date.now() < deadline) {
    const partial = existsSync(blobs) ? readdirSync(blobs).find((b) => b.endsWith('.incomplete')) : undefined;
    size = partial ? statSync(join(blobs, partial)).size : 0;
    if (size >= bytes) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the stalled download held ${size} of ${bytes} bytes after ${timeoutMs} ms`);
}

hostTest('Models: Select Model → Download a model… shows progress and cancels, then downloads, converts, becomes current and answers', async () => {
  const prolong = await api();
  const work = mkdtempSync(join(tmpdir(), 'prolong-host-models-'));
  const repo = 'fixture-org/tiny-llama3';
  const checkpoint = join(work, 'checkpoint');
  writeRandomCheckpoint(checkpoint, { ...randomShapes['tiny-llama3'], maxPositionEmbeddings: 4096 }, 3,
    { dtype: 'BF16', tokenizerJson: resolveTokenizerPath(), bosTokenId: 128000, eosTokenIds: [128001, 128008, 128009] });
  const hub = new FixtureHub();
  hub.addRepo(repo, checkpoint);
  await hub.start();
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_TOKEN: process.env.HF_TOKEN, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
  const cache = join(work, 'hf-cache');
  Object.assign(process.env, { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache });
  delete process.env.HF_TOKEN; delete process.env.HF_HUB_OFFLINE;
  const config = vscode.workspace.getConfiguration('prolong');
  prolong.overrideBackend(undefined); // the Ask tests' scripted backend must not answer for the engine
  try {
    // 1. through the picker, stalled mid-file: the notification shows the download; Cancel stops it
    hub.faults = { stall: { path: 'model.safetensors', afterBytes: 1_000_000 } };
    const picking = vscode.commands.executeCommand('prolong.selectModel');
    await ui({ action: 'waitForText', selector: QUICK_LIST, text: 'Download a model' });
    await choose('Download a model', 'Download a model');
    await ui({ action: 'waitForText', selector: QUICK_LIST, text: 'princeton-nlp/Llama-3-8B-ProLong-512k-Instruct' });
    await choose(repo, 'download this repository');
    await ui({ action: 'waitForText', selector: QUICK_LIST, text: 'auto (fp16)' });
    await choose('auto', 'auto (fp16)'); // the default: fp16 here, whose float16 KV cache runs on code-server's Node 24
    // the progress notification, in the notification center (toasts are not shown in this headless window)
    await vscode.commands.executeCommand('notifications.showList');
    try {
      await ui({ action: 'waitForText', selector: '.notifications-center', text: 'downloading', timeoutMs: 30_000 });
    } catch (error) {
      log(`hub requests: ${hub.requests.map((r) => `${r.method} ${r.url} ${r.range ?? ''}`).join(' | ')}`);
      if (process.env.PROLONG_HOST_SHOT) await ui({ action: 'screenshot', selector: 'body', path: process.env.PROLONG_HOST_SHOT });
      throw error;
    }
    // Cancel once the stalled file holds its first 1,000,000 bytes: "downloading" shows before the bytes reach the disk
    const blobs = join(cache, 'models--fixture-org--tiny-llama3', 'blobs');
    await waitForPartial(blobs, 1_000_000, 30_000);
    await ui({ action: 'click', selector: '.notifications-center .monaco-button:has-text("Cancel")' });
    await picking;
    await vscode.commands.executeCommand('notifications.hideList');
    const partial = readdirSync(blobs).find((b) => b.endsWith('.incomplete'));
    assert.ok(partial, 'the partial download is kept for resume');
    const keptBytes = statSync(join(blobs, partial)).size;
    assert.equal(keptBytes, 1_000_000, 'the partial download holds what came before the stall');
    assert.equal(vscode.workspace.getConfiguration('prolong.engine').get<string>('modelPath') ?? '', '', 'a cancelled download sets no model');

    // 2. again: resumes, converts, and the model becomes current
    hub.faults = {};
    hub.requests.length = 0;
    await vscode.commands.executeCommand('prolong.downloadModel', repo, 'fp16');
    assert.ok(hub.requests.some((r) => r.range === `bytes=${keptBytes}-`),
      `the download resumed where it stopped (byte ${keptBytes}); ranges asked: ${hub.requests.map((r) => r.range ?? 'none').join(', ')}`);
    const modelPath = vscode.workspace.getConfiguration('prolong.engine').get<string>('modelPath') ?? '';
    assert.match(modelPath, /models[\\/]fixture-org--tiny-llama3--fp16$/);
    assert.ok(existsSync(join(modelPath, 'prolong_model.json')));
    assert.equal(vscode.workspace.getConfiguration('prolong').get('backend'), 'local');

    // 3. the bundled engine answers on it (an fp16 model: its float16 KV cache once failed on Node 24, engine/runtime/ort.ts)
    await config.update('engine.executionProvider', 'cpu', vscode.ConfigurationTarget.Workspace);
    await config.update('ask.maxAnswerTokens', 4, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('prolong.askAboutWorkspace');
    await ui({ action: 'click', frame: FRAME, selector: '#new-conversation' });
    await ui({ action: 'fill', frame: FRAME, selector: '#question textarea', value: 'What does main.ts print?' });
    await ui({ action: 'press', frame: FRAME, selector: '#question textarea', key: 'Enter' });
    try {
      await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="length"] .stats', text: '4 answer tokens', timeoutMs: 90_000 });
    } catch (error) {
      log(`last turn: ${(await ui({ action: 'text', frame: FRAME, selector: '.turn:last-child' })).text}`);
      throw error;
    }
  } finally {
    hub.faults = {};
    for (const [name, value] of Object.entries(saved)) { if (value === undefined) delete process.env[name]; else process.env[name] = value; }
    for (const name of ['backend', 'engine.modelPath', 'engine.executionProvider', 'ask.maxAnswerTokens']) {
      await config.update(name, undefined, vscode.ConfigurationTarget.Workspace);
      await config.update(name, undefined, vscode.ConfigurationTarget.Global);
    }
    await hub.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

hostTest('With no settings at all, Probes run on the bundled demo model (local engine) and say what it is: two needle tasks score above zero', async () => {
  const prolong = await api();
  prolong.overrideBackend(undefined);
  const config = vscode.workspace.getConfiguration('prolong');
  for (const name of ['backend', 'engine.modelPath', 'engine.executionProvider', 'server.url']) {
    const values = config.inspect(name);
    assert.equal(values?.workspaceValue ?? values?.globalValue, undefined, `${name} is not set`);
  }
  const result = await vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes',
    { tasks: ['niah_single_1', 'niah_single_2'], lengths: ['1k'], samples: 3, seed: 'eval' });
  assert.ok(result, 'the command returns the results');
  assert.equal(result.metadata.error, undefined);
  assert.equal(result.metadata.backend.kind, 'local');
  assert.equal(result.metadata.backend.model, 'prolong-demo-38m');
  const scores = result.scores.map((s) => [s.task, s.length, s.score] as const);
  log(`demo model scores: ${JSON.stringify(scores)}`);
  assert.deepEqual(scores.map(([task, length]) => [task, length]), [['niah_single_1', 1024], ['niah_single_2', 1024]]);
  for (const [task, , score] of scores) assert.ok(score > 0, `${task} scored ${score}: ${JSON.stringify(result.instances.map((i) => i.prediction))}`);
  await ui({ action: 'waitForText', frame: '.probes-header', selector: '#phase', text: 'done' });
  await ui({ action: 'waitForText', frame: '.probes-header', selector: '#notes', text: 'small demo model' });
});
