// The citation guard (engine/runtime/citationGuard.ts) over Llama 3's real vocabulary: inside a path of the pack only
// tokens that go on with a packed path (or end it on a whole file) are left; words that are not paths, and
// paths the model wants with confidence that the pack lacks, are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CitationGuard, constrainedLogits, RELEASE_MARGIN, TokenTexts, type CitationConstraint } from '../../engine/runtime/citationGuard';
import { argmax, seededRandom } from '../../engine/runtime/sampler';
import { loadTokenizer } from '../../engine/tokenizer';
import type { TextTokenizer } from '../../engine/tokenizer/types';
import { tempDir } from '../packer/fixtures';

const tokenizer = loadTokenizer();
const EOT = tokenizer.tokenId('<|eot_id|>')!;
const stops = new Set([EOT]);
const texts = new TokenTexts(tokenizer, tokenizer.vocabSize, stops);
const PATHS = ['src/net/kolkhoses_timothies.py', 'src/net/kolkhoz.py', 'src/store/haute_november.ts', 'README.md', 'docs/guide.md',
  'docs/guide.md.bak', 'docker/Dockerfile', 'docker/Dockerfile.dev'];

function guardAfter(text: string, paths: readonly string[] = PATHS): CitationGuard {
  const guard = new CitationGuard(paths, () => texts, tokenizer, stops);
  guard.advanceText(text);
  return guard;
}

function id(text: string): number {
  const ids = tokenizer.encode(text);
  assert.equal(ids.length, 1, `${JSON.stringify(text)} is one token`);
  return ids[0]!;
}

/** Whether the constraint lets the token `token` (an id, or the text of a single token) through. */
function lets(constraint: CitationConstraint, token: string | number): boolean {
  const at = typeof token === 'number' ? token : id(token);
  if (!constraint) return true;
  if ('except' in constraint) return !constraint.except.has(at);
  return constraint.only.has(at) || (constraint.orEnding && texts.endsWord[at] === 1);
}

test('inside a packed path, only tokens that go on with one are left', () => {
  const constraint = guardAfter('It is defined in src/net/kol').constraint();
  assert.ok(constraint && 'only' in constraint);
  assert.ok(lets(constraint, 'kh'));
  assert.ok(lets(constraint, 'k'));
  assert.ok(!lets(constraint, 'ks'), 'src/net/kolks is no packed path');
  assert.ok(!lets(constraint, 'kt'));
  assert.ok(!lets(constraint, '.'), 'src/net/kol is not a whole path');
  assert.ok(!lets(constraint, ' '));
  assert.ok(!lets(constraint, EOT), 'the answer cannot end half-way through a path');
});

test('a whole path may end the word: a period, a backtick, a space, the end of the answer; a letter may not', () => {
  const constraint = guardAfter('See `src/net/kolkhoz.py').constraint();
  assert.ok(constraint);
  for (const text of ['.', '`', ' ', ')', ':', '`.', ' The', '\n']) assert.ok(lets(constraint, text), JSON.stringify(text));
  assert.ok(lets(constraint, EOT));
  assert.ok(!lets(constraint, 'x'));
  assert.ok(!lets(constraint, '_'));
  // a path that is also the start of another goes on or ends, and so after a period that may be the sentence's end
  for (const [word, longer] of [['in docs/guide.md', '.b'], ['See docker/Dockerfile.', 'dev']] as const) {
    const both = guardAfter(word).constraint();
    assert.ok(lets(both, longer), `${word} + ${longer}`);
    for (const text of [' ', ' The', '\n']) assert.ok(lets(both, text), `${word} + ${JSON.stringify(text)}`);
    assert.ok(lets(both, EOT));
    assert.ok(!lets(both, 'x'));
  }
  // after a whole path and a period, no letter goes on with it ("src/net/kolkhoz.py.bak" is not packed)
  const ended = guardAfter('in src/net/kolkhoz.py.').constraint();
  assert.ok(!lets(ended, 'bak'));
  assert.ok(lets(ended, ' The'));
  assert.ok(lets(ended, EOT));
  assert.equal(guardAfter('in src/net/kolkhoz.pyc').constraint(), undefined, 'a path the pack does not hold is left alone');
  assert.equal(guardAfter('in src/net/kolkhoz.py，第').constraint(), undefined, 'text after a path, with no space (CJK), is left alone');
  assert.equal(guardAfter('in src/net/kolkhoz.py$').constraint(), undefined);
});

