import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestCommonPrefix, PrefixTracker, tokenHash } from '../../engine/runtime/prefixCache';
import { StopStringFilter } from '../../engine/runtime/stopStrings';

test('longest common prefix of token sequences', () => {
  assert.equal(longestCommonPrefix([1, 2, 3, 4], [1, 2, 5]), 2);
  assert.equal(longestCommonPrefix([], [1]), 0);
  assert.equal(longestCommonPrefix([7, 8], [7, 8]), 2);
  assert.equal(tokenHash([1, 2, 3]), tokenHash([1, 2, 3]));
  assert.notEqual(tokenHash([1, 2, 3]), tokenHash([1, 2, 4]));
});

test('the tracker reuses the common prefix and always leaves the last prompt token to run', () => {
  const tracker = new PrefixTracker();
  tracker.append([1, 2, 3, 4, 5, 6]);
  assert.equal(tracker.reusable([1, 2, 3, 9, 9]), 3, 'a new question after the shared document');
  assert.equal(tracker.reusable([1, 2, 3, 4, 5, 6, 7, 8]), 6, 'a follow-up extends the cached tokens');
  assert.equal(tracker.reusable([1, 2, 3]), 2, 'the same prompt again still runs its last token for logits');
  tracker.truncate(3);
  assert.equal(tracker.length, 3);
  assert.equal(tracker.reusable([1, 2, 3, 4, 5, 6, 7]), 3, 'only the kept tokens are reusable');
});

test('stop strings are cut, split across pieces, and never shown in part', () => {
  const filter = new StopStringFilter(['</answer>', 'STOP']);
  const shown: string[] = [];
  let stopped = false;
  for (const piece of ['The key is 42', '.</ans', 'wer> trailing']) {
    const out = filter.push(piece);
    shown.push(out.text);
    if (out.stopped) { stopped = true; break; }
  }
  assert.equal(stopped, true);
  assert.equal(shown.join(''), 'The key is 42.');
  assert.ok(!shown.some((s) => s.includes('<')), 'the start of the stop string was held back');

  const open = new StopStringFilter(['STOP']);
  assert.deepEqual(open.push('go ST'), { text: 'go ', stopped: false });
  assert.deepEqual(open.push('OP? no, STAY'), { text: '', stopped: true });
  const never = new StopStringFilter(['STOP']);
  assert.equal(never.push('almost ST').text + never.flush(), 'almost ST', 'a held-back tail comes out at the end');
});
