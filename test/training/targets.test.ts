// The demo model's training targets (training/data/targets.ts): what it is taught to answer for a probe instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask } from '../../engine/probes/tasks/index';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer';
import { answerText } from '../../training/data/targets';

const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());

test('a multivalue needle is answered with its values in the order the haystack holds them', () => {
  const task = createTask('niah_multivalue');
  let reordered = 0;
  for (let index = 0; index < 12; index++) {
    const instance = task.build({ counter }, { seed: 'targets-test', length: 2048, index });
    const text = instance.messages[instance.context.message]!.content;
    const answer = answerText(instance);
    const values = answer.trim().replace(/\.$/, '').split(', ');
    // the same values, now by position in the haystack
    assert.deepEqual([...values].sort(), [...instance.answers].sort());
    const positions = values.map((value) => text.indexOf(value));
    assert.ok(positions.every((p) => p >= 0), `every value is in the haystack: ${answer}`);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `in document order: ${answer}`);
    if (values.join() !== instance.answers.join()) reordered++;
  }
  // the task shuffles its needles: the order it made the values in is not the haystack's
  assert.ok(reordered > 0);
});

test('other tasks keep the order the task gives (a multiquery answer follows its questions)', () => {
  const instance = createTask('niah_multiquery').build({ counter }, { seed: 'targets-test', length: 2048, index: 3 });
  assert.equal(answerText(instance).trim(), `${instance.answers.join(', ')}.`);
});
