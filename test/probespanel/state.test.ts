import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeEvent, ProbeRunResult } from '../../engine/probes/types';
import type { PanelAction, ProbesViewState } from '../../webview/probes/protocol';
import { MAX_COMPARISONS, MAX_WARNINGS, PREDICTION_CHARS, comparisonSummaries, heatmapViews, initialState, isActive, reduce, rulerSummary, scoreCell } from '../../webview/probes/state';
import { OracleBackend, SilentBackend } from '../probes/scriptedBackends';
import { recordRun } from './fixtures';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function play(state: ProbesViewState, actions: PanelAction[]): ProbesViewState {
  return actions.reduce((s, action) => reduce(deepFreeze(s), action), state);
}

test('a real event stream maps onto progress, the current instance, scores so far and final scores', async () => {
  const run = await recordRun(new OracleBackend(), ['niah_single_1', 'vt', 'needle_heatmap'], [1024, 2048], 2);
  let state = reduce(initialState(85.6), { type: 'run-started', plan: run.plan, backend: 'local · oracle', notes: [], threshold: 85.6 });
  assert.equal(state.phase, 'preparing');
  assert.ok(isActive(state));
  let sawCurrentDepth = false;
  let sawSoFar = false;
  for (const event of run.events) {
    state = reduce(deepFreeze(state), { type: 'probe', event });
    if (event.type === 'planned') assert.equal(state.phase, 'running');
    if (event.type === 'instance-started') {
      assert.equal(state.current?.id, event.id);
      assert.equal(state.done, event.done);
      if (event.task === 'needle_heatmap') {
        assert.equal(state.current?.depthPercent, Number(event.id.split('/').at(-1)));
        sawCurrentDepth = true;
      }
    }
    if (event.type === 'instance-finished') {
      assert.equal(state.current, undefined);
      const cell = scoreCell(state, event.result.task, event.result.length);
      if (!cell.final && event.result.task !== 'needle_heatmap') {
        assert.equal(cell.samples, state.instances.filter((r) => r.task === event.result.task && r.length === event.result.length).length);
        assert.equal(cell.score, 100);
        sawSoFar = true;
      }
    }
  }
  assert.ok(sawCurrentDepth && sawSoFar);
  assert.equal(state.done, state.total);
  assert.equal(state.total, (1 + 1 + 10) * 2 * 2);
  assert.deepEqual(scoreCell(state, 'vt', 2048), { score: 100, samples: 2, final: true });
  state = reduce(state, { type: 'finished', result: run.result });
  assert.equal(state.phase, 'done');
  assert.equal(state.instances.length, run.result.instances.length);
  const [grid] = heatmapViews(state);
  assert.equal(grid!.task, 'needle_heatmap');
  assert.deepEqual(grid!.lengths, [1024, 2048]);
  assert.equal(grid!.depthPercents.length, 10);
  // The live grid equals the runner's own grid, cell by cell.
  const saved = run.result.heatmaps[0]!;
  assert.deepEqual(grid!.cells.map((row) => row.map((cell) => cell?.score ?? null)), saved.scores);
});

test('prefill updates only the current instance; a cancel keeps what finished', async () => {
  const run = await recordRun(new SilentBackend(), ['niah_single_2'], [1024], 2);
  const started = run.events.find((e): e is Extract<ProbeEvent, { type: 'instance-started' }> => e.type === 'instance-started')!;
  let state = play(initialState(85.6), [
    { type: 'run-started', plan: run.plan, backend: 'b', notes: ['n'], threshold: 85.6 },
    { type: 'probe', event: run.events[0]! },
    { type: 'probe', event: started },
    { type: 'probe', event: { type: 'prefill', id: 'other/1/0', doneTokens: 5, totalTokens: 10 } },
  ]);
  assert.equal(state.current?.prefillDone, undefined, 'prefill of another id is ignored');
  state = reduce(state, { type: 'probe', event: { type: 'prefill', id: started.id, doneTokens: 512, totalTokens: 1000 } });
  assert.deepEqual([state.current?.prefillDone, state.current?.prefillTotal], [512, 1000]);
  state = reduce(state, { type: 'cancelling' });
  assert.equal(state.phase, 'cancelling');
  const cancelled: ProbeRunResult = { ...run.result, metadata: { ...run.result.metadata, cancelled: true }, instances: run.result.instances.slice(0, 1), scores: [] };
  state = reduce(state, { type: 'finished', result: cancelled });
  assert.equal(state.phase, 'cancelled');
  assert.equal(state.instances.length, 1);
  assert.equal(state.current, undefined);
  assert.ok(!isActive(state));
  assert.equal(reduce(initialState(50), { type: 'cancelled' }).phase, 'cancelled');
  // a run the backend stopped shows its error and keeps what finished
  const stopped: ProbeRunResult = { ...run.result, metadata: { ...run.result.metadata, error: 'ProLong server at http://x answered 500.' }, instances: run.result.instances.slice(0, 1) };
  const failed = reduce(state, { type: 'finished', result: stopped });
  assert.equal(failed.phase, 'failed');
  assert.equal(failed.error, 'ProLong server at http://x answered 500. (partial results: 1 finished instances are shown below)');
  assert.equal(failed.instances.length, 1);
});