test('a folder is not a whole path: a path cannot end there (a small model would escape a file it cannot spell)', () => {
  for (const word of ['Tests live in `src/net/', 'in src/net', 'ls src/']) {
    const constraint = guardAfter(word).constraint();
    assert.ok(constraint, word);
    for (const text of ['`', ' ', '.', '*']) assert.ok(!lets(constraint, text), `${word} + ${JSON.stringify(text)}`);
    assert.ok(!lets(constraint, EOT));
  }
});

test('a top folder\'s name cannot go on into a folder the pack does not have; other words are left alone', () => {
  const intoFolder = guardAfter('It is in src').constraint();
  assert.ok(intoFolder && 'except' in intoFolder);
  assert.ok(lets(intoFolder, '/'));
  assert.ok(!lets(intoFolder, '/lib'), 'src/lib is no packed folder');
  assert.ok(lets(intoFolder, 'ing'), 'the word may stay a word');
  assert.equal(guardAfter('read and').constraint(), undefined, '"and/or": and is no packed folder');
  assert.equal(guardAfter('see e').constraint(), undefined, '"e.g." is left alone');
  assert.equal(guardAfter('It is defined in lib/net/').constraint(), undefined, 'a path the pack does not hold is left alone');
  assert.equal(guardAfter('').constraint(), undefined);
  assert.equal(guardAfter('in src/net/kolkhoz.py and ').constraint(), undefined, 'a new word after a boundary');
  const stopped = guardAfter('in src/net/kol');
  stopped.advance(EOT);
  assert.equal(stopped.constraint(), undefined, 'a stop token ends the word');
});

test('a path the model wants with confidence that the pack lacks goes free; a near miss is kept to the pack', () => {
  const paths = ['src/net/http.py', 'src/net/ssl.py'];
  const logits = (best: string, margin: number) => {
    const row = new Float32Array(tokenizer.vocabSize);
    row[id('http')] = 10;
    row[id(best)] = 10 + margin;
    return row;
  };
  const confident = guardAfter('Create src/net/', paths);
  assert.equal(argmax(confident.apply(logits('utils', RELEASE_MARGIN + 1))), id('utils'), 'a new file: free');
  confident.advanceText('utils');
  assert.equal(confident.constraint(), undefined, 'free until the word ends');
  confident.advanceText(' and src/net/');
  assert.equal(argmax(confident.apply(logits('utils', 1))), id('http'), 'the next word is guarded again');
  const nearMiss = guardAfter('in src/net/', paths);
  assert.equal(argmax(nearMiss.apply(logits('utils', RELEASE_MARGIN - 1))), id('http'));
});

test('a non-ASCII character in a path is spelled byte by byte, and only where a packed path has it', () => {
  const paths = ['src/caf\u00e9.py', 'src/cafe.py', 'src/cafx/a.py'];
  const constraint = guardAfter('in src/caf', paths);
  const next = constraint.constraint();
  assert.ok(next && 'only' in next);
  assert.ok(lets(next, 'e'));
  assert.ok(texts.partial.some((token) => lets(next, token)), 'the bytes of é');
  assert.ok(!lets(next, 'z'));
  // written through the decoder: the word holds é once its bytes are all there
  const guard = guardAfter('in src/caf', paths);
  for (const token of tokenizer.encode('\u00e9.')) guard.advance(token);
  assert.ok(lets(guard.constraint(), 'py'), JSON.stringify(tokenizer.encode('\u00e9.')));
  assert.equal(guardAfter('in src/caf\u00e9.py.', paths).constraint() !== undefined, true);
});

