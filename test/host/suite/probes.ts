/**
 * The Probes panel in a real VS Code: scripted backends (through the extension API's overrideBackend) answer a
 * tiny probe set run in the worker thread; the browser (the harness's UI bridge) reads the panel and clicks Cancel.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../../../engine/backends/types';
import { parseProbeResults } from '../../../engine/probes/results';
import type { ProbeRunResult } from '../../../engine/probes/types';
import type { ProbesViewState } from '../../../webview/probes/protocol';
import { OracleBackend } from '../../probes/scriptedBackends';
import { startFixture } from '../../remote/fixtures/server';
import { api, hostTest } from './hostTest';
import { ui } from './ui';

const QUICK_INPUT = '.quick-input-widget .quick-input-box input';
const QUICK_LIST = '.quick-input-widget .quick-input-list';

/** The Probes webview's inner frame is the one with the panel's header. */
const FRAME = '.probes-header';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The oracle (answers every probe right from the prompt alone) behind a server with a small context. */
class SmallContextOracle extends OracleBackend {
  constructor(private readonly contextLength = 3000) { super(); }
  override async info(): Promise<BackendInfo> {
    return { ...(await super.info()), kind: 'remote', contextLength: this.contextLength, detail: `scripted oracle, ${this.contextLength.toLocaleString('en-US')}-token context` };
  }
}

/** Reports prefill progress, then holds the request until it is aborted (a server busy with a long prompt). */
class HoldingBackend implements Backend {
  started = 0;
  aborted = 0;
  async info(): Promise<BackendInfo> { return { kind: 'remote', model: 'holding', detail: 'holds every request until cancelled' }; }
  async countPromptTokens(): Promise<PromptTokenCount> { return { tokens: 0, exact: false }; }
  generate(_request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    this.started++;
    onEvent({ type: 'prefill', doneTokens: 300, totalTokens: 900, reusedTokens: 0 });
    return new Promise((resolve) => signal?.addEventListener('abort', () => {
      this.aborted++;
      resolve({ text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, totalMs: 1, warnings: [] });
    }, { once: true }));
  }
  async dispose(): Promise<void> {}
}

let saved: ProbeRunResult | undefined;
/** The finished run of the first probes test (the panel tests show it). */
export const finishedRun = (): ProbeRunResult | undefined => saved;

