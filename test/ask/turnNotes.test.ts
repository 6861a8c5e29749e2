import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerStats, packChange } from '../../extension/ask/stats';
import type { GenerateResult } from '../../engine/backends/types';

test('a turn cancelled before any token has no first-token time (not "0.00 s")', () => {
  const cancelled = { text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, timeToFirstTokenMs: 0, totalMs: 1200, warnings: [] } as unknown as GenerateResult;
  assert.equal(answerStats(cancelled).timeToFirstTokenMs, undefined);
  const answered = { text: 'ok', finishReason: 'stop', promptTokens: 10, completionTokens: 5, timeToFirstTokenMs: 300, totalMs: 1300, warnings: [] } as unknown as GenerateResult;
  assert.equal(answerStats(answered).timeToFirstTokenMs, 300);
  assert.equal(answerStats(answered).tokensPerSecond, 4);
});

test('a pack that changed between two questions of a conversation is described; the same files say nothing', () => {
  assert.equal(packChange(new Set(['a.ts', 'b.ts']), ['b.ts', 'a.ts']), undefined);
  assert.equal(packChange(new Set(['a.ts', 'b.ts']), ['a.ts', 'c.ts', 'd.ts']), '2 files added, 1 file out');
  assert.equal(packChange(new Set(['a.ts']), []), '1 file out');
});

test('example questions for the empty view name the repository\'s entry point when it is packed', async () => {
  const { exampleQuestions } = await import('../../extension/ask/onboarding');
  const questions = exampleQuestions(['README.md', 'lib/router/index.js', 'index.js', 'test/app.js', 'examples/a/index.js']);
  assert.equal(questions.length, 3);
  assert.ok(questions.includes('What does index.js do, and what calls it?'), questions.join(' | '));
  assert.match(questions[2]!, /how are the tests run/);
  assert.equal(exampleQuestions([]).length, 2);
});
