import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { FastBpeTokenizer } from '../../engine/tokenizer/fastBpeTokenizer';
import { HfTokenizer } from '../../engine/tokenizer/hfTokenizer';
import type { BpeTokenizerJson } from '../../engine/tokenizer/fastPath';
import { tinyTokenizerJson } from '../tokenizer/tinyTokenizer';

/** The tiny tokenizer with Llama 2 / Mistral style added tokens, which do not look like `<|...|>`. */
function llama2StyleJson(): Record<string, unknown> {
  const json = tinyTokenizerJson({ ignoreMerges: false });
  const added = json.added_tokens as { id: number }[];
  const next = Math.max(...added.map((t) => t.id)) + 1;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return { ...json, added_tokens: [...added, special(next, '<s>'), special(next + 1, '[INST]'), special(next + 2, '[/INST]')] };
}

test('prompts count the tokenizer\'s own added tokens as one token each, whatever they look like', () => {
  const json = llama2StyleJson();
  const prompt = '<s>[INST] where is the packer? [/INST] in engine/packer <|eot_id|>';
  const reference = new HfTokenizer('tiny', json, {});
  const expected = reference.encodeWithSpecialTokens(prompt).length;
  assert.ok(expected < reference.count(prompt), 'the added tokens are single tokens only with special tokens on');
  for (const tokenizer of [reference, FastBpeTokenizer.fromJson('tiny', json as unknown as BpeTokenizerJson)]) {
    assert.equal(tokenizer.countWithSpecialTokens(prompt), expected);
    const counter = new TemplatePromptCounter(tokenizer); // no template: the messages' text as it is
    assert.equal(counter.countPrompt([{ role: 'user', content: '<s>[INST] where is the packer? [/INST]' }], ' in engine/packer <|eot_id|>'), expected);
  }
});
