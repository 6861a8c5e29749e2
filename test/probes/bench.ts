// Time to build probe instances (sizing included) per task and length: `npm run bench:probes [-- 4k 32k 128k]`.
// Prints numbers only; nothing is asserted.
import { parseCount } from '../../engine/cli/subcommand';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { formatLength } from '../../engine/probes/report';
import { buildInstances } from '../../engine/probes/runner';
import type { RepositoryFile } from '../../engine/probes/tasks/common';
import { ALL_TASKS } from '../../engine/probes/types';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BenchCli } from '../bench/cli';

const bench = new BenchCli('bench-probes', `usage: npm run bench:probes -- [LENGTH ...]
Times building one probe instance (sizing included) per task and length, on this project's files as the repository.
  LENGTH   prompt lengths in tokens such as 4096, 32k or 1m (default 4k 32k 128k)
`);
const { positionals } = bench.parse({ allowPositionals: true, options: {} });
const lengths = (positionals.length > 0 ? positionals : ['4k', '32k', '128k']).map((arg) => bench.check(() => parseCount(arg, 'length')));
const root = join(__dirname, '..', '..');
const repository: RepositoryFile[] = [];
const walk = (dir: string) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mjs|md|json)$/.test(name) && name !== 'package-lock.json') repository.push({ path: relative(root, path), text: readFileSync(path, 'utf8') });
  }
};
for (const dir of ['engine', 'extension', 'kernels', 'test', 'webview']) walk(join(root, dir));

let started = performance.now();
const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());
console.log(`tokenizer ${counter.tokenizer} loaded in ${Math.round(performance.now() - started)} ms; repository stand-in: ${repository.length} files of this project`);
console.log(['task', ...lengths.map((length) => `${formatLength(length)} ms/instance`)].join('\t'));
for (const task of ALL_TASKS) {
  const row: string[] = [task];
  for (const length of lengths) {
    started = performance.now();
    const { instances, skipped } = buildInstances({ tasks: [task], lengths: [length], samples: 1, seed: 'bench', repository }, counter);
    row.push(instances.length === 0 ? `skipped (${skipped[0]?.reason ?? '?'})` : ((performance.now() - started) / instances.length).toFixed(0));
  }
  console.log(row.join('\t'));
}
