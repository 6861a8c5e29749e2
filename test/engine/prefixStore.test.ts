// The prefix cache on disk: a new engine (a restarted VS Code) reuses the document prefix that an earlier
// engine saved, and answers exactly as an engine that computed everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../engine/runtime/engine';
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

test('a new engine starts from the prefix saved on disk and answers as a fresh computation does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prolong-prefix-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
