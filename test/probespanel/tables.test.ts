import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFERENCE_CURVES } from '../../engine/probes/effectiveLength';
import { initialState, reduce, heatmapViews } from '../../webview/probes/state';
import { heatmapHtml, instancesTableHtml, scoreHue, scoreTableHtml } from '../../webview/probes/tables';
import { detailsHtml, effectiveSummary, progressHtml, resultsHtml } from '../../webview/probes/views';
import { OracleBackend, SilentBackend } from '../probes/scriptedBackends';
import { checkBalanced, recordRun } from './fixtures';

test('heatmap cells carry their depth, length and score in words, and a color that follows the score', async () => {
  const run = await recordRun(new OracleBackend(), ['needle_heatmap'], [1024, 2048]);
  const state = reduce(reduce(initialState(85.6), { type: 'run-started', plan: run.plan, backend: 'b', notes: [], threshold: 85.6 }), { type: 'finished', result: run.result });
  const [view] = heatmapViews(state);
  const html = heatmapHtml(view!);
  checkBalanced(html);
  assert.match(html, /<caption>Needle grid \(Fu et al\.\): score by needle depth and length<\/caption>/);
  const labels = [...html.matchAll(/aria-label="(depth \d+%, \d+K: [\d.]+ \(1 sample\))"/g)].map((m) => m[1]);
  assert.equal(labels.length, 20, 'one labelled cell per depth and length');
  assert.ok(labels.includes('depth 0%, 1K: 100.0 (1 sample)') && labels.includes('depth 100%, 2K: 100.0 (1 sample)'));
  assert.equal([...html.matchAll(/<th scope="row">(\d+)%<\/th>/g)].map((m) => Number(m[1])).join(','), '0,11,22,33,44,56,67,78,89,100');
  // A length the task was skipped at says why in every cell of its column; lengths not run yet stay pending.
  const started = reduce(initialState(85.6), { type: 'run-started', plan: run.plan, backend: 'b', notes: [], threshold: 85.6 });
  const [skippedView] = heatmapViews(reduce(started, { type: 'probe', event: { type: 'skipped', skipped: { task: 'needle_heatmap', length: 2048, reason: 'too <long>' } } }));
  assert.deepEqual(skippedView!.skipped, [undefined, 'too <long>']);
  const withSkip = heatmapHtml(skippedView!);
  checkBalanced(withSkip);
  assert.equal((withSkip.match(/aria-label="depth \d+%, 2K: skipped, too &lt;long&gt;">–</g) ?? []).length, 10);
  assert.equal((withSkip.match(/aria-label="depth \d+%, 1K: not run">·</g) ?? []).length, 10);
  assert.match(withSkip, /<ul class="skip-reasons"><li>skipped at 2K: too &lt;long&gt;<\/li><\/ul>$/, 'the reason in words under the grid');
  // skipped at every length: one line and the reasons, not a grid of dashes
  const allSkipped = heatmapHtml({ ...skippedView!, skipped: ['too long', 'too long'] });
  checkBalanced(allSkipped);
  assert.doesNotMatch(allSkipped, /<table/);
  assert.match(allSkipped, /Needle grid \(Fu et al\.\): not run\.<\/p><ul class="skip-reasons"><li>skipped at 1K: too long<\/li><li>skipped at 2K: too long<\/li>/);
  assert.ok(scoreHue(0) < scoreHue(50) && scoreHue(50) < scoreHue(100));
  assert.equal(scoreHue(150), scoreHue(100));
});

