import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCounts } from '../../extension/ask/tokenCounts';
import { Packer } from '../../engine/packer';
import { loadTokenizer } from '../../engine/tokenizer';

test('counts come from a worker with the model\'s tokenizer; an estimate answers until they land', async () => {
  const texts = ['Where is `twice` defined?', 'It is in src/lib/util.ts:1 — see <|eot_id|> as plain text.'];
  const packer = new Packer({ workers: 1, cacheFile: false });
  const asked: string[] = [];
  let landed = 0;
  let wake: () => void = () => {};
  const counts = new TokenCounts((text, tokenizerPath) => { asked.push(tokenizerPath); return packer.countTokens(text); }, () => { landed++; wake(); });
  try {
    const first = texts.map((text) => counts.get(text, ''));
    assert.deepEqual(first, texts.map((text) => Math.ceil(text.length / 4)), 'estimates before the counts land');
    while (landed < texts.length) await new Promise<void>((resolve) => { wake = resolve; });
    const tokenizer = loadTokenizer();
    assert.deepEqual(texts.map((text) => counts.get(text, '')), texts.map((text) => tokenizer.count(text)));
    assert.deepEqual(asked, ['', ''], 'each text counted once');
    assert.equal(counts.get('', ''), 0);
  } finally {
    counts.dispose();
    await packer.dispose();
  }
});

test('a tokenizer that cannot be read leaves the estimate; after dispose nothing is counted', async () => {
  let calls = 0;
  const counts = new TokenCounts(() => { calls++; return Promise.reject(new Error('Cannot read the tokenizer')); }, () => assert.fail('nothing lands'));
  assert.equal(counts.get('abcdefgh', '/nonexistent/tokenizer.json'), 2);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(counts.get('abcdefghijkl', '/nonexistent/tokenizer.json'), 3, 'after a failure: estimates, no new counts');
  assert.equal(calls, 1);
  counts.dispose();
  assert.equal(counts.get('xyz', ''), 1);
  assert.equal(calls, 1, 'a disposed TokenCounts starts no count');
});
