import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_ROOM_MARGIN, answerRoom, contextBudget, MIN_ANSWER_TOKENS, TEMPLATE_TOKENS_FIXED, TEMPLATE_TOKENS_PER_MESSAGE } from '../../extension/ask/budget';
import { conversationRequest } from '../../extension/ask/conversation';
import { QUESTION_MARKER, REPOSITORY_SYSTEM_PROMPT } from '../../engine/backends/prompt';
import { LocalPrompt } from '../../engine/backends/remote/localPrompt';
import { loadTokenizer } from '../../engine/tokenizer';

const base = { repositoryTokens: 10_000, conversationTokens: 500, fixedPromptTokens: 80, messages: 2, answerTokens: 1_000, droppedFiles: 0 };

test('the total is repository + conversation + prompt overhead + answer room', () => {
  const budget = contextBudget({ ...base, contextLength: 100_000 });
  assert.equal(budget.overheadTokens, 80 + TEMPLATE_TOKENS_FIXED + 2 * TEMPLATE_TOKENS_PER_MESSAGE);
  assert.equal(budget.totalTokens, 10_000 + 500 + budget.overheadTokens + 1_000);
  assert.equal(budget.fit, 'fits');
  assert.equal(budget.advice, undefined);
});

test('without a context length the fit is unknown', () => {
  assert.equal(contextBudget(base).fit, 'unknown');
});

test('over the context with the repository to blame: the advice names the token budget that would fit and .prolongignore', () => {
  const budget = contextBudget({ ...base, repositoryTokens: 200_000, contextLength: 131_072 });
  assert.equal(budget.fit, 'over');
  const room = 131_072 - 500 - budget.overheadTokens - 1_000;
  assert.ok(budget.advice?.includes(`prolong.pack.tokenBudget to at most ${room.toLocaleString('en-US')}`), budget.advice);
  assert.ok(budget.advice?.includes('.prolongignore'));
  assert.deepEqual(budget.remedies, ['openTokenBudgetSetting', 'openProlongIgnore'], 'the buttons do what the advice says');
  // The suggested budget fits exactly.
  assert.equal(contextBudget({ ...base, repositoryTokens: room, contextLength: 131_072 }).totalTokens, 131_072);
});

test('over the context because of the conversation: the advice is a new conversation', () => {
  const budget = contextBudget({ ...base, conversationTokens: 95_000, messages: 12, contextLength: 100_000 });
  assert.equal(budget.fit, 'over');
  assert.match(budget.advice ?? '', /start a new conversation/);
  assert.doesNotMatch(budget.advice ?? '', /tokenBudget/);
  assert.deepEqual(budget.remedies, ['newConversation']);
});

test('over the context because of the answer room: no token budget helps, the advice and its button are the answer tokens', () => {
  const budget = contextBudget({ ...base, repositoryTokens: 100, conversationTokens: 0, answerTokens: 2_048, contextLength: 1_000 });
  assert.equal(budget.fit, 'over');
  assert.match(budget.advice ?? '', /Lower prolong\.ask\.maxAnswerTokens/);
  assert.doesNotMatch(budget.advice ?? '', /tokenBudget/);
  assert.deepEqual(budget.remedies, ['openAnswerTokensSetting']);
});

test('above 90% of the context it is tight, with the tokens left', () => {
  const budget = contextBudget({ ...base, contextLength: 12_000 });
  assert.equal(budget.fit, 'tight');
  assert.ok(budget.advice?.startsWith(`${(12_000 - budget.totalTokens).toLocaleString('en-US')} tokens left`));
});

test('the overhead estimate is within a few tokens of the real Llama 3 chat prompt', () => {
  const tokenizer = loadTokenizer();
  const prompt = new LocalPrompt();
  const repository = 'Repository: demo\nFiles: 1\n\n==> src/a.ts <==\nexport const a = 1;\n\n';
  const history = [{ question: 'What is a?', answer: 'It is `1`, see src/a.ts:1.' }];
  const question = 'And who uses it?';
  const request = conversationRequest(repository, history, question, { maxTokens: 100 });
  const exact = prompt.count(request);
  const budget = contextBudget({
    repositoryTokens: tokenizer.count(repository),
    conversationTokens: [history[0]!.question, history[0]!.answer, question].reduce((sum, t) => sum + tokenizer.count(t), 0),
    fixedPromptTokens: tokenizer.count(REPOSITORY_SYSTEM_PROMPT) + tokenizer.count(QUESTION_MARKER),
    messages: request.messages.length, answerTokens: 100, droppedFiles: 0,
  });
  const estimate = budget.totalTokens - 100;
  assert.ok(Math.abs(estimate - exact) <= request.messages.length, `estimate ${estimate}, chat template ${exact}`);
});

test('the answer\'s room: the setting when it fits, cut to the context when nearly full, kept when nothing useful fits', () => {
  const roomy = contextBudget({ ...base, contextLength: 100_000 });
  assert.equal(answerRoom(roomy, 1_000), 1_000);
  assert.equal(answerRoom(contextBudget(base), 1_000), 1_000, 'unknown context: as configured');
  const prompt = roomy.totalTokens - roomy.answerTokens;
  const nearlyFull = contextBudget({ ...base, contextLength: prompt + 600 });
  assert.equal(answerRoom(nearlyFull, 1_000), 600 - ANSWER_ROOM_MARGIN);
  const full = contextBudget({ ...base, contextLength: prompt + ANSWER_ROOM_MARGIN + MIN_ANSWER_TOKENS - 1 });
  assert.equal(answerRoom(full, 1_000), 1_000);
});