test('the score table marks scores so far, final scores, skipped cells, the RULER average and the references', async () => {
  const run = await recordRun(new SilentBackend(), ['niah_single_1', 'json_kv'], [1024], 2);
  let state = reduce(initialState(85.6), { type: 'run-started', plan: { ...run.plan, lengths: [1024, 4096] }, backend: 'b', notes: [], threshold: 85.6 });
  const firstFinished = run.events.findIndex((e) => e.type === 'instance-finished');
  for (const event of run.events.slice(0, firstFinished + 1)) state = reduce(state, { type: 'probe', event });
  let html = scoreTableHtml(state, REFERENCE_CURVES);
  checkBalanced(html);
  assert.match(html, /aria-label="NIAH single 1 \(noise, number\) at 1K: 0\.0 so far, 1 instance finished"/);
  assert.match(html, /<span class="count">1\/2<\/span>/);
  state = reduce(state, { type: 'probe', event: { type: 'skipped', skipped: { task: 'json_kv', length: 4096, reason: 'context <4K>' } } });
  for (const event of run.events.slice(firstFinished + 1)) state = reduce(state, { type: 'probe', event });
  html = scoreTableHtml(state, REFERENCE_CURVES);
  checkBalanced(html);
  assert.match(html, /aria-label="NIAH single 1 \(noise, number\) at 1K: 0\.0 over 2 samples"/);
  assert.match(html, /title="context &lt;4K&gt;" aria-label="JSON key-value at 4K: skipped, context &lt;4K&gt;">skipped</);
  assert.match(html, /JSON key-value <span class="tag">not in RULER avg<\/span>/);
  assert.match(html, /<th scope="row">RULER average \(1 task\)<\/th><td class="score final" style="--hue:0">0\.0<\/td>/);
  assert.match(html, /ProLong-8B-512k-Instruct \(published, 13-task average\)<\/th><td class="pending" aria-label="not published">–<\/td><td>94\.5<\/td>/);
  // at lengths no published curve has, the references are left out of the table (not a row of dashes)
  const short = reduce(initialState(85.6), { type: 'run-started', plan: { ...run.plan, lengths: [1024, 2048] }, backend: 'b', notes: [], threshold: 85.6 });
  assert.doesNotMatch(scoreTableHtml(short, REFERENCE_CURVES), /\(published/);
});

test('progress, results and details sections say what is happening and where the numbers come from', async () => {
  const run = await recordRun(new OracleBackend(), ['niah_single_1', 'vt'], [1024, 2048]);
  let state = reduce(initialState(85.6), { type: 'run-started', plan: run.plan, backend: 'local · oracle (scripted)', notes: ['note <1>'], threshold: 85.6 });
  assert.match(progressHtml(reduce(state, { type: 'preparing', message: 'loading the tokenizer' })), /Preparing: loading the tokenizer…/);
  for (const event of run.events.slice(0, 2)) state = reduce(state, { type: 'probe', event });
  const progress = progressHtml(reduce(state, { type: 'probe', event: { type: 'prefill', id: state.current!.id, doneTokens: 256, totalTokens: 1000 } }));
  assert.match(progress, /<progress max="4" value="0"/);
  assert.match(progress, /Now: NIAH single 1 \(noise, number\) at 1K \([\d,]+ prompt tokens\) · prefill 256 \/ 1,000 tokens/);
  assert.equal(effectiveSummary(state), 'Effective length: waiting for a RULER task to finish at every length.');
  const finishedFirst = run.events.find((e) => e.type === 'instance-finished')!;
  assert.match(progressHtml(reduce(state, { type: 'probe', event: finishedFirst })), /Last: NIAH single 1 \(noise, number\) at 1K: score 100\.0 in \d+ ms/);
  state = reduce(state, { type: 'finished', result: run.result });
  assert.equal(effectiveSummary(state), 'Effective length: 2K, the longest length up to which the average of 2 RULER tasks stays at or above 85.6.');
  const results = resultsHtml(state);
  checkBalanced(results);
  assert.match(results, /<svg [^>]*class="curve-chart"/);
  const details = detailsHtml(state);
  checkBalanced(details);
  for (const field of ['model', 'backend', 'tokenizer', 'chat template', 'seed', 'suite version', 'started', 'text sources']) assert.match(details, new RegExp(`<dt>${field}</dt>`));
  assert.match(details, /<dd>oracle<\/dd>/);
  assert.match(details, /<dd>panel-test<\/dd>/);
  assert.match(details, /What differs from RULER<\/h3><ul><li>Essay haystacks are generated/);
  const instances = instancesTableHtml(state);
  checkBalanced(instances);
  assert.equal((instances.match(/<tr>/g) ?? []).length, 1 + 4, 'a header row and one row per instance');
  assert.equal(instancesTableHtml(state, 200, 'misses'), '<p class="muted">All 4 finished instances scored 100.</p>');
  const missed = { ...state, instances: state.instances.map((row, i) => (i === 1 ? { ...row, score: 50 } : row)) };
  const misses = instancesTableHtml(missed, 200, 'misses');
  checkBalanced(misses);
  assert.match(misses, /<caption>1 of 4 finished instances scored below 100, newest first<\/caption>/);
  assert.equal((misses.match(/<tr>/g) ?? []).length, 1 + 1);
  // Expected and given answers side by side: the oracle's answer is the reference itself.
  const vt = run.result.instances.find((r) => r.task === 'vt' && r.length === 2048)!;
  assert.ok(instances.includes(`<td class="prediction">${vt.answers.join(', ')}</td><td class="prediction">${vt.prediction}</td>`));
});

test('a run cancelled before any instance finished says so, and results opened from a file name it instead of a progress bar', async () => {
  const run = await recordRun(new OracleBackend(), ['vt'], [1024]);
  let state = reduce(initialState(85.6), { type: 'run-started', plan: run.plan, backend: 'b', notes: [], threshold: 85.6 });
  const empty = { ...run.result, instances: [], scores: [], metadata: { ...run.result.metadata, cancelled: true } };
  state = reduce(state, { type: 'finished', result: empty });
  assert.equal(state.phase, 'cancelled');
  assert.match(progressHtml(state), /Cancelled before any instance finished\./);
  assert.equal(effectiveSummary(state), 'Effective length: not measured (no RULER task finished at any length).');
  const loaded = reduce(initialState(85.6), { type: 'loaded', result: run.result, file: '/home/me/runs/prolong-probes.json', otherSuiteVersion: false, threshold: 85.6 });
  const progress = progressHtml(loaded);
  assert.doesNotMatch(progress, /<progress/);
  assert.match(progress, /Results from prolong-probes\.json/);
});
