import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conversationMessages, conversationRequest, historyOf } from '../../extension/ask/conversation';
import { answerStats } from '../../extension/ask/stats';
import { QUESTION_MARKER, REPOSITORY_SYSTEM_PROMPT } from '../../engine/backends/prompt';
import { LocalPrompt } from '../../engine/backends/remote/localPrompt';
import type { Turn } from '../../webview/ask/protocol';

const repository = 'Repository: demo\nFiles: 1\n\n==> src/a.ts <==\nexport const a = 1;\n\n';

test('a first question: the system text, then the repository with the question last', () => {
  const request = conversationRequest(repository, [], '  What is a?  ', { maxTokens: 64, temperature: 0 });
  assert.deepEqual(request, {
    messages: [
      { role: 'system', content: REPOSITORY_SYSTEM_PROMPT },
      { role: 'user', content: `${repository}${QUESTION_MARKER}What is a?` },
    ],
    sampling: { maxTokens: 64, temperature: 0 },
  });
});

test('follow-ups send the earlier exchanges as chat history after the repository', () => {
  const messages = conversationMessages(repository, [{ question: 'q1', answer: 'a1' }, { question: 'q2', answer: 'a2' }], 'q3');
  assert.deepEqual(messages.map((m) => [m.role, m.content]), [
    ['system', REPOSITORY_SYSTEM_PROMPT],
    ['user', `${repository}${QUESTION_MARKER}q1`],
    ['assistant', 'a1'],
    ['user', 'q2'],
    ['assistant', 'a2'],
    ['user', 'q3'],
  ]);
});

test('the rendered prompt of a follow-up extends the first one, so prefix caches serve the repository and the history', () => {
  const prompt = new LocalPrompt();
  const first = prompt.render(conversationRequest(repository, [], 'q1', { maxTokens: 1 }));
  const second = prompt.render(conversationRequest(repository, [{ question: 'q1', answer: 'a1' }], 'q2', { maxTokens: 1 }));
  assert.ok(second.startsWith(first), `${JSON.stringify(first)}\nis not a prefix of\n${JSON.stringify(second)}`);
});

test('history: finished and partial answers count, failed or empty turns are left out', () => {
  const turn = (id: number, status: Turn['status'], answer: string): Turn => ({ id, question: `q${id}`, answer, status, warnings: [] });
  const history = historyOf([
    turn(1, 'done', 'a1'), turn(2, 'error', ''), turn(3, 'cancelled', 'partial'), turn(4, 'cancelled', ''),
    turn(5, 'cut', 'broken'), turn(6, 'length', 'long'), turn(7, 'streaming', 'running'), turn(8, 'done', '  '),
  ]);
  assert.deepEqual(history, [{ question: 'q1', answer: 'a1' }, { question: 'q3', answer: 'partial' }, { question: 'q5', answer: 'broken' }, { question: 'q6', answer: 'long' }]);
});

test('answer stats: tokens per second over the time after the first token', () => {
  const stats = answerStats({ text: 'x', finishReason: 'stop', promptTokens: 900, completionTokens: 101, cachedPromptTokens: 800, timeToFirstTokenMs: 500, totalMs: 2_500, warnings: [] });
  assert.equal(stats.tokensPerSecond, 50);
  assert.equal(stats.timeToFirstTokenMs, 500);
  assert.equal(stats.cachedPromptTokens, 800);
  assert.equal(answerStats({ text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, totalMs: 10, warnings: [] }).tokensPerSecond, undefined);
});
