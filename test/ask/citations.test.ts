import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathIndex, linkCitations, wholeCitation, type CitationSegment } from '../../webview/ask/citations';

const index = new PathIndex(['src/main.ts', 'src/lib/util.ts', 'test/lib/util.ts', 'README.md', 'Makefile', 'docs/guide.md', 'src/app.config.json']);

function citations(segments: CitationSegment[]): { text: string; path: string; line?: number; endLine?: number }[] {
  return segments.flatMap((s) => (s.kind === 'citation' ? [{ text: s.text, ...s.target }] : []));
}

test('full packed paths become citations; the segments put the text back together', () => {
  const text = 'The entry point is src/main.ts, and docs/guide.md explains it.';
  const segments = linkCitations(text, index);
  assert.equal(segments.map((s) => s.text).join(''), text);
  assert.deepEqual(citations(segments), [{ text: 'src/main.ts', path: 'src/main.ts' }, { text: 'docs/guide.md', path: 'docs/guide.md' }]);
});

test('line suffixes: :12, :12-20, :12:5, #L12, #L12-L20', () => {
  const found = citations(linkCitations('See src/main.ts:12, src/main.ts:12-20, src/main.ts:7:5 and docs/guide.md#L3 or docs/guide.md#L3-L9.', index));
  assert.deepEqual(found, [
    { text: 'src/main.ts:12', path: 'src/main.ts', line: 12 },
    { text: 'src/main.ts:12-20', path: 'src/main.ts', line: 12, endLine: 20 },
    { text: 'src/main.ts:7:5', path: 'src/main.ts', line: 7 },
    { text: 'docs/guide.md#L3', path: 'docs/guide.md', line: 3 },
    { text: 'docs/guide.md#L3-L9', path: 'docs/guide.md', line: 3, endLine: 9 },
  ]);
});

test('a unique tail links to its file; an ambiguous one does not', () => {
  assert.deepEqual(citations(linkCitations('main.ts calls lib/util.ts? No: src/lib/util.ts.', index)), [
    { text: 'main.ts', path: 'src/main.ts' },
    { text: 'src/lib/util.ts', path: 'src/lib/util.ts' },
  ]);
  // util.ts and lib/util.ts both end two packed paths.
  assert.deepEqual(citations(linkCitations('util.ts and lib/util.ts', index)), []);
});

test('plain words, unknown paths and paths glued to other text do not link', () => {
  assert.deepEqual(citations(linkCitations('main, utility, src/missing.ts, xsrc/main.ts, http://x/src/main.ts', index)), []);
  // A top-level file without an extension links only by its exact name.
  assert.deepEqual(citations(linkCitations('Run make with the Makefile.', index)), [{ text: 'Makefile', path: 'Makefile' }]);
});

test('trailing sentence punctuation and ./ prefixes', () => {
  assert.deepEqual(citations(linkCitations('Read ./README.md. Then src/app.config.json.', index)), [
    { text: './README.md', path: 'README.md' },
    { text: 'src/app.config.json', path: 'src/app.config.json' },
  ]);
});

test('line 0 and a backwards range are not line references', () => {
  assert.deepEqual(citations(linkCitations('src/main.ts:0 and src/main.ts:9-3', index)), [
    { text: 'src/main.ts', path: 'src/main.ts' },
    { text: 'src/main.ts:9', path: 'src/main.ts', line: 9 },
  ]);
});

test('wholeCitation: only when the whole text is one citation', () => {
  assert.deepEqual(wholeCitation(' src/lib/util.ts:4 ', index), { path: 'src/lib/util.ts', line: 4 });
  assert.equal(wholeCitation('twice(src/main.ts)', index), undefined);
  assert.equal(wholeCitation('src/main.ts src/main.ts', index), undefined);
});

test('an empty index links nothing', () => {
  assert.deepEqual(linkCitations('src/main.ts', new PathIndex([])), [{ kind: 'text', text: 'src/main.ts' }]);
});
