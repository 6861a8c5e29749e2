import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixturesForThisFile, closedPortUrl, TEST_MODEL } from './fixtures/server';
import { QUESTION_MARKER } from '../../engine/backends/prompt';

const repoRoot = join(__dirname, '..', '..');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const serve = fixturesForThisFile();
const dirs: string[] = [];
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

/** Runs `prolong ask ...` from source (as out/cli.js would, through tsx). */
function prolong(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, join(repoRoot, 'engine/cli/main.ts'), ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ANSWER = 'b is defined in src/b.ts as a + 1.';

/** A temporary folder (removed after the tests) holding `files`. */
function tempFolder(prefix: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('prolong ask packs a directory, streams the answer, and reports prompt tokens and time to first token', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: ANSWER });
  const dir = tempFolder('prolong-ask-', { 'a.ts': 'export const a = 1;\n', 'b.ts': 'import { a } from "./a";\nexport const b = a + 1;\n' });
  const cache = tempFolder('prolong-cache-');
  const run = await prolong(['ask', '--server', fixture.url, '--model', TEST_MODEL, '--dir', dir, 'Where is b defined?'], { XDG_CACHE_HOME: cache });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${ANSWER}\n`);
  assert.match(run.stderr, /^packed 2 files, [\d,]+ tokens$/m);
  assert.match(run.stderr, new RegExp(`${TEST_MODEL} \\(vllm at ${fixture.url.replace(/\./g, '\\.')}\\) · prompt \\d+ tokens \\(0 from the prefix cache\\) · first token after \\d+\\.\\d\\d s · 9 tokens in \\d+\\.\\d\\d s$`, 'm'));
  const body = JSON.parse(fixture.requests.find((r) => r.path === '/v1/chat/completions')!.body) as { messages: { role: string; content: string }[] };
  const user = body.messages[1].content;
  assert.ok(user.includes('export const b = a + 1;'), 'the packed repository is in the prompt');
  assert.ok(user.endsWith(`${QUESTION_MARKER}Where is b defined?`), 'the question comes last');
});

test('prolong ask --definitions-index sends the index after the last file; without a repository to pack it is refused', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: ANSWER });
  const dir = tempFolder('prolong-ask-', { 'a.ts': 'export const a = 1;\n', 'b.py': 'def bee():\n    return 2\n' });
  const cache = tempFolder('prolong-cache-');
  const run = await prolong(['ask', '--server', fixture.url, '--model', TEST_MODEL, '--dir', dir, '--definitions-index', 'Where is bee defined?'], { XDG_CACHE_HOME: cache });
  assert.equal(run.code, 0, run.stderr);
  const body = JSON.parse(fixture.requests.find((r) => r.path === '/v1/chat/completions')!.body) as { messages: { role: string; content: string }[] };
  assert.ok(body.messages[1].content.includes('    return 2\n\nDefinitions:\n`a`: a.ts\n`bee`: b.py\n'), body.messages[1].content);
  const refused = await prolong(['ask', '--server', fixture.url, '--no-repository', '--definitions-index', 'Hi?']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--definitions-index is for a repository prolong ask packs itself/);
});

test('prolong ask --json with the API key from PROLONG_API_KEY (llama.cpp)', async () => {
  const fixture = await serve({ flavor: 'llama.cpp', answer: ANSWER, apiKey: 'sk-cli' });
  const run = await prolong(['ask', '--server', `${fixture.url}/v1`, '--no-repository', '--json', '--max-tokens', '4', 'Hi?'], { PROLONG_API_KEY: 'sk-cli' });
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { model: string; text: string; finishReason: string; completionTokens: number };
  assert.equal(result.model, TEST_MODEL);
  assert.equal(result.text, 'b is defined in ');
  assert.equal(result.finishReason, 'length');
  assert.equal(result.completionTokens, 4);
});

test('prolong ask stops with the reason when the context leaves no room for the repository', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: ANSWER, contextLength: 1060 });
  const dir = mkdtempSync(join(tmpdir(), 'prolong-ask-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'a.ts'), 'export const a = 1;\n');
  const run = await prolong(['ask', '--server', fixture.url, '--dir', dir, 'Hi?']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /The context of 1,060 tokens \(.*\) leaves no room for the repository after 1,024 answer tokens and \d+ for the question and chat template/);
  assert.match(run.stderr, /--max-tokens/);
  assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 0, 'nothing was sent');
  // with the room the question really takes (counted by the server), a small context still fits the repository
  const fits = await prolong(['ask', '--server', fixture.url, '--dir', dir, '--max-tokens', '900', 'Hi?']);
  assert.equal(fits.code, 0, fits.stderr);
  assert.match(fits.stderr, /^packed 1 files/m);
});

test('prolong ask against a closed port exits 1 with the reason', async () => {
  const url = await closedPortUrl();
  const run = await prolong(['ask', '--server', url, '--no-repository', 'Hi?']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^prolong: http:\/\/127\.0\.0\.1:\d+ refused the connection: nothing is listening on port \d+\. Start the server/m);
  assert.equal(run.stdout, '');
});

test('prolong ask --check reports each step, and fails on the first problem with its reason', async () => {
  const fixture = await serve({ flavor: 'vllm', apiKey: 'sk-check', contextLength: 32768 });
  const good = await prolong(['ask', '--check', '--no-repository', '--server', fixture.url], { PROLONG_API_KEY: 'sk-check' });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /^Server http:\/\/127\.0\.0\.1:\d+: ready\n  ✓ Connect: .*\n  ✓ Model: .*\n  ✓ Context length: 32,768 tokens\.\n  ✓ Token counts: .*\n  ✓ Answer: A one-token answer came back, first token after \d+\.\d\d s\.\n$/);
  const bad = await prolong(['ask', '--check', '--no-repository', '--server', fixture.url], { PROLONG_API_KEY: 'sk-wrong' });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /not ready\n  ✗ Connect: .* unauthorized \(HTTP 401: Unauthorized\)\.\n      Set or correct the PROLONG_API_KEY environment variable/);
  assert.ok(!bad.stdout.includes('sk-wrong') && !bad.stderr.includes('sk-wrong'), 'the key is never printed');
});

test('prolong ask --check without --dir checks the current folder, as prolong ask packs it; never the home folder', async () => {
  const fixture = await serve({ flavor: 'vllm', contextLength: 32768 });
  const home = mkdtempSync(join(tmpdir(), 'prolong-home-'));
  dirs.push(home);
  const project = join(home, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'a.ts'), 'export const a = 1;\n');
  const env = { HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
  const inProject = await prolong(['ask', '--check', '--server', fixture.url], env, project);
  assert.equal(inProject.code, 0, inProject.stdout + inProject.stderr);
  assert.match(inProject.stdout, /✓ Context length: 32,768 tokens; the packed repository \(\d+ tokens\) fits/);
  const inHome = await prolong(['ask', '--check', '--server', fixture.url], env, home);
  assert.equal(inHome.code, 1);
  assert.match(inHome.stderr, /Refusing to pack your home folder/);
});

test('prolong ask --json names a server under "server" and says which backend answered', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: 'ok' });
  const run = await prolong(['ask', '--server', fixture.url, '--no-repository', '--json', '--max-tokens', '4', 'Hi?']);
  assert.equal(run.code, 0, run.stderr);
  const json = JSON.parse(run.stdout) as { backend: string; server?: string; device?: string };
  assert.equal(json.backend, 'remote');
  assert.equal(typeof json.server, 'string');
  assert.equal(json.device, undefined);
});

test('the ask summary gives a time to first token only when a token came (a question cancelled before it says none)', async () => {
  const { summary } = await import('../../engine/cli/ask');
  const info = { kind: 'remote' as const, model: 'm', detail: 'vllm at http://h:1' };
  const cancelled = summary(info, { text: '', finishReason: 'cancelled', promptTokens: 120, completionTokens: 0, timeToFirstTokenMs: 0, totalMs: 1500, warnings: [] });
  assert.equal(cancelled, 'm (vllm at http://h:1) · prompt 120 tokens · 0 tokens in 1.50 s — cancelled');
  const answered = summary(info, { text: 'x', finishReason: 'stop', promptTokens: 120, completionTokens: 3, cachedPromptTokens: 100, timeToFirstTokenMs: 250, totalMs: 400, warnings: [] });
  assert.equal(answered, 'm (vllm at http://h:1) · prompt 120 tokens (100 from the prefix cache) · first token after 0.25 s · 3 tokens in 0.40 s');
});
