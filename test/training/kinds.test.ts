// The data's row kinds (training/data/kinds.ts) and the trainer's copy of them (training/train.py) must agree: a
// row's kind travels as its index in the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KINDS } from '../../training/data/kinds';

test('training/train.py lists the same row kinds, in the same order, as the data maker', () => {
  const source = readFileSync(join(__dirname, '..', '..', 'training', 'train.py'), 'utf8');
  const list = /^KINDS = \[([^\]]*)\]/m.exec(source);
  assert.ok(list, 'train.py has a KINDS = [...] list');
  const trainerKinds = [...list[1]!.matchAll(/"([a-z_0-9]+)"/g)].map((m) => m[1]);
  assert.deepEqual(trainerKinds, [...KINDS]);
});
