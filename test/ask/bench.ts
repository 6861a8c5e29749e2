// Ask panel rendering benchmark: how long the webview's Markdown + citation rendering takes for answers of
// growing size against a repository of many packed paths, and what streaming costs when the whole answer is
// re-rendered once per piece (the panel re-renders at most once per animation frame, so this is the worst case).
// Usage: npm run bench:ask -- [--paths N]
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PathIndex } from '../../webview/ask/citations';
import { renderMarkdown } from '../../webview/ask/markdown';
import { BenchCli } from '../bench/cli';

const bench = new BenchCli('bench-ask', `usage: npm run bench:ask -- [--paths N]
Times Markdown + citation rendering of 2/8/32 KB answers, and re-rendering an 8 KB answer after each streamed piece.
  --paths N   real paths from node_modules in the PathIndex (default 7000)
`);
const { values } = bench.parse({ options: { paths: { type: 'string', default: '7000' } } });
const wanted = bench.number('--paths', values.paths);

/** Real relative paths from node_modules, in a stable order. */
function collectPaths(root: string, limit: number): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (found.length >= limit) return;
      const path = join(dir, name);
      const stats = statSync(path, { throwIfNoEntry: false });
      if (!stats) continue;
      if (stats.isDirectory()) visit(path);
      else found.push(relative(root, path));
    }
  };
  visit(root);
  return found;
}

/** An answer like a model writes: paragraphs citing files, a list, a code block, repeated to `bytes`. */
function answerOf(paths: string[], bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const a = paths[(i * 7919) % paths.length]!;
    const b = paths[(i * 104729) % paths.length]!;
    const piece = `The function is defined in ${a}:${(i % 90) + 1} and used by \`${b}\`; see **both** before changing *anything*.\n\n`
      + `1. Read ${b}#L${(i % 40) + 1}-L${(i % 40) + 9}.\n2. Then call \`handle(x < y)\`.\n   - nested note\n\n`
      + '```ts\nexport function handle(flag: boolean): number {\n  return flag ? 1 : 0;\n}\n```\n\n';
    parts.push(piece);
    size += piece.length;
  }
  return parts.join('').slice(0, bytes);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const paths = collectPaths(resolve(__dirname, '..', '..', 'node_modules'), wanted);
let started = performance.now();
const index = new PathIndex(paths);
const indexMs = performance.now() - started;
console.log(`paths: ${paths.length.toLocaleString('en-US')}; PathIndex built in ${indexMs.toFixed(1)} ms`);

console.log('| answer | render median ms (20 runs) | citations |');
console.log('|---|---|---|');
for (const bytes of [2_000, 8_000, 32_000]) {
  const answer = answerOf(paths, bytes);
  const times: number[] = [];
  let html = '';
  for (let run = 0; run < 20; run++) {
    started = performance.now();
    html = renderMarkdown(answer, index);
    times.push(performance.now() - started);
  }
  console.log(`| ${(bytes / 1000).toFixed(0)} KB | ${median(times).toFixed(2)} | ${html.match(/class="citation"/g)?.length ?? 0} |`);
}

// Streaming: 8 KB in 4-character pieces (about one token each), the whole answer re-rendered after every piece.
const streamed = answerOf(paths, 8_000);
let total = 0;
let worst = 0;
for (let end = 4; end <= streamed.length + 3; end += 4) {
  started = performance.now();
  renderMarkdown(streamed.slice(0, end), index);
  const ms = performance.now() - started;
  total += ms;
  worst = Math.max(worst, ms);
}
console.log(`streaming 8 KB in ${Math.ceil(streamed.length / 4)} pieces, re-rendered after each: ${total.toFixed(0)} ms in all, worst piece ${worst.toFixed(2)} ms`);
