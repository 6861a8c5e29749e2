// Converted graphs run by onnxruntime's CPU execution provider match the plain-TypeScript reference forward
// pass, for whole-prompt prefill, chunked prefill and token-by-token decode with the KV cache carried along.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomShapes, SeededRandom, type RandomCheckpointShape } from '../../kernels/randomCheckpoint';
import { ReferenceModel } from '../../kernels/referenceForward';
import { readSidecar } from '../../kernels/sidecar';
import { modelFileName } from '../../kernels/convert';
import { DecoderRunner, maxAbsDifference, verifyCase, type VerifyCase } from '../../kernels/verify';

const work = mkdtempSync(join(tmpdir(), 'kernels-cpu-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const tiny: RandomCheckpointShape = randomShapes.tiny;
/** Stated bounds: fp32 and int4 (against the dequantized weights) are exact up to float32 rounding. */
const exact = 1e-4;
/** fp16 activations and KV cache: float16 rounding of every intermediate. */
const fp16Bound = 2e-2;

const fp32Cases: VerifyCase[] = [
  { name: 'llama-gqa-2to1', shape: tiny, dtype: 'fp32' },
  { name: 'llama-mha', shape: { ...tiny, numHeads: 4, numKvHeads: 4 }, dtype: 'fp32' },
  { name: 'llama-mqa-wide-heads', shape: { ...tiny, numHeads: 4, numKvHeads: 1, headDim: 32 }, dtype: 'fp32' },
  { name: 'llama-gqa-4to1-3layers', shape: { ...tiny, numHeads: 8, numKvHeads: 2, headDim: 16, numLayers: 3 }, dtype: 'fp32' },
  { name: 'qwen2-qkv-bias-tied', shape: { ...tiny, architecture: 'qwen2', tieWordEmbeddings: true, ropeTheta: 1e6 }, dtype: 'fp32' },
  { name: 'llama-attention-bias', shape: { ...tiny, attentionBias: true }, dtype: 'fp32' },
  { name: 'mistral-sliding-window', shape: { ...tiny, architecture: 'mistral', slidingWindow: 5, ropeTheta: 1e6 }, dtype: 'fp32' },
  { name: 'prolong-theta-1.28e8', shape: { ...tiny, ropeTheta: 1.28e8, maxPositionEmbeddings: 524288 }, dtype: 'fp32', maxContext: 4096 },
  { name: 'rope-linear', shape: { ...tiny, ropeScaling: { type: 'linear', factor: 4.0 } }, dtype: 'fp32' },
  // max_position_embeddings 8 with 24 tokens: positions past 8 use the grown NTK base
  { name: 'rope-dynamic', shape: { ...tiny, maxPositionEmbeddings: 8, ropeScaling: { type: 'dynamic', factor: 2.0 } }, dtype: 'fp32', maxContext: 64 },
  { name: 'rope-llama3', shape: { ...tiny, ropeScaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 } }, dtype: 'fp32' },
  { name: 'rope-yarn', shape: { ...tiny, ropeTheta: 10000, maxPositionEmbeddings: 64, ropeScaling: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 } }, dtype: 'fp32' },
  { name: 'bf16-sharded', shape: tiny, dtype: 'fp32', checkpoint: { dtype: 'BF16', shardBytes: 40_000 } },
  { name: 'f16-checkpoint', shape: tiny, dtype: 'fp32', checkpoint: { dtype: 'F16' } },
  { name: 'long-prompt-48', shape: tiny, dtype: 'fp32', tokens: 48, chunk: 16, decodeAfter: 40 },
];

for (const c of fp32Cases) {
  test(`fp32 ${c.name}: prefill, chunked prefill and decode match the reference within ${exact}`, async () => {
    const r = await verifyCase(work, c, 'cpu');
    assert.ok(r.referenceMax > 0.5, `reference logits are not degenerate (max ${r.referenceMax})`);
    assert.ok(r.prefill <= exact, `prefill max abs error ${r.prefill}`);
    assert.ok(r.chunked <= exact, `chunked prefill max abs error ${r.chunked}`);
    assert.ok(r.decode <= exact, `decode max abs error ${r.decode}`);
  });
}

