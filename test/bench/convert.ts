// Conversion benchmark: a checkpoint with random weights in Llama-3.2-1B's shape (16 layers, hidden 2048,
// 32/8 heads of 64, vocab 128,256, bf16 safetensors), converted by `prolong convert` in a child process per
// dtype so each conversion's own peak RSS is measured.
// Usage: npm run bench:convert -- [--shape llama-3.2-1b] [--dtypes fp16,int4,int4-embedding] [--work DIR] [--max-context N] (--help)
// (int4-embedding: int4 with the embedding quantized too)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomShapes, writeRandomCheckpoint, type RandomShapeName } from '../../kernels/randomCheckpoint';
import { BenchCli } from './cli';

const shapes = Object.keys(randomShapes) as RandomShapeName[];
const bench = new BenchCli('bench-convert', `usage: npm run bench:convert -- [--shape S] [--dtypes LIST] [--work DIR] [--max-context N]
Writes a random-weight bf16 checkpoint once, then times \`prolong convert\` per dtype (seconds, peak RSS of the child).
  --shape S          ${shapes.join(', ')} (default llama-3.2-1b)
  --dtypes LIST      fp32, fp16, int4, int4-embedding (int4 with the embedding quantized too),
                     comma-separated (default fp16,int4,int4-embedding)
  --work DIR         where the checkpoint is kept and converted (default $TMPDIR/prolong-bench-convert)
  --max-context N    passed to \`prolong convert\` (default 131072)
`);
const { values } = bench.parse({
  options: { shape: { type: 'string', default: 'llama-3.2-1b' }, dtypes: { type: 'string', default: 'fp16,int4,int4-embedding' }, work: { type: 'string' }, 'max-context': { type: 'string', default: '131072' } },
});
const shapeName = bench.oneOf('--shape', values.shape, shapes);
const dtypes = bench.listOf('--dtypes', values.dtypes, ['fp32', 'fp16', 'int4', 'int4-embedding']);
bench.number('--max-context', values['max-context']);
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
for (const dtype of dtypes) {
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
