import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CumulativeCounts, fitToBudget } from '../../engine/probes/fit';
import { effectiveLengthOf, REFERENCE_CURVES, rulerEffectiveLength } from '../../engine/probes/effectiveLength';
import { parseTaskList } from '../../engine/probes/tasks/index';
import { formatLength, resultsCsv } from '../../engine/probes/report';
import { UserError } from '../../engine/errors';

test('fitToBudget finds the largest size whose exact count fits, correcting a biased estimate', () => {
  // Units of 7 tokens, a fixed 30-token part, and an estimate that is off by -25 tokens.
  const exact = (units: number) => 30 + 7 * units;
  let counted = 0;
  const fitted = fitToBudget({
    budget: 1000, minUnits: 0, maxUnits: 10_000,
    estimate: (units) => exact(units) - 25, build: (units) => units, count: (units) => { counted++; return exact(units); },
  });
  assert.equal(fitted?.units, Math.floor((1000 - 30) / 7));
  assert.ok(fitted!.promptTokens <= 1000);
  assert.ok(counted <= 8, `exact counts: ${counted}`);
  assert.equal(fitToBudget({ budget: 10, minUnits: 0, maxUnits: 5, estimate: () => 20, build: () => 0, count: () => 20 }), undefined);
});

test('CumulativeCounts sums lazily and finds how many units fit', () => {
  const counts = new CumulativeCounts((i) => i + 1);
  assert.equal(counts.tokens(4), 1 + 2 + 3 + 4);
  assert.equal(counts.unitsWithin(10, 8), 4);
  assert.equal(counts.unitsWithin(9, 8), 3);
});

test('effective length is the longest run from the shortest length at or above the threshold', () => {
  const points = [{ length: 4096, score: 90 }, { length: 8192, score: 86 }, { length: 16384, score: 80 }, { length: 32768, score: 88 }];
  assert.equal(effectiveLengthOf(points, 85.6), 8192);
  assert.equal(effectiveLengthOf([{ length: 4096, score: 50 }], 85.6), null);
  // RULER's README: ProLong-512k-Instruct is effective to 32K.
  assert.equal(REFERENCE_CURVES.find((c) => c.model.startsWith('ProLong'))?.effectiveLength, 32768);
});

test('the RULER average uses only tasks measured at every length', () => {
  const ruler = rulerEffectiveLength([
    { task: 'niah_single_1', length: 4096, samples: 1, score: 100 },
    { task: 'niah_single_1', length: 8192, samples: 1, score: 80 },
    { task: 'vt', length: 4096, samples: 1, score: 0 },
    { task: 'json_kv', length: 4096, samples: 1, score: 0 },
  ]);
  assert.deepEqual(ruler.tasks, ['niah_single_1']);
  assert.deepEqual(ruler.averages, [{ length: 4096, score: 100 }, { length: 8192, score: 80 }]);
  assert.equal(ruler.effectiveLength, 4096);
});

test('task lists, lengths and CSV', () => {
  assert.equal(parseTaskList('ruler').length, 13);
  assert.deepEqual(parseTaskList('vt,cwe,vt'), ['vt', 'cwe']);
  assert.throws(() => parseTaskList('nope'), UserError);
  assert.equal(formatLength(131072), '128K');
  assert.equal(formatLength(1048576), '1M');
  assert.equal(formatLength(5000), '5000');
  const csv = resultsCsv({
    metadata: { suiteVersion: 'v', seed: '1', tasks: ['vt'], lengths: [4096], samples: 2, backend: { kind: 'remote', model: 'm', detail: 'd' },
      tokenizer: 't', chatTemplate: 'c', textSources: [], startedAt: '', finishedAt: '', cancelled: false },
    scores: [{ task: 'vt', length: 4096, samples: 2, score: 50 }],
    heatmaps: [{ task: 'needle_heatmap', lengths: [4096], depthPercents: [0, 100], scores: [[100], [null]] }],
    ruler: { threshold: 85.6, tasks: ['vt'], averages: [{ length: 4096, score: 50 }], effectiveLength: null },
    references: [], skipped: [], instances: [],
  });
  assert.equal(csv, 'kind,task,length,depth_percent,samples,score\ntask,vt,4096,,2,50\nruler_average,ruler,4096,,1,50\nheatmap,needle_heatmap,4096,0,2,100\n');
});

test('saved results parse back; other files are user errors naming the file', async () => {
  const { parseProbeResults, isCurrentSuite } = await import('../../engine/probes/results');
  const { SUITE_VERSION } = await import('../../engine/probes/runner');
  const saved = {
    metadata: { suiteVersion: SUITE_VERSION, seed: '1', tasks: ['vt'], lengths: [4096], samples: 1, backend: { kind: 'local', model: 'm', detail: 'd' },
      tokenizer: 't', chatTemplate: 'c', textSources: [], startedAt: '', finishedAt: '', cancelled: false },
    scores: [], heatmaps: [], ruler: { threshold: 85.6, tasks: [], averages: [], effectiveLength: null }, references: [], skipped: [], instances: [],
  };
  const parsed = parseProbeResults(JSON.stringify(saved), 'r.json');
  assert.deepEqual(parsed, saved);
  assert.equal(isCurrentSuite(parsed), true);
  assert.throws(() => parseProbeResults('{', 'bad.json'), (error: Error) => error instanceof UserError && /bad\.json is not valid JSON/.test(error.message));
  assert.throws(() => parseProbeResults('{"scores": []}', 'other.json'), /other\.json is not a probe results file/);
  // a crafted or damaged file (shared for "Compare With...") is refused, not rendered
  const crafted = { ...saved, heatmaps: [{ task: 'needle_heatmap', lengths: [4096], depthPercents: ['<img src=x>'], scores: [[1]] }] };
  assert.throws(() => parseProbeResults(JSON.stringify(crafted), 'c.json'), /c\.json is not a probe results file: its "heatmaps" is missing or has fields of the wrong type/);
  const noModel = { ...saved, metadata: { ...saved.metadata, backend: { kind: 'local', detail: 'd' } } };
  assert.throws(() => parseProbeResults(JSON.stringify(noModel), 'm.json'), /its "metadata"/);
});