for (const blockSize of [32, 64, 128] as const) {
  // intermediate 96 is not a multiple of 64 or 128: the last block of down_proj is padded
  const shape: RandomCheckpointShape = { ...tiny, hiddenSize: 128, intermediateSize: 96, numHeads: 4, numKvHeads: 2, headDim: 32 };
  test(`int4 block ${blockSize}: matches the reference run on the same dequantized weights within ${exact}`, async () => {
    const r = await verifyCase(work, { name: `int4-b${blockSize}`, shape, dtype: 'int4', int4BlockSize: blockSize }, 'cpu');
    assert.ok(r.prefill <= exact && r.chunked <= exact && r.decode <= exact, JSON.stringify(r));
  });
}

test(`int4 embedding (GatherBlockQuantized), tied lm_head: matches the dequantized reference within ${exact}`, async () => {
  const shape: RandomCheckpointShape = { ...tiny, hiddenSize: 128, headDim: 32, tieWordEmbeddings: true };
  const r = await verifyCase(work, { name: 'int4-embedding', shape, dtype: 'int4', int4Embedding: true }, 'cpu');
  // tied random embeddings give logits near 100: the bound is relative to them
  assert.ok(r.prefill <= exact * r.referenceMax && r.chunked <= exact * r.referenceMax && r.decode <= exact * r.referenceMax, JSON.stringify(r));
  // the lm_head reads the embedding's own int4 bytes: the weights hold one copy of the [vocab, hidden] matrix, not two
  const graph = readFileSync(join(work, 'int4-embedding-onnx', modelFileName)).toString('latin1');
  assert.ok(graph.includes('model.embed_tokens.weight_q4') && !graph.includes('lm_head.weight_q4'), 'the tied lm_head has weights of its own');
});

test(`fp16 weights and activations: within ${fp16Bound} of the reference with fp16-rounded weights`, async () => {
  const r = await verifyCase(work, { name: 'fp16', shape: tiny, dtype: 'fp16' }, 'cpu');
  assert.ok(r.prefill <= fp16Bound && r.chunked <= fp16Bound && r.decode <= fp16Bound, JSON.stringify(r));
});

test(`int4 with fp16 activations (the GPU layout): within ${fp16Bound} of the dequantized reference`, async () => {
  const r = await verifyCase(work, { name: 'int4-fp16', shape: { ...tiny, architecture: "qwen2" }, dtype: 'int4', ioDtype: 'fp16' }, 'cpu');
  assert.ok(r.prefill <= fp16Bound && r.chunked <= fp16Bound && r.decode <= fp16Bound, JSON.stringify(r));
});

/** int4 against the unquantized model: random uniform weights are a hard case for 4 bits (no outliers to spare). */
const int4RelativeBound = 0.25;

test(`int4 block 32 stays within ${int4RelativeBound} x max|logit| of the unquantized reference and mostly agrees on the top token`, async () => {
  const shape: RandomCheckpointShape = { ...tiny, hiddenSize: 128, headDim: 32 };
  await verifyCase(work, { name: 'int4-vs-fp32', shape, dtype: 'int4' }, 'cpu');
  const outDir = join(work, 'int4-vs-fp32-onnx');
  const random = new SeededRandom(99);
  const tokens = Array.from({ length: 24 }, () => random.nextUint32() % shape.vocabSize);
  const reference = ReferenceModel.load(join(work, 'int4-vs-fp32-hf')).logits(tokens);
  const runner = await DecoderRunner.open(outDir, readSidecar(outDir), 'cpu');
  try {
    const logits = await runner.run([tokens]);
    let largest = 0;
    for (const row of reference) for (const v of row) largest = Math.max(largest, Math.abs(v));
    const error = maxAbsDifference(logits, reference);
    const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));
    const agree = logits.filter((row, i) => argmax(row) === argmax(reference[i]!)).length;
    console.log(`int4 vs fp32 reference: max abs ${error.toFixed(4)} of max |logit| ${largest.toFixed(3)}; top-1 agreement ${agree}/${tokens.length}`);
    assert.ok(error <= int4RelativeBound * largest, `max abs ${error} vs max |logit| ${largest}`);
    assert.ok(agree >= tokens.length * 0.6, `top-1 agreement ${agree}/${tokens.length}`);
  } finally {
    await runner.close();
  }
});
