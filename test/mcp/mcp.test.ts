// `prolong mcp` as a child process, driven by the official SDK client over stdio.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fixturesForThisFile, closedPortUrl, TEST_MODEL } from '../remote/fixtures/server';
import { tempDir, writeTree } from '../packer/fixtures';
import { QUESTION_MARKER } from '../../engine/backends/prompt';

const serve = fixturesForThisFile();
const dirs: string[] = [];
const clients: Client[] = [];
after(async () => {
  for (const client of clients) await client.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const root = join(__dirname, '..', '..');
const cache = tempDir('prolong-mcp-cache-');
dirs.push(cache);
const env = { PATH: process.env.PATH ?? '', HOME: cache, XDG_CACHE_HOME: cache };

function repo(): string {
  const dir = tempDir('prolong-mcp-repo-');
  dirs.push(dir);
  writeTree(dir, { 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'import { a } from "./a";\nexport const b = a + 1;\n', 'README.md': '# demo\n' });
  return dir;
}

async function connect(args: string[]): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', join(root, 'engine/cli/main.ts'), 'mcp', ...args], cwd: root, env, stderr: 'pipe' });
  const client = new Client({ name: 'prolong-test', version: '0.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const text = (result: CallToolResult, i = 0): string => {
  const item = result.content[i];
  assert.ok(item && item.type === 'text', 'a text item');
  return item.text;
};

test('lists its tools with input schemas', async () => {
  const client = await connect(['--dir', repo()]);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['ask', 'pack', 'probe', 'probe_summary']);
  const pack = tools.find((t) => t.name === 'pack')!;
  assert.deepEqual(Object.keys(pack.inputSchema.properties ?? {}).sort(), ['budget', 'definitionsIndex', 'dir', 'order', 'reportOnly', 'tokenizer']);
});

test('pack returns the same document as `prolong pack`, and a budget drops files with the report saying which', async () => {
  const dir = repo();
  const client = await connect(['--dir', dir]);
  const result = await client.callTool({ name: 'pack', arguments: {} }) as CallToolResult;
  assert.equal(result.isError, undefined);
  const cli = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'engine/cli/main.ts'), 'pack', dir], { cwd: root, env, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(text(result, 0), cli.stdout);
  const report = result.structuredContent as { files: { path: string; tokens: number }[]; totalTokens: number; dropped: string[] };
  assert.deepEqual(report.files.map((f) => f.path), ['src/a.ts', 'src/b.ts', 'README.md'].sort((x, y) => cli.stdout.indexOf(x) - cli.stdout.indexOf(y)));
  assert.deepEqual(report.dropped, []);

  const small = await client.callTool({ name: 'pack', arguments: { budget: report.totalTokens - 1, reportOnly: true } }) as CallToolResult;
  assert.equal(small.content.length, 1, 'report only');
  const smallReport = small.structuredContent as { totalTokens: number; dropped: string[] };
  assert.ok(smallReport.totalTokens < report.totalTokens);
  assert.equal(smallReport.dropped.length, 1);

  // the definitions index, as `prolong pack --definitions-index` writes it
  const indexed = await client.callTool({ name: 'pack', arguments: { definitionsIndex: true } }) as CallToolResult;
  const cliIndexed = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'engine/cli/main.ts'), 'pack', dir, '--definitions-index'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(text(indexed, 0), cliIndexed.stdout);
  assert.match(text(indexed, 0), /\n\nDefinitions:\n`/);
});

test('ask packs the repository and answers through the configured server', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: 'b is a + 1 in src/b.ts.' });
  const client = await connect(['--dir', repo(), '--server', fixture.url, '--model', TEST_MODEL]);
  const result = await client.callTool({ name: 'ask', arguments: { question: 'What is b?' } }) as CallToolResult;
  assert.equal(result.isError, false, text(result));
  assert.equal(text(result, 0), 'b is a + 1 in src/b.ts.');
  const meta = JSON.parse(text(result, 1)) as { model: string; packedFiles: number; definitionsIndex?: { names: number } };
  assert.equal(meta.model, TEST_MODEL);
  assert.equal(meta.packedFiles, 3);
  assert.equal(meta.definitionsIndex, undefined, 'a server\'s model gets the index only when asked');
  const body = JSON.parse(fixture.requests.find((r) => r.path === '/v1/chat/completions')!.body) as { messages: { content: string }[] };
  assert.ok(body.messages[1]!.content.includes('export const b = a + 1;'));
  assert.ok(body.messages[1]!.content.endsWith(`${QUESTION_MARKER}What is b?`));
  const indexed = await client.callTool({ name: 'ask', arguments: { question: 'Where is b defined?', definitionsIndex: true } }) as CallToolResult;
  assert.equal(indexed.isError, false, text(indexed));
  assert.equal((JSON.parse(text(indexed, 1)) as { definitionsIndex?: { names: number } }).definitionsIndex?.names, 2);
  const last = JSON.parse(fixture.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body) as { messages: { content: string }[] };
  assert.ok(last.messages[1]!.content.includes('\nDefinitions:\n`a`: src/a.ts\n`b`: src/b.ts\n'), last.messages[1]!.content);
  // the server's default (as the extension passes an explicit setting), which a call still overrides
  const byDefault = await connect(['--dir', repo(), '--server', fixture.url, '--model', TEST_MODEL, '--definitions-index']);
  const metaOf = async (args: Record<string, unknown>) => JSON.parse(text(await byDefault.callTool({ name: 'ask', arguments: { question: 'Where is a?', ...args } }) as CallToolResult, 1)) as { definitionsIndex?: { names: number } };
  assert.equal((await metaOf({})).definitionsIndex?.names, 2);
  assert.equal((await metaOf({ definitionsIndex: false })).definitionsIndex, undefined);
});

test('a bad directory, a dead server and a missing backend are error results, and the server keeps serving', async () => {
  const url = await closedPortUrl();
  const client = await connect(['--dir', repo(), '--server', url]);
  const bad = await client.callTool({ name: 'pack', arguments: { dir: '/nonexistent/prolong-repo' } }) as CallToolResult;
  assert.equal(bad.isError, true);
  assert.match(text(bad), /\/nonexistent\/prolong-repo is not a directory\. Give the repository's directory/);
  const dead = await client.callTool({ name: 'ask', arguments: { question: 'Hi?' } }) as CallToolResult;
  assert.equal(dead.isError, true);
  assert.match(text(dead), /refused the connection: nothing is listening on port \d+\. Start the server/);
  const ok = await client.callTool({ name: 'pack', arguments: { reportOnly: true } }) as CallToolResult;
  assert.equal(ok.isError, undefined, 'still serving after errors');

  const none = await connect(['--dir', repo()]);
  const missing = await none.callTool({ name: 'ask', arguments: { question: 'Hi?' } }) as CallToolResult;
  assert.equal(missing.isError, true);
  assert.match(text(missing), /no model backend for ask\. Start it with --server URL/);
  const summary = await none.callTool({ name: 'probe_summary', arguments: {} }) as CallToolResult;
  assert.equal(summary.isError, true);
  assert.match(text(summary), /No probe results to summarize\. Give "paths"/);
});

test('cancelling an ask closes the request to the model server', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: 'one two three four five six', pieceMs: 50 });
  fixture.faults.push({ kind: 'stall', afterPieces: 1 });
  const client = await connect(['--dir', repo(), '--server', fixture.url, '--model', TEST_MODEL]);
  const controller = new AbortController();
  const call = client.callTool({ name: 'ask', arguments: { question: 'Hi?' } }, undefined, { signal: controller.signal });
  // wait until the generation request reached the server, then cancel
  while (!fixture.requests.some((r) => r.path === '/v1/chat/completions')) await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  await assert.rejects(call);
  while (fixture.clientAborts === 0) await new Promise((r) => setTimeout(r, 20));
  assert.equal(fixture.clientAborts, 1);
  const ok = await client.callTool({ name: 'pack', arguments: { reportOnly: true } }) as CallToolResult;
  assert.equal(ok.isError, undefined, 'still serving after a cancellation');
});

test('probe runs the tasks against the configured server with progress, saves the results, and probe_summary reads them back', async () => {
  const fixture = await serve({ flavor: 'vllm', answer: 'I do not know.' });
  const results = tempDir('prolong-mcp-probes-');
  dirs.push(results);
  const client = await connect(['--dir', repo(), '--server', fixture.url, '--model', TEST_MODEL, '--probe-results', results]);
  const progress: number[] = [];
  const run = await client.callTool({ name: 'probe', arguments: { tasks: 'niah_single_1', lengths: [4096], samples: 2 } }, undefined,
    { onprogress: (p) => progress.push(p.progress), timeout: 120_000 }) as CallToolResult;
  assert.equal(run.isError, false, text(run));
  const scores = (run.structuredContent as { scores: { task: string; length: number; score: number }[] }).scores;
  // the fixture's answer holds no needle: a score of 0, measured on both samples
  assert.deepEqual(scores.map((s) => [s.task, s.length, s.score]), [['niah_single_1', 4096, 0]]);
  // The client SDK runs a notification's handler in a microtask but a response's at once: when the last progress
  // notification and the result arrive in one read (a loaded machine), that notification meets a finished request and
  // is dropped. So: progress arrived, in order, counting instances; the last one may be missing.
  assert.ok(progress.length >= 1 && progress.length <= 2, `progress ${JSON.stringify(progress)}`);
  assert.deepEqual(progress, [1, 2].slice(0, progress.length));
  assert.equal(fixture.requests.filter((r) => r.path === '/v1/chat/completions').length, 2);
  assert.match(text(run), /Saved to /);

  const summary = await client.callTool({ name: 'probe_summary', arguments: {} }) as CallToolResult;
  assert.equal(summary.isError, undefined, text(summary));
  assert.match(text(summary), new RegExp(`^${TEST_MODEL.replace(/[.]/g, '\\.')} \\(vllm at .*\\): below 85\\.6 at every measured length; RULER average 4K: 0;`));
  const models = (summary.structuredContent as { models: { model: string; effectiveLength: number | null }[] }).models;
  assert.deepEqual(models.map((m) => [m.model, m.effectiveLength]), [[TEST_MODEL, null]]);
});
