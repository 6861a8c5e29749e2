// Packer benchmark: cold pack, warm pack, re-pack after one edit, and repomix on the same tree, in one run.
// Usage: npm run bench:pack -- [DIR] [--files N] [--megabytes M] [--skip-repomix]
// Without DIR it builds a tree of real source files (default about 7,000 files, 50 MB) from node_modules.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Packer, type PackResult } from '../../engine/packer';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2), allowPositionals: true,
  options: { files: { type: 'string' }, megabytes: { type: 'string' }, 'skip-repomix': { type: 'boolean' }, workers: { type: 'string' } },
});
const projectRoot = resolve(__dirname, '..');

/** Copies readable, non-minified source files from node_modules until the tree has `files` files or `bytes` bytes. */
function buildTree(target: string, files: number, bytes: number): void {
  if (existsSync(join(target, '.complete'))) return;
  rmSync(target, { recursive: true, force: true });
  const wanted = /\.(?:ts|js|mjs|cjs|md|json|py|c|h|cc|txt|yml)$/;
  let count = 0;
  let total = 0;
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (count >= files || total >= bytes) return;
      const path = join(dir, name);
      const stats = statSync(path);
      if (stats.isDirectory()) { visit(path); continue; }
      if (!wanted.test(name) || name.includes('.min.') || stats.size > 256 * 1024 || stats.size === 0) continue;
      const text = readFileSync(path, 'utf8');
      if (text.length / (text.split('\n').length) > 200) continue; // skip minified-looking files: repomix would pack them, we would not
      const out = join(target, path.slice(join(projectRoot, 'node_modules').length + 1).replace(/node_modules/g, 'nm'));
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(path, out);
      count++;
      total += stats.size;
    }
  };
  visit(join(projectRoot, 'node_modules'));
  appendFileSync(join(target, '.complete'), '');
  appendFileSync(join(target, '.gitignore'), '.complete\n');
}

function line(label: string, result: PackResult, ms: number): void {
  const mb = result.totalBytes / 1e6;
  console.log(`${label.padEnd(26)} ${ms.toFixed(0).padStart(7)} ms  ${(result.files.length / (ms / 1000)).toFixed(0).padStart(8)} files/s  ${(mb / (ms / 1000)).toFixed(1).padStart(6)} MB/s  ${(result.totalTokens / (ms / 1000) / 1e6).toFixed(2).padStart(6)} M tokens/s  (read ${result.filesRead}, counted ${result.filesTokenized})`);
}

async function main(): Promise<void> {
  const dir = positionals[0] ? resolve(positionals[0]) : join(tmpdir(), 'prolong-bench-tree');
  if (!positionals[0]) buildTree(dir, Number(values.files ?? 7000), Number(values.megabytes ?? 50) * 1e6);
  const cacheFile = join(tmpdir(), `prolong-bench-cache-${process.pid}.json`);
  const workers = values.workers ? Number(values.workers) : undefined;
  console.log(`tree: ${dir}`);

  let started = performance.now();
  const cold = new Packer({ cacheFile, workers });
  const coldResult = await cold.pack({ root: dir });
  const coldMs = performance.now() - started;
  await cold.dispose();
  console.log(`packed ${coldResult.files.length} files, ${(coldResult.totalBytes / 1e6).toFixed(1)} MB, ${coldResult.totalTokens} tokens (${coldResult.skipped.length} skipped); tokenizer ${coldResult.tokenizer}`);
  line('cold (new process state)', coldResult, coldMs);

  started = performance.now();
  const warm = new Packer({ cacheFile, workers });
  const warmResult = await warm.pack({ root: dir });
  line('warm (cache file)', warmResult, performance.now() - started);

  const victim = join(dir, coldResult.files[Math.floor(coldResult.files.length / 2)]!.path);
  appendFileSync(victim, '\n// edited by the benchmark\n');
  started = performance.now();
  const edited = await warm.pack({ root: dir });
  const editMs = performance.now() - started;
  line('re-pack after one edit', edited, editMs);
  await warm.dispose();
  rmSync(cacheFile, { force: true });

  const cliStart = performance.now();
  const cli = spawnSync(process.execPath, [join(projectRoot, 'out', 'cli.js'), 'pack', dir, '--no-cache', '--json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const cliMs = performance.now() - cliStart;
  if (cli.status !== 0) throw new Error(`prolong pack failed: ${cli.stderr}`);
  console.log(`${'cold, `prolong pack` CLI'.padEnd(26)} ${cliMs.toFixed(0).padStart(7)} ms (whole process)`);

  if (!values['skip-repomix']) {
    const repomix = join(projectRoot, 'node_modules', 'repomix', 'bin', 'repomix.cjs');
    const output = join(tmpdir(), `prolong-bench-repomix-${process.pid}.xml`);
    for (const [label, extra] of [['repomix (token counting)', []], ['repomix, no secret scan', ['--no-security-check']]] as const) {
      const start = performance.now();
      const run = spawnSync(process.execPath, [repomix, dir, '-o', output, '--quiet', ...extra], { encoding: 'utf8', cwd: dir });
      const ms = performance.now() - start;
      if (run.status !== 0) { console.log(`${label}: failed: ${run.stderr.slice(0, 400)}`); continue; }
      console.log(`${label.padEnd(26)} ${ms.toFixed(0).padStart(7)} ms (whole process); prolong CLI cold is ${(ms / cliMs).toFixed(1)}x faster, in-process cold ${(ms / coldMs).toFixed(1)}x`);
    }
    rmSync(output, { force: true });
  }
}

main().catch((error: unknown) => { console.error(error); process.exit(1); });
