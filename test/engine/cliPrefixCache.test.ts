// `prolong ask` with the local engine keeps the prefix store the extension's engine keeps: two identical runs, two
// processes, and the second starts from the KV the first saved.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModel } from './fixtures';
import { runProlong } from './cliProcess';

const scratch = mkdtempSync(join(tmpdir(), 'prolong-cli-prefix-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('two identical `prolong ask` runs on the CPU: the second reuses the saved prefix (cachedPromptTokens > 0)', async () => {
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], maxContext: 8192 });
  const repo = join(scratch, 'repo');
  mkdirSync(repo);
  for (let i = 0; i < 12; i++) writeFileSync(join(repo, `m${i}.ts`), Array.from({ length: 30 }, (_, j) => `export const value${i}_${j} = ${i * j};\n`).join(''));
  const cache = join(scratch, 'cache');
  const ask = (...extra: string[]) => runProlong(['ask', '--model', modelDir, '--ep', 'cpu', '--dir', repo, '--max-tokens', '2', '--json', ...extra, 'Which value is largest?'], { XDG_CACHE_HOME: cache });
  type Answer = { backend: string; device?: string; server?: string; promptTokens: number; cachedPromptTokens: number };

  const first = await ask();
  assert.equal(first.code, 0, first.stderr);
  const one = JSON.parse(first.stdout) as Answer;
  assert.ok(one.promptTokens > 2048, `a prompt longer than one prefill chunk (${one.promptTokens})`);
  assert.equal(one.cachedPromptTokens, 0);
  assert.equal(one.backend, 'local');
  assert.match(one.device ?? '', /CPU/, 'the local engine\'s device, not a "server"');
  assert.equal(one.server, undefined);
  assert.equal(readdirSync(join(cache, 'prolong', 'prefix-cache')).filter((f) => f.endsWith('.kv')).length, 1);

  const second = await ask();
  assert.equal(second.code, 0, second.stderr);
  const two = JSON.parse(second.stdout) as Answer;
  assert.equal(two.promptTokens, one.promptTokens);
  assert.ok(two.cachedPromptTokens > 0 && two.cachedPromptTokens <= two.promptTokens, `cached ${two.cachedPromptTokens} of ${two.promptTokens}`);

  const uncached = await ask('--no-cache');
  assert.equal(uncached.code, 0, uncached.stderr);
  assert.equal((JSON.parse(uncached.stdout) as Answer).cachedPromptTokens, 0);
});
