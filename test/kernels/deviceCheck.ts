// The kernels' WebGPU check as a bundled script (out/kernels-check.js) for machines that only get the build
// output, such as the GPU machine (see /work/shared/device/NOTES.md):
//   source .device/setup.sh && node out/kernels-check.js [--provider webgpu] [--big]
// It runs the end-to-end comparisons of onnxWebgpu.test.ts on the chosen execution provider and prints one
// JSON line per case. With --big it also writes a random Llama-3.2-1B-shaped checkpoint, converts it to fp16
// (weights over 2 GiB, so external data is exercised) and int4, and checks on the provider that a chunked
// prefill plus KV-cached decode gives the same last-token logits as one whole prefill.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../../kernels/convert';
import { randomShapes, SeededRandom, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { chunks, DecoderRunner, maxAbsDifference, verifyCase, type ExecutionProvider, type VerifyCase } from '../../kernels/verify';
import { webgpuUnavailableReason } from '../../kernels/webgpuProbe';

const { values } = parseArgs({ args: process.argv.slice(2), options: { provider: { type: 'string', default: 'webgpu' }, big: { type: 'boolean' }, work: { type: 'string' } } });
const provider = values.provider as ExecutionProvider;
const work = values.work ?? mkdtempSync(join(tmpdir(), 'kernels-check-'));
mkdirSync(work, { recursive: true });
const tiny = randomShapes.tiny;
const cases: { c: VerifyCase; bound: number }[] = [
  { c: { name: 'fp32-gqa', shape: tiny, dtype: 'fp32' }, bound: 1e-4 },
  { c: { name: 'fp32-qwen2-tied', shape: { ...tiny, architecture: 'qwen2', tieWordEmbeddings: true }, dtype: 'fp32' }, bound: 1e-4 },
  { c: { name: 'fp32-yarn', shape: { ...tiny, ropeTheta: 10000, maxPositionEmbeddings: 64, ropeScaling: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 } }, dtype: 'fp32' }, bound: 1e-4 },
  { c: { name: 'fp32-head128-prolong-theta', shape: { ...tiny, hiddenSize: 256, numHeads: 4, numKvHeads: 1, headDim: 128, ropeTheta: 1.28e8 }, dtype: 'fp32', maxContext: 2048 }, bound: 1e-4 },
  { c: { name: 'int4-b32-fp32io', shape: { ...tiny, hiddenSize: 128, headDim: 32 }, dtype: 'int4' }, bound: 1e-4 },
  { c: { name: 'int4-b128-fp16io', shape: { ...tiny, hiddenSize: 128, headDim: 32 }, dtype: 'int4', int4BlockSize: 128, ioDtype: 'fp16' }, bound: 2e-2 },
  { c: { name: 'int4-embedding-fp16io', shape: { ...tiny, hiddenSize: 128, headDim: 32 }, dtype: 'int4', int4Embedding: true, ioDtype: 'fp16' }, bound: 2e-2 },
  { c: { name: 'fp16', shape: tiny, dtype: 'fp16' }, bound: 2e-2 },
];

async function main(): Promise<number> {
  if (provider === 'webgpu') {
    const reason = await webgpuUnavailableReason(work);
    if (reason) { console.log(JSON.stringify({ provider, available: false, reason })); return 1; }
  }
  let failures = 0;
  for (const { c, bound } of cases) {
    const started = performance.now();
    const r = await verifyCase(work, c, provider);
    const pass = r.prefill <= bound && r.chunked <= bound && r.decode <= bound;
    if (!pass) failures++;
    console.log(JSON.stringify({ provider, case: c.name, bound, ...r, pass, ms: Math.round(performance.now() - started) }));
  }
  if (values.big) failures += await bigCheck();
  console.log(JSON.stringify({ provider, failures }));
  return failures === 0 ? 0 : 1;
}

async function bigCheck(): Promise<number> {
  let failures = 0;
  const hfDir = join(work, 'big-hf');
  let started = performance.now();
  writeRandomCheckpoint(hfDir, randomShapes['llama-3.2-1b'], 1, { dtype: 'BF16', shardBytes: 1 << 30 });
  console.log(JSON.stringify({ step: 'write llama-3.2-1b bf16', seconds: (performance.now() - started) / 1000 }));
  const random = new SeededRandom(9);
  const tokens = Array.from({ length: 40 }, () => random.nextUint32() % 128000);
  for (const dtype of ['fp16', 'int4'] as const) {
    const outDir = join(work, `big-${dtype}`);
    started = performance.now();
    const result = await convertCheckpoint(hfDir, outDir, { dtype, ioDtype: 'fp16', maxContext: 4096 });
    console.log(JSON.stringify({ step: `convert ${dtype}`, seconds: (performance.now() - started) / 1000, externalGiB: result.externalDataBytes / 2 ** 30, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
    started = performance.now();
    const runner = await DecoderRunner.open(outDir, result.sidecar, provider);
    const loadSeconds = (performance.now() - started) / 1000;
    try {
      started = performance.now();
      const whole = await runner.run([tokens]);
      const prefillSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      const pieces = await runner.run([...chunks(tokens.slice(0, 32), 13), ...chunks(tokens.slice(32), 1)]);
      const stepsSeconds = (performance.now() - started) / 1000;
      const last = [pieces[pieces.length - 1]!];
      const difference = maxAbsDifference(last, whole);
      let largest = 0;
      for (const v of whole[0]!) largest = Math.max(largest, Math.abs(v));
      // fp16 activations: allow 1% of the logit range between the two orders of computation
      const pass = Number.isFinite(difference) && difference <= 0.01 * largest + 1e-3;
      if (!pass) failures++;
      console.log(JSON.stringify({ step: `run ${dtype} on ${provider}`, loadSeconds, prefill40Seconds: prefillSeconds, chunkedPlus8DecodeSeconds: stepsSeconds, lastLogitsDifference: difference, largestLogit: largest, pass }));
    } finally {
      await runner.close();
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  rmSync(hfDir, { recursive: true, force: true });
  return failures;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => { console.error(error); process.exitCode = 1; });
