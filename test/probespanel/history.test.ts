import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProbeResults } from '../../engine/probes/results';
import type { ProbeRunResult } from '../../engine/probes/types';
import { tempDir } from '../tempDirs';
import { HISTORY_LIMIT, RunHistory, filesToPrune, historyFileName } from '../../extension/probes/history';

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