test('the effective length follows the panel threshold; loaded results show their own plan', () => {
  const scores = [
    { task: 'niah_single_1' as const, length: 4096, samples: 1, score: 100 },
    { task: 'niah_single_1' as const, length: 8192, samples: 1, score: 90 },
    { task: 'niah_single_1' as const, length: 16384, samples: 1, score: 70 },
  ];
  const result = {
    metadata: {
      suiteVersion: 'prolong-probes/0', seed: 's', tasks: ['niah_single_1' as const], lengths: [4096, 8192, 16384], samples: 1,
      backend: { kind: 'remote' as const, model: 'm', detail: 'd' }, tokenizer: 't', chatTemplate: 'c', textSources: [], startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', cancelled: false,
    },
    scores, heatmaps: [], ruler: { threshold: 85.6, tasks: ['niah_single_1' as const], averages: [], effectiveLength: 8192 }, references: [], skipped: [], instances: [],
  };
  let state = reduce(initialState(85.6), { type: 'loaded', result, file: '/tmp/r.json', otherSuiteVersion: true, threshold: 85.6 });
  assert.equal(state.phase, 'loaded');
  assert.equal(state.otherSuiteVersion, true);
  assert.deepEqual(state.plan?.lengths, [4096, 8192, 16384]);
  assert.equal(rulerSummary(state).effectiveLength, 8192);
  state = reduce(state, { type: 'threshold', threshold: 60 });
  assert.equal(rulerSummary(state).effectiveLength, 16384);
  state = reduce(state, { type: 'threshold', threshold: 95 });
  assert.equal(rulerSummary(state).effectiveLength, 4096);
  state = reduce(state, { type: 'threshold', threshold: 100.5 });
  assert.equal(rulerSummary(state).effectiveLength, null);
});

test('long predictions are cut for the panel, warnings stop at a cap, skipped cells say why', () => {
  const plan = { tasks: ['vt' as const], lengths: [1024], samples: 1, seed: 's', depthPercents: {} };
  let state = reduce(initialState(85.6), { type: 'run-started', plan, backend: 'b', notes: [], threshold: 85.6 });
  state = reduce(state, { type: 'probe', event: { type: 'instance-finished', done: 1, total: 1, result: {
    id: 'vt/1024/0', task: 'vt', length: 1024, index: 0, score: 0, prediction: 'x'.repeat(5000), answers: ['a'], promptTokens: 900,
    backendPromptTokens: 900, completionTokens: 30, finishReason: 'length', totalMs: 10,
  } } });
  assert.equal(state.instances[0]!.prediction.length, PREDICTION_CHARS + 1);
  for (let i = 0; i < MAX_WARNINGS * 2; i++) state = reduce(state, { type: 'probe', event: { type: 'warning', message: `w${i}` } });
  assert.equal(state.warnings.length, MAX_WARNINGS + 1);
  assert.equal(state.warnings.at(-1), `(only the first ${MAX_WARNINGS} warnings are listed)`);
  state = reduce(state, { type: 'probe', event: { type: 'planned', totalInstances: 3, tasks: ['vt'], lengths: [1024, 2048] } });
  state = reduce(state, { type: 'probe', event: { type: 'skipped', skipped: { task: 'vt', length: 2048, reason: "the backend's context length is 1500 tokens" } } });
  assert.deepEqual(scoreCell(state, 'vt', 2048), { samples: 0, final: false, skipped: "the backend's context length is 1500 tokens" });
  assert.equal(state.done, 0);
  const result = { metadata: { cancelled: false }, instances: [], scores: [], skipped: [] } as unknown as ProbeRunResult;
  assert.equal(reduce(state, { type: 'finished', result }).done, 3, 'skipped instances count as done once the run finished');
  assert.equal(reduce(state, { type: 'finished', result: { ...result, metadata: { cancelled: true } } as unknown as ProbeRunResult }).done, 0);
  // a prompt refused as too long ends the instance in flight: it is no longer shown running, and the count moves on
  state = reduce(state, { type: 'probe', event: { type: 'instance-started', id: 'vt/1024/1', task: 'vt', length: 1024, promptTokens: 1000, done: 1, total: 3 } });
  assert.equal(state.current?.id, 'vt/1024/1');
  state = reduce(state, { type: 'probe', event: { type: 'skipped', skipped: { task: 'vt', length: 1024, reason: 'too long for the server' }, done: 2, total: 3 } });
  assert.equal(state.current, undefined);
  assert.equal(state.done, 2);
});

test('saved runs to compare survive new runs and loads, replace themselves by file, stop at a cap and clear', () => {
  const scores = (score: number) => [{ task: 'vt' as const, length: 4096, samples: 1, score }, { task: 'vt' as const, length: 8192, samples: 1, score: score - 20 }];
  let state = initialState(85.6);
  for (let i = 0; i < MAX_COMPARISONS + 2; i++) state = reduce(state, { type: 'compare', comparison: { label: `m${i}`, file: `/r${i}.json`, scores: scores(100 - i) } });
  assert.deepEqual(state.comparisons.map((c) => c.label), ['m2', 'm3', 'm4', 'm5']);
  state = reduce(state, { type: 'compare', comparison: { label: 'm3 again', file: '/r3.json', scores: scores(90) } });
  assert.deepEqual(state.comparisons.map((c) => c.label), ['m2', 'm4', 'm5', 'm3 again']);
  const plan = { tasks: ['vt' as const], lengths: [4096], samples: 1, seed: 's', depthPercents: {} };
  state = reduce(state, { type: 'run-started', plan, backend: 'b', notes: [], threshold: 70 });
  assert.equal(state.comparisons.length, 4);
  const [first] = comparisonSummaries(state);
  assert.deepEqual(first!.ruler.averages, [{ length: 4096, score: 98 }, { length: 8192, score: 78 }]);
  assert.equal(first!.ruler.effectiveLength, 8192, 'at the run threshold of 70');
  assert.equal(comparisonSummaries(reduce(state, { type: 'threshold', threshold: 85.6 }))[0]!.ruler.effectiveLength, 4096);
  assert.deepEqual(reduce(state, { type: 'clear-comparisons' }).comparisons, []);
});
