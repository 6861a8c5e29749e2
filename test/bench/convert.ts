// Conversion benchmark: a checkpoint with random weights in Llama-3.2-1B's shape (16 layers, hidden 2048,
// 32/8 heads of 64, vocab 128,256, bf16 safetensors), converted by `prolong convert` in a child process per
// dtype so each conversion's own peak RSS is measured.
// Usage: npm run bench:convert -- [--shape llama-3.2-1b] [--dtypes fp16,int4,int4-embedding] [--work DIR] [--max-context N]
// (int4-embedding: int4 with the embedding quantized too)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomShapes, writeRandomCheckpoint, type RandomShapeName } from '../../kernels/randomCheckpoint';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { shape: { type: 'string', default: 'llama-3.2-1b' }, dtypes: { type: 'string', default: 'fp16,int4,int4-embedding' }, work: { type: 'string' }, 'max-context': { type: 'string', default: '131072' } },
});
const shapeName = values.shape as RandomShapeName;
if (!(shapeName in randomShapes)) throw new Error(`unknown --shape ${shapeName}; known: ${Object.keys(randomShapes).join(', ')}`);
const work = resolve(values.work ?? join(tmpdir(), 'prolong-bench-convert'));
const hfDir = join(work, `${shapeName}-hf`);
const cli = join(__dirname, 'cli.js');

if (!existsSync(join(hfDir, '.complete'))) {
  rmSync(hfDir, { recursive: true, force: true });
  const started = performance.now();
  writeRandomCheckpoint(hfDir, randomShapes[shapeName], 1, { dtype: 'BF16', shardBytes: 1 << 30 });
  writeFileSync(join(hfDir, '.complete'), '');
  console.log(`random ${shapeName} checkpoint (bf16, 1 GiB shards): ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
    `peak RSS of this process ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
}

console.log(`| dtype | parameters | weights file | seconds | peak RSS (child) |`);
console.log(`|---|---|---|---|---|`);
for (const dtype of values.dtypes.split(',')) {
  const outDir = join(work, `${shapeName}-${dtype}`);
  rmSync(outDir, { recursive: true, force: true });
  const flags = dtype === 'int4-embedding' ? ['--dtype', 'int4', '--int4-embedding'] : ['--dtype', dtype];
  const run = spawnSync(process.execPath, [cli, 'convert', hfDir, outDir, ...flags, '--max-context', values['max-context'], '--json'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`prolong convert --dtype ${dtype} failed:\n${run.stderr}`);
  const r = JSON.parse(run.stdout) as { parameters: number; seconds: number; peakRssMiB: number };
  const dataBytes = statSync(join(outDir, 'model.onnx.data')).size;
  console.log(`| ${dtype} | ${r.parameters.toLocaleString('en-US')} | ${(dataBytes / 2 ** 30).toFixed(2)} GiB | ${r.seconds} | ${r.peakRssMiB} MiB |`);
  rmSync(outDir, { recursive: true, force: true });
}
