import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProbeResults } from '../../engine/probes/results';
import type { ProbeRunResult } from '../../engine/probes/types';
import { tempDir } from '../tempDirs';
import { listSavedRuns, savedRunEntry } from '../../extension/probes/savedRuns';
import { HISTORY_LIMIT, RunHistory, estimateMs, filesToPrune, formatEstimate, historyFileName, measuredSpeed } from '../../extension/probes/history';

function result(startedAt: string, model: string, cancelled = false): ProbeRunResult {
  return {
    metadata: {
      suiteVersion: 'prolong-probes/1', seed: '42', tasks: ['vt'], lengths: [4096], samples: 1, backend: { kind: 'remote', model, detail: 'd' },
      tokenizer: 't', chatTemplate: 'c', textSources: [], startedAt, finishedAt: startedAt, cancelled,
    },
    scores: [], heatmaps: [], ruler: { threshold: 85.6, tasks: [], averages: [], effectiveLength: null }, references: [], skipped: [], instances: [],
  };
}

test('history file names sort by start time and carry a safe model name', () => {
  assert.equal(historyFileName(result('2026-11-22T05:00:12.985Z', 'princeton-nlp/Llama-3-8B-ProLong-512k-Instruct')),
    '2026-11-22T05-00-12Z-princeton-nlp_Llama-3-8B-ProLong-512k-Instruct.json');
  assert.equal(historyFileName(result('2026-11-22T05:00:12.985Z', 'a b', true)), '2026-11-22T05-00-12Z-a_b-cancelled.json');
  const names = ['2026-11-22T05-00-12Z-b.json', '2026-01-01T00-00-00Z-a.json', 'notes.txt', '2026-06-01T00-00-00Z-c.json'];
  assert.deepEqual(filesToPrune(names, 2), ['2026-01-01T00-00-00Z-a.json']);
  assert.deepEqual(filesToPrune(names, 5), []);
});

test('the history keeps the newest runs, each a results file the panel can open again', () => {
  const dir = join(tempDir('prolong-history-'), 'probe-runs');
  const history = new RunHistory(dir);
  const paths: string[] = [];
  for (let i = 0; i < HISTORY_LIMIT + 3; i++) paths.push(history.save(result(`2026-11-${String(i + 1).padStart(2, '0')}T10:00:00.000Z`, `m${i}`)));
  writeFileSync(join(dir, 'README.txt'), 'not a run');
  history.save(result('2026-12-31T10:00:00.000Z', 'last'));
  const kept = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  assert.equal(kept.length, HISTORY_LIMIT);
  assert.equal(kept[0], '2026-11-05T10-00-00Z-m4.json', 'the four oldest went');
  assert.ok(readdirSync(dir).includes('README.txt'), 'other files stay');
  assert.ok(!readdirSync(dir).some((name) => name.endsWith('.partial')));
  const reread = parseProbeResults(readFileSync(paths.at(-1)!, 'utf8'), paths.at(-1)!);
  assert.equal(reread.metadata.backend.model, `m${HISTORY_LIMIT + 2}`);
});

test('the probes quick pick estimates time from the backend\'s measured speed in its newest kept run', () => {
  const root = tempDir('prolong-speed-');
  {
    const dir = join(root, 'probe-runs');
    const history = new RunHistory(dir);
    const instance = (promptTokens: number, totalMs: number) => ({ id: 'x', task: 'vt' as const, length: 4096, index: 0, score: 100, prediction: '', answers: [],
      promptTokens, backendPromptTokens: promptTokens, completionTokens: 3, finishReason: 'stop' as const, totalMs });
    const old = result('2026-11-01T10:00:00.000Z', 'm');
    old.instances = [instance(4000, 8000)];
    const newer = result('2026-11-02T10:00:00.000Z', 'm');
    newer.instances = [instance(4000, 2000), instance(4000, 2000)];
    const other = result('2026-11-03T10:00:00.000Z', 'other');
    other.instances = [instance(1000, 9000)];
    for (const run of [old, newer, other]) history.save(run);
    const speed = measuredSpeed(dir, 'm');
    assert.equal(speed?.msPerToken, 0.5, 'the newest run of that model');
    assert.equal(measuredSpeed(dir, 'never-ran'), undefined);
    assert.equal(measuredSpeed(join(root, 'missing'), 'm'), undefined);
    assert.equal(formatEstimate(estimateMs([4096, 4096, 8192], 0.5)), 'about 8 s');
    assert.equal(formatEstimate(estimateMs(Array(50).fill(131072), 0.5)), 'about 55 min');
    assert.equal(formatEstimate(4 * 3600_000), 'about 4.0 h');
  }
});

test('Open and Compare list the kept and saved runs newest first by model, date and lengths; a run in both folders once', () => {
  const root = tempDir('prolong-saved-runs-');
  const kept = new RunHistory(join(root, 'probe-runs'));
  const saved = join(root, 'saved-probes');
  const older = result('2026-11-01T10:00:00.000Z', 'org/older');
  older.metadata.lengths = [4096, 8192];
  older.ruler.effectiveLength = 4096;
  kept.save(older);
  const newer = result('2026-11-20T08:30:00.000Z', 'org/newer', true);
  kept.save(newer);
  mkdirSync(saved);
  writeFileSync(join(saved, 'copy-of-older.json'), JSON.stringify(older));
  writeFileSync(join(saved, 'notes.json'), '{"not": "a run"}');
  const runs = listSavedRuns([kept.dir, saved, join(root, 'missing')]);
  assert.deepEqual(runs.map((r) => r.model), ['org/newer', 'org/older']);
  assert.deepEqual(savedRunEntry(runs[1]!), {
    label: 'org/older', description: '2026-11-01 10:00 · 4K/8K · 1 task', detail: `effective length 4K · ${join(kept.dir, historyFileName(older))}`,
  });
  assert.equal(savedRunEntry(runs[0]!).description, '2026-11-20 08:30 · 4K · 1 task · cancelled');
  assert.match(savedRunEntry(runs[0]!).detail, /^below 85\.6 at every length · /);
});
