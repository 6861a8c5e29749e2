// The data maker's --follow-ups (training/data/makeData.ts): ask, ask_short and needle_path rows become conversations,
// the Ask view's follow-ups. Each learned span is one answer to the question just before it (a path whose packed file
// defines the symbol asked, or the needle's path), the spans between them are the user's turns and are not learned,
// no answer repeats an earlier one in its row, and without the flag no row has such spans.
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

function makeData(roots: string, followUps: number): string {
  const out = tempDir();
  const made = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'training/data/makeData.ts'), '--roots', roots, '--out', out,
    '--stage', 't', '--lengths', '1024:1,2048:1', '--examples', '80', '--weights', 'ask=100,ask_short=100,needle_path=100',
    '--seed', 'test', '--follow-ups', String(followUps)], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return out;
}

function read(out: string) {
  const bytes = (name: string) => new Uint8Array(readFileSync(join(out, name))).buffer;
  const index = new BigInt64Array(bytes('t-0.index'));
  const masks = new BigInt64Array(bytes('t-0.masks'));
  const masked = new Map<number, [number, number][]>();
  for (let i = 0; i < masks.length; i += 3) {
    const row = Number(masks[i]);
    masked.set(row, [...(masked.get(row) ?? []), [Number(masks[i + 1]), Number(masks[i + 2])]]);
  }
  const rows = [];
  for (let r = 0; r < index.length / 5; r++) {
    const [offset, length, lossStart, kind] = [0, 1, 2, 3].map((k) => Number(index[r * 5 + k])) as [number, number, number, number];
    rows.push({ r, offset, length, lossStart, kind: KINDS[kind]!, masked: masked.get(r) ?? [] });
  }
  return { tokens: new Uint32Array(bytes('t-0.tokens')), rows };
}

/** The packed file under `path`'s header in `prompt`. */
function fileText(prompt: string, path: string): string {
  return prompt.split(`==> ${path} <==\n`)[1]?.split('\n==> ')[0] ?? '';
}

test('--follow-ups: conversations whose every learned span answers the question before it, user turns not learned', () => {
  const roots = tempDir();
  for (const [i, language] of (['py', 'ts'] as const).entries()) {
    const dir = join(roots, `repo-${i}`);
    mkdirSync(dir);
    writeFixtureRepo(dir, language, `follow-up-test-${i}`, { modules: 14 });
  }
  const tokenizer = loadTokenizer();
  const { tokens, rows } = read(makeData(roots, 3));
  const answersPerRow: Record<string, number[]> = {};
  for (const row of rows) {
    if (!['ask', 'ask_short', 'needle_path'].includes(row.kind)) continue;
    const ids = [...tokens.subarray(row.offset, row.offset + row.length)];
    // learned spans: from the loss start to the end, but for the masked ranges (in order, within the row)
    const spans: [number, number][] = [];
    let from = row.lossStart;
    for (const [start, end] of row.masked) {
      assert.ok(start > from && end > start && end < row.length, `row ${row.r}: masked ${start}-${end} lies between answers`);
      spans.push([from, start]);
      from = end;
    }
    spans.push([from, row.length]);
    (answersPerRow[row.kind] ??= []).push(spans.length);
    const paths: string[] = [];
    spans.forEach(([start, end], k) => {
      const before = tokenizer.decode(ids.slice(0, start));
      const answer = tokenizer.decode(ids.slice(start, end));
      assert.ok(answer.endsWith('<|eot_id|>') && !answer.slice(0, -'<|eot_id|>'.length).includes('<|'), `row ${row.r} answer ${k}: one turn's answer (${JSON.stringify(answer)})`);
      if (k > 0) {
        const turn = tokenizer.decode(ids.slice(row.masked[k - 1]![0], row.masked[k - 1]![1]));
        assert.match(turn, /^<\|start_header_id\|>user<\|end_header_id\|>\n\n[^<]+\?<\|eot_id\|><\|start_header_id\|>assistant<\|end_header_id\|>\n\n/, `row ${row.r}: the turn before answer ${k} is the user's question`);
      }
      const question = [...before.matchAll(/(?:`([^`]+)`|special magic path for (\S+) mentioned)/g)].at(-1);
      const symbol = question?.[1] ?? question?.[2];
      assert.ok(symbol, `row ${row.r} answer ${k}: a symbol is asked about`);
      const path = /\(in (\S+)\)\.<\|eot_id\|>$/.exec(answer)?.[1] ?? /^(?:It is defined in | )(\S+)\.<\|eot_id\|>$/.exec(answer)?.[1];
      assert.ok(path, `row ${row.r} answer ${k}: a path (${JSON.stringify(answer)})`);
      if (row.kind === 'needle_path') {
        assert.ok(before.includes(`One of the special magic paths for ${symbol} is: ${path}.`), `row ${row.r}: the needle for ${symbol} gives ${path}`);
      } else {
        assert.match(fileText(before, path), new RegExp(`(?:def|class|function|interface|const|type)\\s+${symbol}\\b`), `row ${row.r}: ${path} defines ${symbol}`);
      }
      assert.ok(!paths.includes(path), `row ${row.r}: ${path} is not answered twice`);
      paths.push(path);
    });
  }
  for (const kind of ['ask', 'ask_short', 'needle_path']) {
    const counts = answersPerRow[kind] ?? [];
    assert.ok(counts.length >= 5, `${counts.length} ${kind} rows`);
    assert.ok(counts.some((n) => n === 4), `${kind}: some rows hold the first answer and 3 follow-ups (${counts.join(' ')})`);
    assert.ok(counts.every((n) => n >= 1 && n <= 4), `${kind}: 1-4 answers a row`);
  }
});

test('without --follow-ups no row has unlearned spans, and every row holds one answer', () => {
  const roots = tempDir();
  const dir = join(roots, 'repo');
  mkdirSync(dir);
  writeFixtureRepo(dir, 'py', 'follow-up-test-none', { modules: 12 });
  const { rows } = read(makeData(roots, 0));
  assert.ok(rows.length > 20);
  assert.deepEqual(rows.filter((row) => row.masked.length > 0).map((row) => row.r), []);
});
