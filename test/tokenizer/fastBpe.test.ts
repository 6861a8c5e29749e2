import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A private compiled-table cache for this test process (read by loadTokenizer at load time).
process.env.PROLONG_TOKENIZER_CACHE = mkdtempSync(join(tmpdir(), 'prolong-tokenizer-cache-test-'));
after(() => rmSync(process.env.PROLONG_TOKENIZER_CACHE!, { recursive: true, force: true }));

import { loadTokenizer } from '../../engine/tokenizer/index';
import { FastBpeTokenizer } from '../../engine/tokenizer/fastBpeTokenizer';
import { compileBpe } from '../../engine/tokenizer/compiledBpe';
import { compiledCachePath, deserializeCompiled, readCompiledCache, serializeCompiled, writeCompiledCache } from '../../engine/tokenizer/compiledCache';
import type { BpeTokenizerJson } from '../../engine/tokenizer/fastPath';
import type { TextTokenizer } from '../../engine/tokenizer/types';
import { fuzzStrings, seededRandom } from './fuzzText';
import { tinyTokenizerJson, UNMERGED_TOKEN, writeTinyTokenizer } from './tinyTokenizer';

function assertSame(fast: TextTokenizer, reference: TextTokenizer, strings: readonly string[]): void {
  for (const text of strings) {
    const expected = reference.encode(text);
    const shown = JSON.stringify(text.length > 200 ? text.slice(0, 200) + '...' : text);
    assert.deepEqual(fast.encode(text), expected, `encode ${shown}`);
    assert.equal(fast.count(text), expected.length, `count ${shown}`);
    assert.deepEqual(fast.encodeWithSpecialTokens(text), reference.encodeWithSpecialTokens(text), `encodeWithSpecialTokens ${shown}`);
    assert.equal(fast.countWithSpecialTokens(text), reference.encodeWithSpecialTokens(text).length, `countWithSpecialTokens ${shown}`);
    assert.equal(reference.countWithSpecialTokens(text), reference.encodeWithSpecialTokens(text).length, `reference countWithSpecialTokens ${shown}`);
    assert.equal(fast.decode(expected), reference.decode(expected), `decode ${shown}`);
  }
}

test('Llama 3: fast equals the reference on 3,000 seeded fuzz strings', () => {
  const fast = loadTokenizer(undefined, 'fast');
  assert.match(fast.source, /\(fast BPE\)$/);
  assertSame(fast, loadTokenizer(undefined, 'reference'), fuzzStrings(20261122, 3000));
});

test('Llama 3: decode of random id sequences (split UTF-8, special ids) equals the reference', () => {
  const fast = loadTokenizer(undefined, 'fast');
  const reference = loadTokenizer(undefined, 'reference');
  const random = seededRandom(7);
  for (let i = 0; i < 500; i++) {
    const ids = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * fast.vocabSize));
    assert.equal(fast.decode(ids), reference.decode(ids), JSON.stringify(ids));
  }
});

for (const ignoreMerges of [false, true]) {
  test(`tiny tokenizer (ignore_merges ${ignoreMerges}): merge order and fuzz equal the reference`, () => {
    const path = writeTinyTokenizer({ ignoreMerges });
    const fast = loadTokenizer(path, 'fast');
    const reference = loadTokenizer(path, 'reference');
    const handMade = ['the then there', 'aaaaaaaaaaaaaaaaaaaaaaa', '    and   and', 'ring ing inging', '==== ===', '😀😀 😀', '123123',
      UNMERGED_TOKEN, ` ${UNMERGED_TOKEN}`, 'a<|eot_id|>b<|eot|><|eot_id', 'a'.repeat(300) + ' ' + 'the'.repeat(100)];
    assertSame(fast, reference, [...handMade, ...fuzzStrings(ignoreMerges ? 11 : 12, 600)]);
    // The unmerged token is produced only when whole pieces are looked up first.
    assert.deepEqual(fast.encode(UNMERGED_TOKEN).length, ignoreMerges ? 1 : 3);
  });
}

