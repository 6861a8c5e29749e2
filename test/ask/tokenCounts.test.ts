import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCounts } from '../../extension/ask/tokenCounts';
import { loadTokenizer } from '../../engine/tokenizer';

test('counts come from a worker with the model\'s tokenizer; an estimate answers until they land', async () => {
  const texts = ['Where is `twice` defined?', 'It is in src/lib/util.ts:1 — see <|eot_id|> as plain text.'];
  let landed = 0;
  let wake: () => void = () => {};
  const counts = new TokenCounts(() => { landed++; wake(); });
  try {
    const first = texts.map((text) => counts.get(text, ''));
    assert.deepEqual(first, texts.map((text) => Math.ceil(text.length / 4)), 'estimates before the counts land');
    while (landed < texts.length) await new Promise<void>((resolve) => { wake = resolve; });
    const tokenizer = loadTokenizer();
    assert.deepEqual(texts.map((text) => counts.get(text, '')), texts.map((text) => tokenizer.count(text)));
    assert.equal(counts.get('', ''), 0);
  } finally {
    counts.dispose();
  }
});

test('a tokenizer path that cannot be read leaves the estimate', () => {
  const counts = new TokenCounts(() => assert.fail('nothing is counted'));
  try {
    assert.equal(counts.get('abcdefgh', '/nonexistent/tokenizer.json'), 2);
  } finally {
    counts.dispose();
  }
});
