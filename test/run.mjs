// Runs every test/**/*.test.ts with node's test runner, TypeScript loaded through tsx.
// Usage: node test/run.mjs [substring filter...]
// Each test process gets its own temporary and cache folders (test/isolate.mjs) under one root folder for the run;
// the run fails, listing them, when tests leave files in their temporary folders. The root is removed at the end.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

function find(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * What tools leave in a temporary folder whatever the tests do: tsx's compile cache (tsx-<uid>), onnxruntime's
 * session id file (.ses) and its empty mat-debug-<pid>.log in processes that load it (the engine process's own is
 * removed by EngineClient; a test loading onnxruntime in-process leaves one).
 */
const TOOL_FILES = [/^tsx-\d+$/, /^\.ses$/, /^mat-debug-\d+\.log$/];

/** What the test processes left in their temporary folders: "file's folder/entry" lines. */
export function leftBehind(root) {
  const left = [];
  for (const processDir of readdirSync(root).sort()) {
    const tmp = join(root, processDir, 'tmp');
    let entries = [];
    try { entries = readdirSync(tmp).sort(); } catch { continue; }
    for (const entry of entries) if (!TOOL_FILES.some((pattern) => pattern.test(entry))) left.push(`${processDir.replace(/-[^-]+$/, '')}: ${join(tmp, entry)}`);
  }
  return left;
}

/**
 * The engine's llama.cpp runtime for its tests (test/engine/llamaCpp.test.ts), installed once into test/.llama-cpp by
 * the same command a user runs (`prolong runtime install`, npm from the registry), its npm cache inside that folder.
 */
function ensureLlamaCppRuntime() {
  const dir = join('test', '.llama-cpp');
  if (existsSync(join(dir, 'node_modules', 'node-llama-cpp', 'package.json'))) return;
  const gpu = ['darwin-arm64'].includes(`${process.platform}-${process.arch}`) ? [] : ['--gpu', 'cpu'];
  console.error(`test/run.mjs: installing the llama.cpp runtime into ${dir} (once)`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'runtime', 'install', ...gpu, '--dir', dir],
    { stdio: 'inherit', env: { ...process.env, npm_config_cache: join(process.cwd(), dir, '.npm-cache') } });
  if (result.status !== 0) { console.error('test/run.mjs: the llama.cpp runtime could not be installed (its tests will fail)'); }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const filters = process.argv.slice(2);
  const files = find('test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
  if (files.length === 0) { console.error('test/run.mjs: no test files matched'); process.exit(1); }
  ensureLlamaCppRuntime();
  const root = mkdtempSync(join(tmpdir(), 'prolong-tests-'));
  // Compiled tokenizers are shared by the run's processes (one compile per run, not per test file).
  const env = { ...process.env, PROLONG_TEST_ROOT: root, PROLONG_TOKENIZER_CACHE: join(root, 'tokenizers') };
  let status;
  try {
    // The extension-host suite drives a real browser with timed waits: it runs on its own, after the rest, so that two
    // cores busy with engine and kernel tests do not make it miss a keystroke or a frame.
    const host = files.filter((f) => f.includes(join('test', 'host')));
    const rest = files.filter((f) => !host.includes(f));
    status = 0;
    for (const [group, concurrency] of [[rest, 2], [host, 1]]) {
      if (group.length === 0) continue;
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/isolate.mjs', '--test', `--test-concurrency=${concurrency}`, ...group], { stdio: 'inherit', env });
      status = status || (result.status ?? 1);
    }
    const left = leftBehind(root);
    if (left.length > 0) {
      console.error(`\ntest/run.mjs: tests left ${left.length} file(s) or folder(s) in their temporary folders (use test/tempDirs.ts, or remove them):`);
      for (const line of left) console.error(`  ${line}`);
      status = status || 1;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.exit(status);
}
