// The citation guard (engine/runtime/citationGuard.ts) over Llama 3's real vocabulary: inside a path of the pack only
// tokens that go on with a packed path (or end it on a whole one) are left; words that are not paths are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CitationGuard, constrainedLogits, TokenTexts, type CitationConstraint } from '../../engine/runtime/citationGuard';
import { argmax, seededRandom } from '../../engine/runtime/sampler';
import { loadTokenizer } from '../../engine/tokenizer';

const tokenizer = loadTokenizer();
const EOT = tokenizer.tokenId('<|eot_id|>')!;
const stops = new Set([EOT]);
const texts = new TokenTexts(tokenizer, tokenizer.vocabSize, stops);
const PATHS = ['src/net/kolkhoses_timothies.py', 'src/net/kolkhoz.py', 'src/store/haute_november.ts', 'README.md', 'docs/guide.md', 'docs/guide.md.bak'];

function guardAfter(text: string, paths: readonly string[] = PATHS): CitationGuard {
  const guard = new CitationGuard(paths, () => texts, (token) => tokenizer.decode([token]), stops);
  guard.advanceText(text);
  return guard;
}

/** Whether the constraint lets the token spelled `text` (a single token of the vocabulary) through. */
function lets(constraint: CitationConstraint, text: string): boolean {
  const ids = tokenizer.encode(text);
  assert.equal(ids.length, 1, `${JSON.stringify(text)} is one token`);
  if (!constraint) return true;
  return 'allowed' in constraint ? constraint.allowed.has(ids[0]!) : !constraint.disallowed.has(ids[0]!);
}

test('inside a packed path, only tokens that go on with one are left', () => {
  const constraint = guardAfter('It is defined in src/net/kol').constraint();
  assert.ok(constraint && 'allowed' in constraint);
  assert.ok(lets(constraint, 'kh'));
  assert.ok(lets(constraint, 'k'));
  assert.ok(!lets(constraint, 'ks'), 'src/net/kolks is no packed path');
  assert.ok(!lets(constraint, 'kt'));
  assert.ok(!lets(constraint, '.'), 'src/net/kol is not a whole path');
  assert.ok(!constraint.allowed.has(EOT), 'the answer cannot end half-way through a path');
});

test('a whole path may end the word: a period, a backtick, a space, the end of the answer; a letter may not', () => {
  const constraint = guardAfter('See `src/net/kolkhoz.py').constraint();
  assert.ok(constraint && 'allowed' in constraint);
  for (const text of ['.', '`', ' ', ')', ':', '`.']) assert.ok(lets(constraint, text), JSON.stringify(text));
  assert.ok(constraint.allowed.has(EOT));
  assert.ok(!lets(constraint, 'x'));
  assert.ok(!lets(constraint, '_'));
  // a path that is also the start of another goes on or ends
  const both = guardAfter('in docs/guide.md').constraint();
  assert.ok(lets(both, '.'), 'the end, or docs/guide.md.bak');
  assert.ok(lets(both, ' '));
  // after a whole path and a period, the sentence has ended: no letter goes on with it
  const ended = guardAfter('in src/net/kolkhoz.py.').constraint();
  assert.ok(ended && 'allowed' in ended);
  assert.ok(!lets(ended, 'bak'));
  assert.ok(lets(ended, ' The'));
  assert.ok(ended.allowed.has(EOT));
  assert.equal(guardAfter('in src/net/kolkhoz.pyc').constraint(), undefined, 'a path the pack does not hold is left alone');
});

test('a top folder\'s name cannot go on into a folder the pack does not have; other words are left alone', () => {
  const intoFolder = guardAfter('It is in src').constraint();
  assert.ok(intoFolder && 'disallowed' in intoFolder);
  assert.ok(lets(intoFolder, '/'));
  assert.ok(!lets(intoFolder, '/lib'), 'src/lib is no packed folder');
  assert.ok(lets(intoFolder, 'ing'), 'the word may stay a word');
  assert.equal(guardAfter('read and').constraint(), undefined, '"and/or": and is no packed folder');
  assert.equal(guardAfter('see e').constraint(), undefined, '"e.g." is left alone');
  assert.equal(guardAfter('It is defined in lib/net/').constraint(), undefined, 'a path the pack does not hold is left alone');
  assert.equal(guardAfter('').constraint(), undefined);
  assert.equal(guardAfter('in src/net/kolkhoz.py and ').constraint(), undefined, 'a new word after a boundary');
});

test('paths with characters a single token may not spell whole are left free', () => {
  const paths = ['src/caf\u00e9.py', 'src/cafe.py'];
  assert.equal(guardAfter('in src/caf', paths).constraint(), undefined);
  assert.ok(guardAfter('in src/cafe', paths).constraint() !== undefined);
});

test('greedy decoding over random logits under the guard always writes a whole packed path', () => {
  const random = seededRandom(11);
  const paths = Array.from({ length: 300 }, (_, i) => `src/mod${i % 17}/part_${(i * 7919) % 1000}_${i}.ts`);
  for (let trial = 0; trial < 20; trial++) {
    const guard = guardAfter('It is defined in src/', paths);
    let written = 'src/';
    for (let step = 0; step < 60; step++) {
      const constraint = guard.constraint();
      if (!constraint) break;
      const logits = Float32Array.from({ length: tokenizer.vocabSize }, () => random());
      const next = argmax(constrainedLogits(logits, constraint));
      if (next === EOT) break;
      const text = tokenizer.decode([next]);
      guard.advance(next);
      written += text;
    }
    const path = /^[A-Za-z0-9_/.-]*/.exec(written)![0].replace(/\.+$/, '');
    assert.ok(paths.includes(path), `${JSON.stringify(written)} starts with a packed path`);
  }
});

test('constrainedLogits leaves the logits alone without a constraint and masks with one', () => {
  const logits = Float32Array.from([1, 5, 3, 4]);
  assert.equal(constrainedLogits(logits, undefined), logits);
  assert.equal(argmax(constrainedLogits(logits, { allowed: new Set([0, 2]) })), 2);
  assert.equal(argmax(constrainedLogits(logits, { disallowed: new Set([1]) })), 3);
  assert.equal(constrainedLogits(logits, { allowed: new Set() }), logits, 'nothing fits: free');
  assert.deepEqual([...logits], [1, 5, 3, 4], 'not modified');
});

test('the vocabulary\'s texts are built only when an answer starts writing a path of the pack', () => {
  let built = 0;
  const guard = new CitationGuard(PATHS, () => { built++; return texts; }, (token) => tokenizer.decode([token]), stops);
  for (const word of ['The ', 'answer ', 'is ', 'e.g. ', 'lib/x ', '42.']) { guard.advanceText(word); guard.constraint(); }
  assert.equal(built, 0);
  guard.advanceText(' src');
  assert.ok(guard.constraint());
  guard.advanceText('/net/');
  assert.ok(guard.constraint());
  assert.equal(built, 1, 'built once, then kept');
});
