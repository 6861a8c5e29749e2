// Packer benchmark: cold pack, warm pack, re-pack after one edit, and repomix on the same tree, in one run.
// Usage: npm run bench:pack -- [DIR] [--files N] [--megabytes M] [--workers N] [--skip-repomix] (--help for details)
// Without DIR it builds a tree of real source files (default about 7,000 files, 50 MB) from node_modules.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Packer, type PackResult } from '../../engine/packer';
import { backdate } from '../packer/fixtures';
import { BenchCli } from './cli';

const bench = new BenchCli('bench-pack', `usage: npm run bench:pack -- [DIR] [--files N] [--megabytes M] [--workers N] [--skip-repomix]
Times cold, warm (cache file) and one-edit re-packs in-process, a cold \`prolong pack\` process and repomix on one tree.
  DIR             tree to pack (default: real source files copied from node_modules to $TMPDIR/prolong-bench-tree)
  --files N       files in that default tree when it is first built (default 7000)
  --megabytes M   its size in MB, whichever limit comes first (default 50)
  --workers N     packer worker threads (default: available parallelism, at most 8)
  --skip-repomix  do not time repomix
`);
const { values, positionals } = bench.parse({
  allowPositionals: true,
  options: { files: { type: 'string' }, megabytes: { type: 'string' }, 'skip-repomix': { type: 'boolean' }, workers: { type: 'string' } },
});
if (positionals.length > 1) bench.fail(`one DIR at most, got ${positionals.length}: ${positionals.join(' ')}`);
const treeFiles = bench.number('--files', values.files ?? '7000');
const treeMegabytes = bench.number('--megabytes', values.megabytes ?? '50', true);
const workers = values.workers === undefined ? undefined : bench.number('--workers', values.workers);
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
      // about 7 KB on average, so 7,000 files make about 50 MB
      if (!wanted.test(name) || name.includes('.min.') || stats.size > 256 * 1024 || stats.size < 2500) continue;
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
  // dated an hour back, as a checkout at rest is: a file written within 2 s of a pack is read again by the next
  // one (the packer's guard against edits within one mtime tick), which would blur the re-pack numbers
  backdate(target, Date.now() - 3_600_000);
}

/** CPU time of this process, all threads (the packer's workers included), in ms. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function line(label: string, result: PackResult, ms: number, cpu: number): void {
  const mb = result.totalBytes / 1e6;
  console.log(`${label.padEnd(26)} ${ms.toFixed(0).padStart(7)} ms (cpu ${cpu.toFixed(0).padStart(6)} ms)  ${(result.files.length / (ms / 1000)).toFixed(0).padStart(7)} files/s  ${(mb / (ms / 1000)).toFixed(1).padStart(6)} MB/s  ${(result.totalTokens / (ms / 1000) / 1e6).toFixed(2).padStart(6)} M tokens/s  (read ${result.filesRead}, counted ${result.filesTokenized})`);
}

/** Runs a command through bash and returns its wall time and the CPU time of it and its children (bash's `times`). */
function timed(command: string[], cwd: string): { ms: number; cpu: number; status: number | null; stderr: string } {
  const quoted = command.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const start = performance.now();
  const run = spawnSync('bash', ['-c', `${quoted} >/dev/null 2>/tmp/prolong-bench-stderr; status=$?; times; exit $status`], { encoding: 'utf8', cwd, maxBuffer: 1 << 26 });
  const ms = performance.now() - start;
  const children = run.stdout.trim().split('\n').at(-1) ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  const stderr = existsSync('/tmp/prolong-bench-stderr') ? readFileSync('/tmp/prolong-bench-stderr', 'utf8') : '';
  return { ms, cpu: seconds * 1000, status: run.status, stderr };
}

async function main(): Promise<void> {
  const dir = positionals[0] ? resolve(positionals[0]) : join(tmpdir(), 'prolong-bench-tree');
  if (!positionals[0]) buildTree(dir, treeFiles, treeMegabytes * 1e6);
  const cacheFile = join(tmpdir(), `prolong-bench-cache-${process.pid}.json`);
  console.log(`tree: ${dir}`);

  const measure = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number; cpu: number }> => {
    const cpu = cpuMs();
    const start = performance.now();
    const value = await work();
    return { value, ms: performance.now() - start, cpu: cpuMs() - cpu };
  };

  const cold = new Packer({ cacheFile, workers });
  const coldRun = await measure(() => cold.pack({ root: dir }));
  await cold.dispose();
  const coldResult = coldRun.value;
  console.log(`packed ${coldResult.files.length} files, ${(coldResult.totalBytes / 1e6).toFixed(1)} MB, ${coldResult.totalTokens} tokens (${coldResult.skipped.length} skipped); tokenizer ${coldResult.tokenizer}`);
  line('cold (new process state)', coldResult, coldRun.ms, coldRun.cpu);

  const warm = new Packer({ cacheFile, workers });
  const warmRun = await measure(() => warm.pack({ root: dir }));
  line('warm (cache file)', warmRun.value, warmRun.ms, warmRun.cpu);

  const victim = join(dir, coldResult.files[Math.floor(coldResult.files.length / 2)]!.path);
  const edits: number[] = [];
  for (let i = 0; i < 5; i++) {
    appendFileSync(victim, `\n// edit ${i} by the benchmark\n`);
    const editRun = await measure(() => warm.pack({ root: dir }));
    if (editRun.value.filesRead !== 1) throw new Error(`re-pack read ${editRun.value.filesRead} files, expected 1`);
    edits.push(editRun.ms);
    if (i === 4) line('re-pack after one edit', editRun.value, editRun.ms, editRun.cpu);
  }
  console.log(`${''.padEnd(26)} re-pack after one edit, 5 runs: ${edits.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${[...edits].sort((a, b) => a - b)[2]!.toFixed(0)})`);
  await warm.dispose();
  rmSync(cacheFile, { force: true });

  const cli = timed([process.execPath, join(projectRoot, 'out', 'cli.js'), 'pack', dir, '--no-cache', '--json', '--quiet'], dir);
  if (cli.status !== 0) throw new Error(`prolong pack failed: ${cli.stderr}`);
  console.log(`${'cold, `prolong pack` CLI'.padEnd(26)} ${cli.ms.toFixed(0).padStart(7)} ms (cpu ${cli.cpu.toFixed(0).padStart(6)} ms) for the whole process`);

  if (!values['skip-repomix']) {
    const repomix = join(projectRoot, 'node_modules', 'repomix', 'bin', 'repomix.cjs');
    const output = join(tmpdir(), `prolong-bench-repomix-${process.pid}.xml`);
    for (const [label, extra] of [['repomix (token counting)', []], ['repomix, no secret scan', ['--no-security-check']]] as const) {
      const run = timed([process.execPath, repomix, dir, '-o', output, '--quiet', ...extra], dir);
      if (run.status !== 0) { console.log(`${label}: failed: ${run.stderr.slice(0, 400)}`); continue; }
      console.log(`${label.padEnd(26)} ${run.ms.toFixed(0).padStart(7)} ms (cpu ${run.cpu.toFixed(0).padStart(6)} ms); prolong CLI cold is ${(run.ms / cli.ms).toFixed(1)}x faster in wall time, ${(run.cpu / cli.cpu).toFixed(1)}x in CPU time`);
    }
    rmSync(output, { force: true });
  }
}

main().catch((error: unknown) => { console.error(error); process.exit(1); });