hostTest('Probes: with the local engine the lengths are capped by prolong.engine.contextTokens before any model loads', async () => {
  const prolong = await api();
  prolong.overrideBackend(undefined);
  const config = vscode.workspace.getConfiguration('prolong');
  const modelDir = mkdtempSync(join(tmpdir(), 'prolong-no-model-'));
  // a sidecar only: the backend is built, and nothing here may load a model
  writeFileSync(join(modelDir, 'prolong_model.json'), '{}');
  try {
    await config.update('backend', 'local', vscode.ConfigurationTarget.Workspace);
    await config.update('engine.modelPath', modelDir, vscode.ConfigurationTarget.Workspace);
    await config.update('engine.contextTokens', 10_000, vscode.ConfigurationTarget.Workspace);
    const picking = vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes', { tasks: 'vt' });
    await ui({ action: 'waitForText', selector: '.quick-input-widget .quick-input-title', text: '(2/4): lengths' });
    assert.equal((await ui({ action: 'count', selector: '.quick-input-widget .quick-input-list .monaco-list-row' })).count, 2, '4K and 8K fit 10,000 tokens');
    await ui({ action: 'press', selector: '.quick-input-widget .quick-input-box input', key: 'Escape' });
    assert.equal(await picking, undefined);
  } finally {
    await config.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('engine.modelPath', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('engine.contextTokens', undefined, vscode.ConfigurationTarget.Workspace);
  }
});

hostTest('Probes: the quick picks offer task groups, then only the lengths that fit the backend, saying which were left out', async () => {
  const prolong = await api();
  const backend = new SmallContextOracle(20_000);
  prolong.overrideBackend(backend);
  try {
    const picking = vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes');
    await ui({ action: 'waitForText', selector: '.quick-input-widget .quick-input-title', text: '(1/4): tasks · on remote · oracle' });
    assert.equal((await ui({ action: 'count', selector: '.quick-input-widget .quick-input-list .monaco-list-row' })).count, 5, 'all, RULER, NIAH, recall, custom');
    await ui({ action: 'fill', selector: '.quick-input-widget .quick-input-box input', value: 'Recall' });
    await ui({ action: 'press', selector: '.quick-input-widget .quick-input-box input', key: 'Enter' });
    await ui({ action: 'waitForText', selector: '.quick-input-widget .quick-input-title', text: '(2/4): lengths' });
    assert.equal((await ui({ action: 'count', selector: '.quick-input-widget .quick-input-list .monaco-list-row' })).count, 3, '4K, 8K and 16K fit 20,000 tokens');
    await ui({ action: 'waitForText', selector: '.quick-input-widget .quick-input-title', text: '32K, 64K, 128K, 256K, 512K left out: the backend\'s context is 20,000 tokens.' });
    await ui({ action: 'press', selector: '.quick-input-widget .quick-input-box input', key: 'Escape' });
    assert.equal(await picking, undefined, 'escaping a pick runs nothing');
    assert.equal(backend.requests.length, 0);
  } finally {
    prolong.overrideBackend(undefined);
  }
});

hostTest('Probes: Run Context Probes runs in a worker against the active backend; the panel shows progress, scores, curve and heatmap', async () => {
  const prolong = await api();
  const backend = new SmallContextOracle();
  prolong.overrideBackend(backend);
  try {
    const result = await vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes',
      { tasks: ['niah_single_1', 'vt', 'needle_heatmap', 'code_needle'], lengths: ['1k', '2k', '4k'], samples: 1, seed: 'host' });
    assert.ok(result, 'the command returns the results');
    assert.deepEqual(result.metadata.lengths, [1024, 2048], '4K is left out: the backend holds 3,000 tokens');
    assert.equal(backend.requests.length, (1 + 1 + 10) * 2, 'every instance was answered by the overriding backend');
    saved = result;
    // The workspace was packed for the code haystack; its five small files cannot fill 1K, and the skip says so.
    assert.deepEqual(result.skipped.map((s) => [s.task, s.length]), [['code_needle', 1024], ['code_needle', 2048]]);
    assert.match(result.skipped[0]!.reason, /^only \d+ of 1024 tokens could be filled \(the haystack source is too short\)$/);
    assert.deepEqual(result.scores.map((s) => [s.task, s.length, s.score]), [
      ['niah_single_1', 1024, 100], ['vt', 1024, 100], ['needle_heatmap', 1024, 100], ['niah_single_1', 2048, 100], ['vt', 2048, 100], ['needle_heatmap', 2048, 100],
    ]);
    assert.equal(result.ruler.effectiveLength, 2048);
    assert.equal(result.metadata.backend.model, 'oracle');

    await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'done' });
    await ui({ action: 'waitForText', frame: FRAME, selector: '#announce[aria-live="polite"]', text: 'Probes done.' });
    assert.match((await ui({ action: 'text', frame: FRAME, selector: '#effective-summary' })).text ?? '', /^Effective length: 2K, .* 2 RULER tasks stays at or above 85\.6\.$/);
    assert.match((await ui({ action: 'text', frame: FRAME, selector: '#notes' })).text ?? '', /4K left out: the backend's context is 3,000 tokens\./);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'table.heatmap[data-task="needle_heatmap"] td.score' })).count, 20);
    // skipped at every length: one line with the reason, not a grid of dashes
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'table.heatmap[data-task="code_needle"]' })).count, 0);
    await ui({ action: 'waitForText', frame: FRAME, selector: '.heatmap-skipped[data-task="code_needle"]', text: 'could be filled' });
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'svg.curve-chart circle.measured' })).count, 2);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'table.scores td.final' })).count, 2 * 2 + 2, 'two tasks and the RULER average at two lengths');
    assert.match((await ui({ action: 'text', frame: FRAME, selector: 'progress + span' })).text ?? '', /^44 \/ 44 instances \(100%\): 24 answered, 20 skipped$/);
    // The Instances tab can list only the misses (the oracle has none).
    await ui({ action: 'click', frame: FRAME, selector: '#tab-instances' });
    await ui({ action: 'waitForText', frame: FRAME, selector: '#instances caption', text: '24 finished instances, newest first' });
    await ui({ action: 'click', frame: FRAME, selector: '#misses' });
    await ui({ action: 'waitForText', frame: FRAME, selector: '#instances', text: 'All 24 finished instances scored 100.' });
    await ui({ action: 'click', frame: FRAME, selector: '#misses' });
    await ui({ action: 'click', frame: FRAME, selector: '#tab-results' });
    // The run is kept in the extension's storage (the panel restores it after a reload): Run Details names the file.
    const file = /file(\/\S+probe-runs\/\S+-oracle\.json)/.exec((await ui({ action: 'text', frame: FRAME, selector: '#details' })).text ?? '')?.[1];
    assert.ok(file, 'Run Details shows the kept file');
    assert.equal(parseProbeResults(readFileSync(file, 'utf8'), file).metadata.seed, 'host');
  } finally {
    prolong.overrideBackend(undefined);
  }
});