test('merges written as [left, right] pairs give the same ids', () => {
  const path = writeTinyTokenizer({ ignoreMerges: false, arrayMerges: true });
  const strings = fuzzStrings(13, 300);
  assertSame(loadTokenizer(path, 'fast'), loadTokenizer(path, 'reference'), strings);
  const stringMerges = loadTokenizer(writeTinyTokenizer({ ignoreMerges: false }), 'fast');
  for (const text of strings) assert.deepEqual(loadTokenizer(path, 'fast').encode(text), stringMerges.encode(text));
});

test('tokenizers the fast path cannot run exactly fall back to the reference, and say why', () => {
  const path = writeTinyTokenizer({ ignoreMerges: true, normalizer: { type: 'NFC' } });
  const tokenizer = loadTokenizer(path);
  assert.match(tokenizer.source, /\(reference: it has a normalizer\)$/);
  assert.deepEqual(tokenizer.encode('the'), loadTokenizer(writeTinyTokenizer({ ignoreMerges: true })).encode('the'));
  assert.throws(() => loadTokenizer(path, 'fast'), /normalizer/);
});

test('compiled tables: saved on first load, read back on the next, identical ids; broken files are ignored', () => {
  const path = writeTinyTokenizer({ ignoreMerges: true });
  const first = loadTokenizer(path, 'fast');
  const files = readdirSync(process.env.PROLONG_TOKENIZER_CACHE!).filter((name) => name.endsWith('.bin'));
  assert.ok(files.length >= 1, 'a cache file was written');
  const compiled = compileBpe(tinyTokenizerJson({ ignoreMerges: true }) as BpeTokenizerJson);
  const bytes = serializeCompiled(compiled);
  const restored = deserializeCompiled(bytes);
  assert.ok(restored);
  const fromBytes = new FastBpeTokenizer('restored', restored);
  for (const text of fuzzStrings(3, 200)) assert.deepEqual(fromBytes.encode(text), first.encode(text));
  assert.equal(deserializeCompiled(bytes.subarray(0, bytes.length - 100)), undefined, 'truncated');
  assert.equal(deserializeCompiled(Buffer.from('PLBPE000 not a cache')), undefined, 'other version');
  const broken = join(process.env.PROLONG_TOKENIZER_CACHE!, 'broken.bin');
  writeFileSync(broken, 'garbage');
  assert.equal(readCompiledCache(broken), undefined);
});

test('the compiled-table directory keeps only the newest entries', () => {
  const compiled = compileBpe(tinyTokenizerJson({ ignoreMerges: false }) as BpeTokenizerJson);
  for (let i = 0; i < 12; i++) writeCompiledCache(compiledCachePath(`/tokenizer-${i}.json`, 1, i), compiled);
  const entries = readdirSync(process.env.PROLONG_TOKENIZER_CACHE!).filter((name) => name.endsWith('.bin'));
  assert.equal(entries.length, 8);
  assert.ok(readCompiledCache(compiledCachePath('/tokenizer-11.json', 1, 11)), 'the newest entry is kept');
});

test('the piece cache starts over without changing results', () => {
  const fast = loadTokenizer(undefined, 'fast') as FastBpeTokenizer;
  const texts = fuzzStrings(99, 300);
  const before = texts.map((text) => fast.encode(text));
  const letters = (n: number): string => {
    let word = '';
    for (let k = n; k > 0; k = Math.floor(k / 26)) word += String.fromCharCode(97 + (k % 26));
    return word;
  };
  // More distinct letter-only pieces than the cache holds (2^19).
  let previous = fast.cachedPieces;
  let restarted = false;
  for (let i = 0; i < 600_000; i += 1000) {
    let chunk = '';
    for (let k = i; k < i + 1000; k++) chunk += ` qq${letters(k)}`;
    fast.count(chunk);
    if (fast.cachedPieces < previous) restarted = true;
    previous = fast.cachedPieces;
  }
  assert.ok(restarted, 'the cache restarted');
  assert.deepEqual(texts.map((text) => fast.encode(text)), before);
});
