import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { pack } from '../../engine/packer';
import { packForCallerBudget, repositoryBudget } from '../../engine/backends/repositoryBudget';
import { tempDir, writeTree } from '../packer/fixtures';

const dirs: string[] = [];
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

function repo(): string {
  const dir = tempDir('prolong-caller-budget-');
  dirs.push(dir);
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`src/m${String(i).padStart(2, '0')}.ts`] = `export const value${i} = ${i};\n`.repeat(20);
  writeTree(dir, files);
  return dir;
}

test('packForCallerBudget drops whole files until the caller\'s own count fits, and keeps everything when it already fits', async () => {
  const root = repo();
  const cache = tempDir('prolong-caller-cache-');
  dirs.push(cache);
  const packWith = (budget: number | undefined) => pack({ root, budget, order: 'path', cacheFile: false }, undefined);
  // a caller whose tokenizer makes one token of every 2 characters (about twice our count)
  let counted = 0;
  const count = async (text: string) => { counted++; return Math.ceil(text.length / 2); };
  const whole = await packWith(undefined);
  const callerWhole = Math.ceil(whole.document.length / 2);

  const all = await packForCallerBudget(packWith, count, callerWhole);
  assert.equal(all.pack.files.length, 12);
  assert.equal(all.callerTokens, callerWhole);
  assert.equal(counted, 1, 'one count when the whole pack fits');

  const half = Math.floor(callerWhole / 2);
  const fitted = await packForCallerBudget(packWith, count, half);
  assert.ok(fitted.callerTokens <= half, `${fitted.callerTokens} <= ${half}`);
  assert.equal(fitted.callerTokens, Math.ceil(fitted.pack.document.length / 2));
  assert.ok(fitted.pack.files.length >= 4 && fitted.pack.files.length < 12, `${fitted.pack.files.length} files`);
  const kept = fitted.pack.files.map((f) => f.path);
  assert.deepEqual(kept, whole.files.map((f) => f.path).filter((p) => kept.includes(p)), 'the pack order of the kept files is unchanged');
  assert.deepEqual(fitted.pack.dropped.map((f) => f.path).sort(), whole.files.map((f) => f.path).filter((p) => !kept.includes(p)), 'the report lists each dropped file');

  // a budget below the document's header: the packer's own error, naming the smallest budget that works
  await assert.rejects(packForCallerBudget(packWith, count, 5), /The token budget \d+ is too small .*: the document's header alone takes \d+ tokens/);
});

test('repositoryBudget: the context less the answer and the prompt around the repository; an error when nothing fits', async () => {
  const info = { kind: 'remote' as const, model: 'm', detail: 'd', contextLength: 10_000 };
  const around = async () => ({ tokens: 84, exact: true });
  assert.equal(await repositoryBudget(info, 1000, around), 10_000 - 1000 - 84 - 16);
  assert.equal(await repositoryBudget(info, 1000, around, 500), 500);
  assert.equal(await repositoryBudget({ ...info, contextLength: undefined }, 1000, around, 700), 700);
  await assert.rejects(repositoryBudget({ ...info, contextLength: 1000 }, 1000, around), /The context of 1,000 tokens \(m\) leaves no room for the repository after 1,000 answer tokens and 100 for the question/);
});