hostTest('Probes: Cancel in the panel aborts the request in flight and ends the run with its partial results', async () => {
  const prolong = await api();
  const backend = new HoldingBackend();
  prolong.overrideBackend(backend);
  try {
    const running = vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes', { tasks: 'niah_single_1', lengths: ['1k', '2k'], samples: 3, seed: 'c' });
    const deadline = Date.now() + 30_000;
    while (backend.started === 0) {
      if (Date.now() > deadline) throw new Error('no request reached the backend');
      await sleep(50);
    }
    await ui({ action: 'waitForText', frame: FRAME, selector: '#progress', text: 'prefill 300 / 900 tokens' });
    await ui({ action: 'click', frame: FRAME, selector: '#cancel' });
    const result = await running;
    assert.ok(result, 'a cancelled run still returns what it has');
    assert.equal(result.metadata.cancelled, true);
    assert.equal(backend.aborted, 1, 'the request in flight saw its signal');
    assert.equal(backend.started, 1, 'nothing started after the cancel');
    assert.equal(result.instances.length, 0);
    await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'cancelled' });
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '#cancel[hidden]' })).count, 1, 'Cancel is hidden once stopped');
  } finally {
    prolong.overrideBackend(undefined);
  }
});

hostTest('Probes: Save Results writes the JSON and the CSV beside it; Open Results shows a saved file', async () => {
  assert.ok(saved, 'the first probes test ran');
  // The cancelled run above is the panel's current result: save it, then open the finished one saved by hand.
  const dir = mkdtempSync(join(tmpdir(), 'prolong-probes-host-'));
  const target = vscode.Uri.file(join(dir, 'cancelled.json'));
  const written = await vscode.commands.executeCommand<vscode.Uri[] | undefined>('prolong.saveProbeResults', target);
  assert.deepEqual(written?.map((uri) => uri.fsPath), [join(dir, 'cancelled.json'), join(dir, 'cancelled.csv')]);
  const cancelled = parseProbeResults(readFileSync(join(dir, 'cancelled.json'), 'utf8'), 'cancelled.json');
  assert.equal(cancelled.metadata.cancelled, true);
  assert.equal(cancelled.metadata.backend.model, 'holding');
  assert.match(readFileSync(join(dir, 'cancelled.csv'), 'utf8'), /^kind,task,length,depth_percent,samples,score\n/);

  const finished = vscode.Uri.file(join(dir, 'finished.json'));
  await vscode.workspace.fs.writeFile(finished, new TextEncoder().encode(JSON.stringify(saved)));
  const state = await vscode.commands.executeCommand<ProbesViewState | undefined>('prolong.openProbeResults', finished);
  assert.equal(state?.phase, 'loaded');
  assert.equal(state?.file, finished.fsPath);
  await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'from file' });
  await ui({ action: 'click', frame: FRAME, selector: '#tab-details' });
  assert.match((await ui({ action: 'text', frame: FRAME, selector: '#details' })).text ?? '', /seedhost.*suite versionprolong-probes\/1/s);

  // Compare: never the run shown with itself; another saved run's RULER average joins the chart and the table.
  const itself = await vscode.commands.executeCommand<ProbesViewState | undefined>('prolong.compareProbeResults', finished);
  assert.deepEqual(itself?.comparisons, [], 'the run shown is not compared with itself');
  const other = vscode.Uri.file(join(dir, 'other.json'));
  await vscode.workspace.fs.writeFile(other, new TextEncoder().encode(JSON.stringify({ ...saved, metadata: { ...saved.metadata, startedAt: '2026-01-02T03:04:05.000Z' } })));
  const compared = await vscode.commands.executeCommand<ProbesViewState | undefined>('prolong.compareProbeResults', other);
  assert.deepEqual(compared?.comparisons.map((c) => c.label), ['oracle · 2026-01-02 · 1K/2K'], 'labelled by model, date and lengths');
  await ui({ action: 'click', frame: FRAME, selector: '#tab-results' });
  await ui({ action: 'waitForText', frame: FRAME, selector: 'table.scores', text: '(saved run, RULER average)' });
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'svg.curve-chart circle.comparison' })).count, 2);
  await ui({ action: 'click', frame: FRAME, selector: '#clear-comparisons' });
  await ui({ action: 'waitForText', frame: FRAME, selector: '#clear-comparisons[hidden]', text: '' });
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: 'svg.curve-chart circle.comparison' })).count, 0);

  // Copy Summary puts the CLI's text tables on the clipboard.
  await ui({ action: 'click', frame: FRAME, selector: '#copy' });
  let clipboard = '';
  for (let tries = 0; tries < 50 && !clipboard.startsWith('model oracle'); tries++) {
    clipboard = await vscode.env.clipboard.readText();
    await sleep(100);
  }
  assert.match(clipboard, /^model oracle \(remote: scripted oracle, 3,000-token context\)\n/);
  assert.match(clipboard, /effective length \(RULER average >= 85\.6\): 2K/);

  // Hidden, then shown again: the webview reloads and the extension repaints it from its state.
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: 'hide the panel' }), { viewColumn: vscode.ViewColumn.Active });
  for (let tries = 0; (await ui({ action: 'count', frame: FRAME, selector: '#phase' })).count !== 0; tries++) {
    if (tries > 50) throw new Error('the hidden panel kept its webview');
    await sleep(100);
  }
  await vscode.commands.executeCommand('prolong.showProbes');
  await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'from file' });
  await ui({ action: 'waitForText', frame: FRAME, selector: '#effective-summary', text: 'Effective length: 2K' });

  const broken = vscode.Uri.file(join(dir, 'broken.json'));
  await vscode.workspace.fs.writeFile(broken, new TextEncoder().encode('{"metadata": {}}'));
  assert.equal(await vscode.commands.executeCommand('prolong.openProbeResults', broken), undefined, 'a file that is not probe results is refused');
  await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'from file' });

  // Open without a file: the kept runs by model, date and lengths, before any file dialog
  const opening = vscode.commands.executeCommand<ProbesViewState | undefined>('prolong.openProbeResults');
  await ui({ action: 'waitForText', selector: QUICK_LIST, text: 'Browse…' });
  await ui({ action: 'fill', selector: QUICK_INPUT, value: 'oracle' });
  await ui({ action: 'waitForText', selector: QUICK_LIST, text: '1K/2K · 4 tasks' });
  await ui({ action: 'press', selector: QUICK_INPUT, key: 'Enter' });
  const reopened = await opening;
  assert.equal(reopened?.result?.metadata.backend.model, 'oracle', 'the picked kept run is open');
  assert.match(reopened?.file ?? '', /probe-runs[\\/][^\\/]+-oracle\.json$/, 'from the kept runs');
});

