// Tokenizer benchmark and exactness check on a tree of text files (default: node_modules).
// Usage: npx tsx test/bench/tokenizer.ts [DIR] [--max-file-mb N] [--no-reference] [--no-o200k] [--tokenizer PATH]
// Prints load times, single-thread MB/s for the reference (@huggingface/tokenizers), the fast tokenizer (cold piece
// cache, then warm) and, for scale, repomix's o200k counter (gpt-tokenizer); then fast-vs-reference mismatches.
import { readdirSync, readFileSync, lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FastBpeTokenizer, type BpeTokenizerJson } from '../../engine/tokenizer/fastBpeTokenizer';
import { HfTokenizer } from '../../engine/tokenizer/hfTokenizer';
import { compiledCachePath, readCompiledCache } from '../../engine/tokenizer/compiledCache';
import { loadTokenizer, resolveTokenizerPath } from '../../engine/tokenizer/index';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const flags = new Set(process.argv.slice(2).filter((arg) => arg.startsWith('--')));
const positional = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !(i > 0 && ['--max-file-mb', '--tokenizer'].includes(all[i - 1]!)));
const root = positional[0] ?? 'node_modules';
const maxFileBytes = Number(option('--max-file-mb') ?? 1) * 1024 * 1024;
const tokenizerPath = resolveTokenizerPath(option('--tokenizer'));

/** Text files under `dir`: valid UTF-8 without NUL bytes, at most maxFileBytes. Symlinks are not followed. */
function collect(dir: string, out: { path: string; text: string; bytes: number }[]): void {
  const strict = new TextDecoder('utf-8', { fatal: true });
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) collect(path, out);
    else if (stat.isFile() && stat.size > 0 && stat.size <= maxFileBytes) {
      const buffer = readFileSync(path);
      if (buffer.includes(0)) continue;
      try {
        out.push({ path, text: strict.decode(buffer), bytes: buffer.length });
      } catch {
        // not UTF-8 text
      }
    }
  }
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Wall and CPU seconds of this process (CPU time is steadier on a shared machine). */
class Stopwatch {
  wall = 0;
  cpu = 0;
  time<T>(work: () => T): T {
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    try {
      return work();
    } finally {
      const cpu = process.cpuUsage(cpuStart);
      this.wall += (performance.now() - wallStart) / 1000;
      this.cpu += (cpu.user + cpu.system) / 1e6;
    }
  }
  rate(mb: number): string {
    return `${(mb / this.cpu).toFixed(2)} MB/s CPU time (${(mb / this.wall).toFixed(2)} wall)`;
  }
}

async function main(): Promise<void> {
  const files: { path: string; text: string; bytes: number }[] = [];
  collect(root, files);
  const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  const mb = totalBytes / 1e6;
  console.log(`corpus: ${root}: ${files.length} text files, ${mb.toFixed(1)} MB (files up to ${maxFileBytes / 1048576} MiB)`);
  console.log(`tokenizer: ${tokenizerPath}`);

  let start = performance.now();
  const json = JSON.parse(readFileSync(tokenizerPath, 'utf8')) as BpeTokenizerJson;
  const fast = FastBpeTokenizer.fromJson(tokenizerPath, json);
  console.log(`load fast from tokenizer.json: ${seconds(start).toFixed(2)} s (read + parse + build tables)`);
  loadTokenizer(tokenizerPath, 'fast'); // makes sure the compiled tables are on disk
  const { size, mtimeMs } = statSync(tokenizerPath);
  start = performance.now();
  const compiled = readCompiledCache(compiledCachePath(tokenizerPath, size, mtimeMs));
  if (compiled) {
    new FastBpeTokenizer(tokenizerPath, compiled);
    console.log(`load fast from compiled cache: ${seconds(start).toFixed(3)} s (what workers pay)`);
  }

  const fastCounts: number[] = [];
  const fastCold = new Stopwatch();
  fastCold.time(() => { for (const file of files) fastCounts.push(fast.count(file.text)); });
  const fastWarm = new Stopwatch();
  fastWarm.time(() => { for (const file of files) fast.count(file.text); });
  const tokens = fastCounts.reduce((sum, count) => sum + count, 0);
  console.log(`fast count, cold piece cache: ${fastCold.rate(mb)}; ${tokens} tokens`);
  console.log(`fast count, warm piece cache: ${fastWarm.rate(mb)}`);

  if (!flags.has('--no-o200k')) {
    try {
      // repomix's own counter: gpt-tokenizer's o200k_base with special tokens allowed as plain text.
      const { GptEncoding } = await import('gpt-tokenizer/GptEncoding');
      const { resolveEncodingAsync } = await import('gpt-tokenizer/resolveEncodingAsync');
      start = performance.now();
      const ranks = await resolveEncodingAsync('o200k_base');
      const encoding = GptEncoding.getEncodingApi('o200k_base', () => ranks);
      console.log(`load o200k (repomix's counter): ${seconds(start).toFixed(2)} s`);
      const plain = { disallowedSpecial: new Set<string>() };
      const o200k = new Stopwatch();
      o200k.time(() => { for (const file of files) encoding.countTokens(file.text, plain); });
      console.log(`o200k count (repomix's): ${o200k.rate(mb)}; fast cold is ${(o200k.cpu / fastCold.cpu).toFixed(1)}x faster (CPU time)`);
    } catch (error) {
      console.log(`o200k count skipped: ${(error as Error).message}`);
    }
  }

  if (!flags.has('--no-reference')) {
    start = performance.now();
    const reference = HfTokenizer.fromFile(tokenizerPath);
    console.log(`load reference: ${seconds(start).toFixed(2)} s`);
    const referenceClock = new Stopwatch();
    let mismatches = 0;
    for (const [i, file] of files.entries()) {
      const expected = referenceClock.time(() => reference.encode(file.text));
      const actual = fast.encode(file.text);
      const same = actual.length === expected.length && actual.every((id, k) => id === expected[k]) && fastCounts[i] === expected.length;
      if (!same) {
        mismatches++;
        if (mismatches <= 10) console.log(`MISMATCH ${file.path}: fast ${actual.length} tokens, reference ${expected.length}`);
      }
    }
    console.log(`reference encode: ${referenceClock.rate(mb)}; fast cold is ${(referenceClock.cpu / fastCold.cpu).toFixed(1)}x faster (CPU time)`);
    console.log(`compared ${files.length} files, ${mb.toFixed(1)} MB: ${mismatches} mismatches`);
    if (mismatches > 0) process.exitCode = 1;
  }
}

void main();
