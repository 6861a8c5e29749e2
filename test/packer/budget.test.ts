import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTokenBudget, describeDropped, fileKind, namedDroppedFiles } from '../../engine/packer/budget';

test('file kinds: tests, examples, fixtures, benchmarks, docs and data apart from code', () => {
  const kinds: Record<string, string> = {
    'lib/router/index.js': 'code', 'index.js': 'code', 'README.md': 'code', 'src/app.ts': 'code',
    'test/app.router.js': 'tests', 'lib/foo.test.ts': 'tests', 'pkg/foo_test.go': 'tests', 'tests/test_x.py': 'tests', 'src/a.spec.js': 'tests',
    'examples/auth/index.js': 'examples', 'test/fixtures/a.txt': 'fixtures', 'benchmarks/middleware.js': 'benchmarks',
    'docs/guide.md': 'docs', 'History.md': 'docs', 'lib/notes.md': 'docs', 'data/table.csv': 'generated data', 'icons/logo.svg': 'generated data',
  };
  for (const [path, kind] of Object.entries(kinds)) assert.equal(fileKind(path), kind, path);
});

test('the budget drops tests and examples before the library, even when the library files are the largest', () => {
  // express at a tight budget: "largest first" removed lib/ and kept the tests
  const items = [
    { path: 'lib/application.js', tokens: 5000 }, { path: 'lib/response.js', tokens: 8000 }, { path: 'lib/router/index.js', tokens: 6000 },
    ...Array.from({ length: 20 }, (_, i) => ({ path: `test/app.${i}.js`, tokens: 700 })),
    ...Array.from({ length: 10 }, (_, i) => ({ path: `examples/e${i}/index.js`, tokens: 300 })),
    { path: 'History.md', tokens: 4000 },
  ];
  const outcome = applyTokenBudget(items, 22_000);
  for (const core of ['lib/application.js', 'lib/response.js', 'lib/router/index.js']) assert.ok(outcome.kept.has(core), core);
  assert.ok(outcome.dropped.every((item) => item.kind !== 'code'));
  const keptTokens = items.filter((item) => outcome.kept.has(item.path)).reduce((sum, item) => sum + item.tokens, 0);
  assert.ok(keptTokens <= 22_000);
  // examples go before tests; what still fits is taken back
  assert.ok(outcome.dropped.some((item) => item.kind === 'examples'));
  assert.ok(22_000 - keptTokens < 300, 'no dropped file would still fit');
  assert.match(describeDropped(outcome.dropped), /^\d+ examples, \d+ tests, 1 docs$/);
});

test('pinned files (open editors, the selection) are never dropped; code goes largest first after the other kinds', () => {
  const items = [{ path: 'src/big.ts', tokens: 9000 }, { path: 'src/mid.ts', tokens: 5000 }, { path: 'test/open.test.ts', tokens: 4000 }, { path: 'src/small.ts', tokens: 100 }];
  const outcome = applyTokenBudget(items, 5500, { pinned: ['test/open.test.ts'] });
  assert.ok(outcome.kept.has('test/open.test.ts'));
  assert.deepEqual(outcome.dropped.map((item) => item.path), ['src/big.ts', 'src/mid.ts']);
  const plain = applyTokenBudget(items, 5500);
  assert.deepEqual(plain.dropped.map((item) => item.path), ['test/open.test.ts', 'src/big.ts']);
  assert.deepEqual(applyTokenBudget(items, 1e6).dropped, []);
});

test('a question or answer that names a left-out file is found, by path or by a unique file name', () => {
  const dropped = ['test/app.router.js', 'examples/auth/index.js', 'examples/web/index.js', 'docs/a.md'];
  assert.deepEqual(namedDroppedFiles('How does test/app.router.js check params?', dropped), ['test/app.router.js']);
  assert.deepEqual(namedDroppedFiles('see app.router.js.', dropped), ['test/app.router.js']);
  assert.deepEqual(namedDroppedFiles('what is in index.js?', dropped), [], 'ambiguous name');
  assert.deepEqual(namedDroppedFiles('examples/web/index.js:12 says', dropped), ['examples/web/index.js']);
  assert.deepEqual(namedDroppedFiles('mytest/app.router.jsx', dropped), []);
});