hostTest('Probes: with a server in the settings the real remote backend answers; Cancel closes its HTTP request', async () => {
  const prolong = await api();
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 1500, answer: 'The special magic number is 0000000.', prefillMs: 10, pieceMs: 10 });
  const config = vscode.workspace.getConfiguration('prolong');
  prolong.overrideBackend(undefined);
  try {
    await config.update('server.url', fixture.url, vscode.ConfigurationTarget.Workspace);
    const result = await vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes', { tasks: 'niah_single_1', lengths: ['1k', '2k'], samples: 1, seed: 'remote' });
    assert.ok(result);
    assert.equal(result.metadata.backend.kind, 'remote');
    assert.equal(result.metadata.backend.contextLength, 1500);
    assert.deepEqual(result.metadata.lengths, [1024], "2K is left out: the server's context is 1,500 tokens");
    assert.equal(result.instances[0]!.prediction, 'The special magic number is 0000000.');
    const sent = fixture.requests.filter((r) => r.path === '/v1/chat/completions');
    assert.equal(sent.length, 1);
    assert.match(sent[0]!.body, /mentioned in the provided text is/, 'RULER\'s answer prefix reaches the server');
    // The fixture counts whitespace pieces, not Llama 3 tokens: the panel shows the run's warning about it.
    await ui({ action: 'waitForText', frame: FRAME, selector: '.warnings summary', text: '1 warning' });
    // an opened warnings list stays open while other parts of the panel change (here: a new threshold)
    await ui({ action: 'click', frame: FRAME, selector: '.warnings summary' });
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.warnings[open]' })).count, 1);
    await config.update('probes.threshold', 42, vscode.ConfigurationTarget.Workspace);
    await ui({ action: 'waitForText', frame: FRAME, selector: '#details', text: '42' });
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.warnings[open]' })).count, 1, 'the warnings list stayed open');
    await config.update('probes.threshold', undefined, vscode.ConfigurationTarget.Workspace);

    fixture.faults.push({ kind: 'stall', afterPieces: 0 });
    const running = vscode.commands.executeCommand<ProbeRunResult | undefined>('prolong.runProbes', { tasks: 'niah_single_1', lengths: ['1k'], samples: 2, seed: 'remote-cancel' });
    const deadline = Date.now() + 30_000;
    while (fixture.requests.filter((r) => r.path === '/v1/chat/completions').length < 2) {
      if (Date.now() > deadline) throw new Error('the second run sent no request');
      await sleep(50);
    }
    await vscode.commands.executeCommand('prolong.cancelProbes');
    const cancelled = await running;
    assert.equal(cancelled?.metadata.cancelled, true);
    assert.equal(cancelled?.instances.length, 0);
    while (fixture.clientAborts < 1) {
      if (Date.now() > deadline) throw new Error('the server never saw the request closed');
      await sleep(50);
    }
    await ui({ action: 'waitForText', frame: FRAME, selector: '#phase', text: 'cancelled' });
  } finally {
    await config.update('server.url', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('probes.threshold', undefined, vscode.ConfigurationTarget.Workspace);
    await fixture.close();
  }
});
