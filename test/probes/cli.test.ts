import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeOutputFile } from '../../engine/cli/outputFiles';

const repoRoot = join(__dirname, '..', '..');
import type { ProbeRunResult } from '../../engine/probes/types';
import { startFixture } from '../remote/fixtures/server';

/** Runs `prolong probe ...` from source, as out/cli.js would. */
function prolong(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(repoRoot, 'engine/cli/main.ts'), 'probe', ...args], { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('prolong probe against a server prints a table and writes JSON and CSV', async () => {
  const fixture = await startFixture({ flavor: 'llama.cpp', answer: 'uiavov krxvjf' });
  const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  try {
    const out = join(dir, 'results.json');
    const csv = join(dir, 'results.csv');
    const run = await prolong(['--server', fixture.url, '--tasks', 'niah_single_1,fwe', '--lengths', '4k', '--samples', '1', '--seed', '9', '--out', out, '--csv', csv]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^task\s+4K$/m);
    assert.match(run.stdout, /^niah_single_1\s+0\.0$/m);
    assert.match(run.stdout, /^ref: ProLong-8B-512k-Instruct\s+94\.5$/m);
    assert.match(run.stdout, /effective length \(RULER average >= 85\.6\): below 85\.6 at every length/);
    const result = JSON.parse(readFileSync(out, 'utf8')) as ProbeRunResult;
    assert.equal(result.metadata.seed, '9');
    assert.deepEqual(result.metadata.tasks, ['niah_single_1', 'fwe']);
    assert.equal(result.instances.length, 2);
    assert.match(readFileSync(csv, 'utf8'), /^kind,task,length,depth_percent,samples,score\ntask,niah_single_1,4096,,1,0\n/);
  } finally {
    await fixture.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prolong probe whose server fails partway writes the finished results and exits non-zero with the error', async () => {
  const fixture = await startFixture({ flavor: 'vllm', answer: 'uiavov krxvjf' });
  fixture.faults.push({ kind: 'status', status: 500, times: 100, after: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  try {
    const out = join(dir, 'results.json');
    const csv = join(dir, 'results.csv');
    const run = await prolong(['--server', fixture.url, '--tasks', 'niah_single_1', '--lengths', '4k', '--samples', '4', '--seed', '9', '--out', out, '--csv', csv]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /prolong: the probe run stopped after 2 instance\(s\): .*HTTP 500/);
    assert.match(run.stdout, /^FAILED: partial results/m);
    const result = JSON.parse(readFileSync(out, 'utf8')) as ProbeRunResult;
    assert.equal(result.instances.length, 2);
    assert.match(result.metadata.error ?? '', /HTTP 500/);
    assert.match(readFileSync(csv, 'utf8'), /^kind,task,length,depth_percent,samples,score\n/);
  } finally {
    await fixture.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prolong probe --jsonl streams typed events and the result, one JSON object per line', async () => {
  const fixture = await startFixture({ flavor: 'vllm', answer: 'nothing' });
  try {
    const run = await prolong(['--server', fixture.url, '--tasks', 'fwe', '--lengths', '4k', '--samples', '2', '--jsonl']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    assert.deepEqual(lines.map((line) => line.type), ['planned', 'instance-started', 'warning', 'instance-finished', 'instance-started', 'instance-finished', 'task-length-scored', 'result']);
    // The warning: the fixture counts whitespace pieces, not Llama 3 tokens.
    const last = lines[lines.length - 1] as unknown as { result: ProbeRunResult };
    assert.equal(last.result.instances.length, 2);
  } finally {
    await fixture.close();
  }
});

test('prolong probe --dry-run lists instances without a backend; bad options are user errors', async () => {
  const dry = await prolong(['--dry-run', '--tasks', 'vt', '--lengths', '4k', '--samples', '2']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^vt\/4096\/0\tprompt \d+\t\+ output 30\t= 40\d\d of 4096$/m);
  assert.match(dry.stdout, /^vt\/4096\/1\t/m);
  const bad = await prolong(['--tasks', 'niah_single_9']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Unknown probe task 'niah_single_9'/);
  // without --lengths and a model: the demo model's 1K-16K (a server's default, 4K-128K, would not fit it)
  const demo = await prolong(['--dry-run', '--tasks', 'vt', '--samples', '1']);
  assert.equal(demo.code, 0, demo.stderr);
  assert.deepEqual([...demo.stdout.matchAll(/^vt\/(\d+)\/0\t/gm)].map((m) => Number(m[1])), [1024, 2048, 4096, 8192, 16384]);
  const server = await prolong(['--dry-run', '--tasks', 'vt', '--samples', '1', '--backend', 'remote']);
  assert.deepEqual([...server.stdout.matchAll(/^vt\/(\d+)\/0\t/gm)].map((m) => Number(m[1])), [4096, 8192, 16384, 32768, 65536, 131072]);
  // (with neither --server nor --model the demo model runs: test/engine/demoModel.test.ts)
  const remoteWithoutServer = await prolong(['--backend', 'remote', '--tasks', 'vt', '--lengths', '4k']);
  assert.equal(remoteWithoutServer.code, 1);
  assert.match(remoteWithoutServer.stderr, /--backend remote needs --server URL/);
});

test('prolong probe takes --timeout, --header and --api like prolong ask, and passes them to the server', async () => {
  const fixture = await startFixture({ flavor: 'vllm', answer: 'nothing' });
  try {
    const run = await prolong(['--server', fixture.url, '--tasks', 'vt', '--lengths', '4k', '--samples', '1', '--jsonl',
      '--timeout', '1200', '--header', 'X-Route: gpu-a', '--api', 'completions']);
    assert.equal(run.code, 0, run.stderr);
    const generation = fixture.requests.filter((r) => r.method === 'POST' && r.path === '/v1/completions');
    assert.equal(generation.length, 1, 'with --api completions the prompt goes to /v1/completions');
    assert.ok(fixture.requests.every((r) => r.headers['x-route'] === 'gpu-a'), 'every request carries the --header');
  } finally {
    await fixture.close();
  }
  const badTimeout = await prolong(['--server', 'http://127.0.0.1:9', '--tasks', 'vt', '--lengths', '4k', '--timeout', 'soon']);
  assert.equal(badTimeout.code, 1);
  assert.match(badTimeout.stderr, /--timeout expects seconds, not 'soon'/);
  const badApi = await prolong(['--server', 'http://127.0.0.1:9', '--tasks', 'vt', '--lengths', '4k', '--api', 'responses']);
  assert.match(badApi.stderr, /--api must be chat or completions, not 'responses'/);
  const local = await prolong(['--model', '/nonexistent', '--tasks', 'vt', '--lengths', '4k', '--timeout', '60']);
  assert.match(local.stderr, /--timeout, --header and --api are for a server/);
});

test('prolong probe where every length is longer than the server\'s context measures nothing and exits 1', async () => {
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 1500 });
  try {
    const run = await prolong(['--server', fixture.url, '--tasks', 'vt', '--lengths', '2k,4k', '--samples', '1']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /skipped vt at 2K: the backend's context length is 1500 tokens/);
    assert.match(run.stderr, /no probe ran: 2 task\/length pair\(s\) skipped/);
    assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 0);
  } finally {
    await fixture.close();
  }
});

test('prolong probe checks --out and --csv before running: a missing folder is a one-line error, and no request is made', async () => {
  const fixture = await startFixture({ flavor: 'vllm', answer: 'nothing' });
  const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  try {
    for (const [option, path] of [['--out', join(dir, 'missing', 'results.json')], ['--csv', join(dir, 'missing', 'results.csv')], ['--out', dir]] as const) {
      const run = await prolong(['--server', fixture.url, '--tasks', 'fwe', '--lengths', '4k', '--samples', '1', option, path]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, path === dir ? new RegExp(`^prolong: --out ${dir} is a folder\\.`) : new RegExp(`^prolong: ${option} ${path}: the folder ${join(dir, 'missing')} does not exist\\.`));
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(fixture.requests.filter((r) => r.path.includes('completions')).length, 0, 'nothing was asked of the server');
  } finally {
    await fixture.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('results that cannot be written where asked are written to the temporary folder instead, and the path is said', () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-out-'));
  try {
    const written = writeOutputFile(join(dir, 'gone', 'results.json'), '{"instances":[]}', '--out');
    assert.ok(written !== undefined && written.startsWith(tmpdir()) && written.endsWith('results.json'), written);
    assert.equal(readFileSync(written, 'utf8'), '{"instances":[]}');
    rmSync(written);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prolong probe: bad numbers are user errors naming the option; the home folder is never packed as the repository', async () => {
  for (const [args, message] of [
    [['--lengths', '0'], /--lengths: 0 tokens is too short for a probe/],
    [['--lengths', '4k,-5'], /--lengths expects a number such as 4096, 32k or 1m, not '-5'/],
    [['--threshold', '200'], /--threshold is a score from 0 to 100, not '200'/],
    [['--samples', '-2'], /--samples expects a number/],
  ] as const) {
    const run = await prolong(['--dry-run', '--tasks', 'vt', ...args]);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const home = mkdtempSync(join(tmpdir(), 'probe-home-'));
  try {
    const env = { ...process.env, HOME: home };
    const inHome = await prolong(['--dry-run', '--tasks', 'repo_qa_1', '--lengths', '4k', '--samples', '1'], { cwd: home, env });
    assert.equal(inHome.code, 1, inHome.stderr);
    assert.match(inHome.stderr, new RegExp(`Refusing to pack your home folder \\(${home}\\) as the repository`));
    const project = join(home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'main.py'), 'def main():\n    return "value"\n'.repeat(40));
    const inProject = await prolong(['--dry-run', '--tasks', 'code_needle', '--lengths', '4k', '--samples', '1'], { cwd: project, env: { ...env, XDG_CACHE_HOME: join(home, '.cache') } });
    assert.match(inProject.stderr, new RegExp(`note: the repository tasks use ${project} as their haystack`));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