test('greedy decoding over random logits under the guard always writes a whole packed file', () => {
  const random = seededRandom(11);
  const paths = Array.from({ length: 300 }, (_, i) => `src/mod${i % 17}/part_${(i * 7919) % 1000}_${i}.ts`);
  for (let trial = 0; trial < 20; trial++) {
    const guard = guardAfter('It is defined in src/', paths);
    let written = 'src/';
    for (let step = 0; step < 60; step++) {
      if (!guard.constraint()) break;
      // random scores, the file's next piece among them: within the margin, so the guard keeps the word
      const logits = Float32Array.from({ length: tokenizer.vocabSize }, () => random());
      const next = argmax(guard.apply(logits));
      if (next === EOT) break;
      written += tokenizer.decode([next]);
      guard.advance(next);
    }
    const path = /^[A-Za-z0-9_/.-]*/.exec(written)![0].replace(/\.+$/, '');
    assert.ok(paths.includes(path), `${JSON.stringify(written)} starts with a packed file`);
  }
});

test('a SentencePiece tokenizer\'s spaces (dropped when a token decodes alone) still end words', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '\u2581in': 3, '\u2581src': 4, '/': 5, 'a': 6, '.': 7, 'py': 8, '\u2581and': 9, '\u2581': 10, '\u2581a': 11 };
  const file = join(tempDir(), 'tokenizer.json');
  writeFileSync(file, JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], pre_tokenizer: null, post_processor: null,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: [] },
  }));
  const sentencePiece: TextTokenizer = loadTokenizer(file);
  assert.equal(sentencePiece.decode([4]), 'src', 'alone, the space is dropped');
  const own = new TokenTexts(sentencePiece, 12, new Set([2]));
  assert.equal(own.textOf[4], ' src', 'the guard reads it after an anchor');
  const guard = new CitationGuard(['src/a.py'], () => own, sentencePiece, new Set([2]));
  for (const token of [3, 4, 5]) guard.advance(token); // " in src/"
  const constraint = guard.constraint();
  assert.ok(constraint && 'only' in constraint, 'the word is "src/", not "insrc/"');
  assert.ok(constraint.only.has(6));
  for (const token of [6, 7, 8]) guard.advance(token); // "a.py"
  assert.ok(lets(guard.constraint(), 2) && (guard.constraint() as { orEnding: boolean }).orEnding);
  guard.advance(9); // " and"
  assert.equal(guard.constraint(), undefined);
});

test('the vocabulary\'s texts are built only when an answer starts writing a path of the pack', () => {
  let built = 0;
  const guard = new CitationGuard(PATHS, () => { built++; return texts; }, tokenizer, stops);
  for (const word of ['The ', 'answer ', 'is ', 'e.g. ', 'lib/x ', '42.']) { guard.advanceText(word); guard.constraint(); }
  assert.equal(built, 0);
  guard.advanceText(' src');
  assert.ok(guard.constraint());
  guard.advanceText('/net/');
  assert.ok(guard.constraint());
  assert.equal(built, 1, 'built once, then kept');
});

test('constrainedLogits leaves the logits alone without a constraint and masks with one', () => {
  const logits = Float32Array.from([1, 5, 3, 4]);
  const few = { endsWord: Uint8Array.from([0, 0, 0, 1]) } as TokenTexts;
  assert.equal(constrainedLogits(logits, undefined, few), logits);
  assert.equal(argmax(constrainedLogits(logits, { only: new Set([0, 2]), orEnding: false }, few)), 2);
  assert.equal(argmax(constrainedLogits(logits, { only: new Set([0]), orEnding: true }, few)), 3);
  assert.equal(argmax(constrainedLogits(logits, { except: new Set([1]) }, few)), 3);
  assert.equal(constrainedLogits(logits, { only: new Set(), orEnding: false }, few), logits, 'nothing fits: free');
  assert.deepEqual([...logits], [1, 5, 3, 4], 'not modified');
});
