// The prefix cache on disk: a new engine (a restarted VS Code) reuses the document prefix that an earlier
// engine saved, and answers exactly as an engine that computed everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../engine/runtime/engine';
import { PrefixStore } from '../../engine/runtime/prefixStore';
import type { LoadOptions } from '../../engine/runtime/protocol';
import { tinyModel } from './fixtures';

const documentTokens = Array.from({ length: 300 }, (_, i) => (i * 17 + 3) % 250);
const ask = (question: number[]) => ({ prompt: { kind: 'tokens' as const, tokens: [...documentTokens, ...question] }, sampling: { maxTokens: 8 }, ignoreStopTokens: true, returnTokens: true });

async function answer(options: LoadOptions, question: number[]) {
  const engine = await Engine.load(options);
  try {
    return await engine.generate(ask(question), () => {}, new AbortController().signal);
  } finally {
    await engine.dispose();
  }
}

/** Runs `body` with a new directory for prefix files, removed afterwards. */
async function withStoreDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'prolong-prefix-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a new engine starts from the prefix saved on disk and answers as a fresh computation does', () => withStoreDir(async (dir) => {
  const base: LoadOptions = { modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 64 };
  const withStore = { ...base, prefixCacheDir: dir };

  const first = await answer(withStore, [5, 6, 7]);
  assert.equal(first.cachedPromptTokens, 0);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.kv')).length, 1, 'one prefix file for the model');

  const second = await answer(withStore, [9, 9]);
  assert.equal(second.cachedPromptTokens, documentTokens.length, 'the document came from disk');
  const fresh = await answer(base, [9, 9]);
  assert.equal(fresh.cachedPromptTokens, 0);
  assert.deepEqual(second.tokens, fresh.tokens);

  // A damaged file is ignored (and replaced), never trusted.
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.kv'))!);
  writeFileSync(file, 'not a prefix cache');
  const afterDamage = await answer(withStore, [9, 9]);
  assert.equal(afterDamage.cachedPromptTokens, 0);
  assert.deepEqual(afterDamage.tokens, fresh.tokens);
}));

test('two stores sharing one file: a store never pairs the other\'s KV with its own stale tokens', () => withStoreDir((dir) => {
  const a = new PrefixStore(dir, 'k'.repeat(64));
  const b = new PrefixStore(dir, 'k'.repeat(64)); // another window's engine, same model, same file
  // Two heads, two positions, one byte each per position: head 0 = [p0, p1], head 1 = [p0, p1].
  a.save([1, 2], [Uint8Array.from([10, 11, 20, 21])]);
  assert.deepEqual(a.savedTokens(), [1, 2]);
  // Same sizes, so stale part sizes would still "fit": only the header read with the parts tells them apart.
  b.save([3, 4], [Uint8Array.from([30, 31, 40, 41])]);
  assert.deepEqual(a.savedTokens(), [3, 4], 'the header is read again once the file changed');
  const loaded = a.load();
  assert.ok(loaded);
  assert.deepEqual(loaded.tokens, [3, 4]);
  assert.deepEqual([...loaded.parts[0]!], [30, 31, 40, 41]);

  // Only the positions asked for are read, head by head; the count is decided from the header load read.
  const seen: (readonly number[])[] = [];
  const first = a.load((saved) => { seen.push(saved); return 1; }, 2);
  assert.ok(first);
  assert.deepEqual(seen, [[3, 4]]);
  assert.deepEqual(first.tokens, [3]);
  assert.deepEqual([...first.parts[0]!], [30, 40]);
  assert.equal(a.load(() => 0, 2), undefined, 'nothing worth reading: nothing read');

  b.save([5, 6, 7], [Uint8Array.from([50, 51, 52])]);
  assert.deepEqual(a.load()?.tokens, [5, 6, 7]);
  writeFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.kv'))!), 'damaged');
  assert.equal(a.load(), undefined);
  assert.deepEqual(a.savedTokens(), []);
}));

test('a prefill is saved to disk, and a prompt sharing less than a prefill chunk does not restore it', () => withStoreDir(async (dir) => {
  const options: LoadOptions = { modelDir: await tinyModel(), executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 64, prefixCacheDir: dir };
  const prefill = await Engine.load(options);
  try {
    await prefill.generate({ prompt: { kind: 'tokens', tokens: documentTokens }, sampling: { maxTokens: 0 } }, () => {}, new AbortController().signal);
  } finally {
    await prefill.dispose();
  }
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.kv')).length, 1, 'the prefill was saved');

  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.kv'))!);
  const before = statSync(file);

  const after = await answer(options, [5, 6]);
  assert.equal(after.cachedPromptTokens, documentTokens.length, 'the question after a restart reuses the prefill');
  const unchanged = statSync(file);
  assert.deepEqual([unchanged.ino, unchanged.mtimeMs, unchanged.size], [before.ino, before.mtimeMs, before.size],
    'a prompt the saved prefix covers but for a short tail is not saved again');

  const other = await Engine.load(options);
  try {
    const short = await other.generate({ prompt: { kind: 'tokens', tokens: [...documentTokens.slice(0, 10), 1, 2, 3] }, sampling: { maxTokens: 2 }, ignoreStopTokens: true },
      () => {}, new AbortController().signal);
    assert.equal(short.cachedPromptTokens, 0, '10 shared tokens are less than a chunk: the saved prefix is not restored');
  } finally {
    await other.dispose();
  }
}));

test('a save that fails leaves no partial file behind', () => withStoreDir((dir) => {
  const store = new PrefixStore(dir, 'k'.repeat(64));
  // the store's file is a directory here, so the final rename fails after the data was written
  mkdirSync(join(dir, `${'k'.repeat(24)}.kv`));
  assert.throws(() => store.save([1, 2, 3], [new Uint8Array(1024)]));
  assert.deepEqual(readdirSync(dir), [`${'k'.repeat(24)}.kv`], 'the temporary file was removed');
}));
