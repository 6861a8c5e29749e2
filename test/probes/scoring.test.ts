import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanScore, normalizeAnswer, rouge1F, scoreAnswer, stringMatchAll, stringMatchPart, substringExactMatch, wordMatchAll } from '../../engine/probes/scoring';
import { createTask } from '../../engine/probes/tasks/index';

// Expected values worked out by hand from RULER's scripts/eval/synthetic/constants.py and HELMET's utils.py.
test('string_match_all gives the share of references found, case-insensitively (RULER)', () => {
  assert.equal(stringMatchAll('The numbers are 1234567 and 7654321.', ['1234567', '7654321']), 100);
  assert.equal(stringMatchAll('The numbers are 1234567.', ['1234567', '7654321']), 50);
  assert.equal(stringMatchAll('Variables: abcde, FGHIJ', ['ABCDE', 'fghij', 'KLMNO']), (2 / 3) * 100);
  assert.equal(stringMatchAll('', ['x']), 0);
  // Substring, not word match: RULER's `r.lower() in pred.lower()`.
  assert.equal(stringMatchAll('12345678', ['2345']), 100);
});

test('the word tasks (cwe, fwe) match whole words: a word inside another word is not credit', () => {
  // Pairs from the cwe word pool.
  assert.equal(wordMatchAll('1. stable 2. stormy 3. tractor 4. narrow 5. drawer', ['table', 'storm', 'actor', 'arrow', 'raw']), 0);
  assert.equal(wordMatchAll('1. Table 2. storm, 3. actor. (arrow) raw', ['table', 'storm', 'actor', 'arrow', 'raw']), 100);
  assert.equal(wordMatchAll('1. table 2. stormy', ['table', 'storm']), 50);
  assert.equal(wordMatchAll('uiavov krxvjfx', ['uiavov', 'krxvjf']), 50);
  assert.equal(wordMatchAll('anything', []), 0);
  for (const name of ['cwe', 'fwe'] as const) {
    assert.equal(createTask(name).metric, 'word_match_all', name);
  }
  assert.equal(scoreAnswer('word_match_all', '1. stable', ['table']), 0);
  // The other tasks keep RULER's substring match.
  assert.equal(createTask('niah_single_1').metric, 'string_match_all');
});

test('string_match_part is all or nothing on any reference (RULER QA)', () => {
  assert.equal(stringMatchPart('It is in engine/errors.ts', ['engine/errors.ts', 'other']), 100);
  assert.equal(stringMatchPart('ENGINE/ERRORS.TS', ['engine/errors.ts']), 100);
  assert.equal(stringMatchPart('somewhere else', ['engine/errors.ts']), 0);
});

test('substring exact match normalizes like HELMET (case, punctuation, articles, spaces)', () => {
  assert.equal(normalizeAnswer('The  Quick, brown fox!'), 'quick brown fox');
  assert.equal(normalizeAnswer('an apple a day'), 'apple day');
  assert.equal(substringExactMatch('Corresponding value: "ABC-def"', ['abcdef']), 100);
  assert.equal(substringExactMatch('value: 1234', ['12345']), 0);
});

test('rouge1_f is unigram F-measure in percent', () => {
  const needle = 'The best thing to do in San Francisco is eat a sandwich';
  assert.equal(rouge1F(needle, [needle]), 100);
  // All 4 predicted words are among the reference's 12: P = 1, R = 1/3, F = 2PR/(P+R) = 1/2.
  assert.equal(rouge1F('eat a sandwich Francisco', [needle]), 50);
  assert.equal(rouge1F('', [needle]), 0);
});

test('scoreAnswer dispatches by metric and meanScore rounds to two decimals like RULER', () => {
  assert.equal(scoreAnswer('string_match_all', 'a b', ['a', 'c']), 50);
  assert.equal(scoreAnswer('string_match_part', 'a b', ['a', 'c']), 100);
  assert.equal(meanScore([100, 0, 0]), 33.33);
  assert.equal(meanScore([]), 0);
});
