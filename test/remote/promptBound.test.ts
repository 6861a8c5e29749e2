import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteBound, splitAtQuestion } from '../../engine/backends/remote/promptBound';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import { loadTokenizer } from '../../engine/tokenizer';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import type { ChatMessage } from '../../engine/backends/types';

const repository = [
  'src/a.ts', 'export const a = 1; // café', '', 'src/b.py', 'def b(x):\n    return x + 1\n', 'README.md', '# Title\n\n1. item\r\n2. 日本語\n',
].join('\n');
const questions = ['Where is b defined?', '1+1?', '?!', "'s it there", 'x', '日本語で説明して', '  leading spaces', '<|eot_id|> as text', 'a '.repeat(200) + 'end'];

test('Llama 3: a prompt with another question never exceeds the first count plus the new question\'s bytes', () => {
  const tokenizer = loadTokenizer();
  const template = ChatTemplate.forTokenizer();
  const count = (messages: ChatMessage[]) => tokenizer.encodeWithSpecialTokens(template.render(messages)).length;
  const counts = questions.map((question) => count(buildRepositoryPrompt({ repository, question })));
  for (let i = 0; i < questions.length; i++) {
    for (let j = 0; j < questions.length; j++) {
      const second = buildRepositoryPrompt({ repository, question: questions[j] });
      const split = splitAtQuestion({ messages: second })!;
      assert.ok(counts[j] <= counts[i] + split.questionBytes, `"${questions[i]}" then "${questions[j]}": ${counts[j]} > ${counts[i]} + ${split.questionBytes}`);
    }
    assert.ok(counts[i] <= byteBound({ messages: buildRepositoryPrompt({ repository, question: questions[i] }) }), 'the byte bound holds');
  }
});

test('the key covers everything but the question', () => {
  const key = (repo: string, question: string, assistantPrefix?: string) => splitAtQuestion({ messages: buildRepositoryPrompt({ repository: repo, question }), assistantPrefix })?.key;
  assert.equal(key(repository, 'one?'), key(repository, 'two?'));
  assert.notEqual(key(repository, 'one?'), key(repository + ' ', 'one?'));
  assert.notEqual(key(repository, 'one?'), key(repository, 'one?', 'Answer:'));
  assert.equal(splitAtQuestion({ messages: [{ role: 'user', content: 'no marker here' }] }), undefined);
  assert.equal(splitAtQuestion({ messages: buildRepositoryPrompt({ repository, question: 'q' }).concat({ role: 'assistant', content: 'a' }) }), undefined);
});
