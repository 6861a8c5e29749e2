import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPackSettings } from '../../extension/pack/packSettings';
import { formatTokens, packReportMarkdown } from '../../extension/pack/packReport';
import type { PackResult } from '../../engine/packer';

test('pack settings: defaults, valid values, and warnings for bad ones', () => {
  const defaults = readPackSettings(() => undefined);
  assert.deepEqual(defaults.settings, { order: 'edit-aware', tokenBudget: 0, maxFileBytes: 1 << 20, exclude: [], include: [], tokenizerPath: '', definitionsIndex: false });
  assert.deepEqual(defaults.warnings, []);
  const values: Record<string, unknown> = { 'pack.order': 'dependency', 'pack.tokenBudget': 131072, 'pack.exclude': ['docs/', 3], 'tokenizer.path': ' /m/tokenizer.json ', 'pack.definitionsIndex': true };
  const read = readPackSettings((name) => values[name]);
  assert.equal(read.settings.definitionsIndex, true);
  assert.equal(read.settings.order, 'dependency');
  assert.equal(read.settings.tokenBudget, 131072);
  assert.deepEqual(read.settings.exclude, ['docs/']);
  assert.equal(read.settings.tokenizerPath, '/m/tokenizer.json');
  assert.deepEqual(read.warnings, ['prolong.pack.exclude has entries that are not patterns; they are ignored.']);
  const bad = readPackSettings((name) => ({ 'pack.order': 'random', 'pack.tokenBudget': -5 } as Record<string, unknown>)[name]);
  assert.equal(bad.settings.order, 'edit-aware');
  assert.equal(bad.settings.tokenBudget, 0);
  assert.equal(bad.warnings.length, 2);
});

test('the pack report lists totals, the largest files and every skip reason', () => {
  const result: PackResult = {
    chunks: [], document: '', files: [{ path: 'a.ts', bytes: 10, tokens: 5 }, { path: 'b|c.ts', bytes: 3000, tokens: 900 }, { path: 'pkg/__init__.py', bytes: 1, tokens: 1 }],
    skipped: [{ path: 'img.png', reason: 'binary' }, { path: 'big.txt', reason: 'over the token budget (5000 tokens)' }],
    dropped: [{ path: 'big.txt', bytes: 20000, tokens: 5000, kind: 'docs' }], invalidUtf8: ['latin1.txt'], totalTokens: 1024, totalBytes: 3010,
    order: 'path', tokenizer: '/t/tokenizer.json', filesRead: 4, filesTokenized: 3, ms: 12.4,
  };
  const report = packReportMarkdown('repo', result, 2000);
  assert.match(report, /\*\*3 files\*\*, 3\.0K bytes, \*\*1\.0K \/ 2\.0K tokens\*\*/);
  assert.match(report, /Skipped: 1$/m);
  assert.match(report, /Dropped to meet the token budget: 1 \(1 docs;/);
  assert.ok(report.indexOf('| 900 | 3000 | b\\|c.ts |') < report.indexOf('| 5 | 10 | a.ts |'), 'largest first, pipes escaped');
  assert.match(report, /\| img\.png \| binary \|/);
  assert.match(report, /UTF-8 \(invalid bytes shown as U\+FFFD\): latin1\.txt$/m);
  assert.ok(report.includes('| 1 | 1 | pkg/\\_\\_init\\_\\_.py |'), 'underscores are not emphasis');
  assert.equal(formatTokens(1_234_567, 0), '1.23M tokens');
  const linked = packReportMarkdown('repo', result, 2000, 50, 'file:///w/repo');
  assert.ok(linked.includes('| [b\\|c.ts](file:///w/repo/b%7Cc.ts) |'), 'file names link to the files');
  assert.ok(linked.includes('[img.png](file:///w/repo/img.png) | binary |'));
  assert.ok(!report.includes('Definitions index'));
  const indexed = packReportMarkdown('repo', { ...result, definitionsIndex: { names: 1, tokens: 1500 } }, 2000);
  assert.match(indexed, /^- Definitions index after the last file: 1 name, 1\.5K tokens \(prolong\.pack\.definitionsIndex, or the local model's own choice where the setting is unset\)$/m);
});
