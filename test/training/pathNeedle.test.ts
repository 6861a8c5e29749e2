// The data maker's needle_path rows (training/data/makeData.ts): each asks for a path that a needle in its own text
// gives for the asked symbol, the symbol is defined in that path's packed file, the other needles name other paths,
// and the answer is the path as its file header writes it (so, token for token, what the model is to copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../../engine/tokenizer';
import { KINDS } from '../../training/data/kinds';
import { writeFixtureRepo } from '../../training/data/fixtureRepo';
import { tempDir } from '../tempDirs';

const repoRoot = join(__dirname, '..', '..');

test('needle_path rows ask for the path a needle gives, and the answer is that path in its header tokens', () => {
  const roots = tempDir();
  for (const [i, language] of (['py', 'ts', 'py'] as const).entries()) {
    const dir = join(roots, `repo-${i}`);
    mkdirSync(dir);
    writeFixtureRepo(dir, language, `path-needle-test-${i}`, { modules: 10 });
  }
  const out = tempDir();
  const made = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'training/data/makeData.ts'), '--roots', roots, '--out', out,
    '--stage', 't', '--lengths', '1024:1,2048:1', '--examples', '60', '--weights', 'needle_path=400', '--seed', 'test'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);

  const tokenizer = loadTokenizer();
  const tokens = new Uint32Array(new Uint8Array(readFileSync(join(out, 't-0.tokens'))).buffer);
  const index = new BigInt64Array(new Uint8Array(readFileSync(join(out, 't-0.index'))).buffer);
  let rows = 0;
  for (let r = 0; r < index.length / 5; r++) {
    const [offset, length, lossStart, kind] = [0, 1, 2, 3].map((k) => Number(index[r * 5 + k]));
    if (KINDS[kind!] !== 'needle_path') continue;
    rows++;
    const ids = [...tokens.subarray(offset!, offset! + length!)];
    const prompt = tokenizer.decode(ids.slice(0, lossStart));
    const target = ids.slice(lossStart);
    const asked = /What is the special magic path for (\S+) mentioned in the provided text\?/.exec(prompt)?.[1];
    assert.ok(asked, `row ${r} asks for one path`);
    const needles = [...prompt.matchAll(/^One of the special magic paths for (\S+) is: (\S+)\.$/gm)].map((m) => ({ symbol: m[1]!, path: m[2]! }));
    const needle = needles.find((n) => n.symbol === asked);
    assert.ok(needle, `row ${r}: a needle names ${asked}`);
    assert.equal(new Set(needles.map((n) => n.path)).size, needles.length, `row ${r}: the needles name different paths`);
    assert.ok(prompt.trimEnd().endsWith(`The special magic path for ${asked} mentioned in the provided text is`), `row ${r}: RULER's answer prefix ends the prompt`);
    // the path's packed file defines the symbol
    const chunk = prompt.split(`==> ${needle.path} <==\n`)[1]?.split('\n==> ')[0] ?? '';
    assert.match(chunk, new RegExp(`(?:def|class|function)\\s+${asked}\\b`), `row ${r}: ${needle.path} defines ${asked}`);
    // the answer: the path, then '.', then end of turn; the path in the same tokens as in its header
    assert.equal(tokenizer.decode(target), ` ${needle.path}.<|eot_id|>`);
    const header = tokenizer.encode(`==> ${needle.path} <==\n`);
    const inAnswer = tokenizer.encode(` ${needle.path}`);
    assert.deepEqual(header.slice(1, 1 + inAnswer.length), inAnswer, 'the header holds the answer\'s tokens');
  }
  assert.ok(rows >= 20, `${rows} needle_path rows of 60 examples`);
});
