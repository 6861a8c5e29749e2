// The engine's greedy answer equals kernels' plain-TypeScript reference forward pass, token for token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceModel } from '../../kernels/referenceForward';
import { argmax, seededRandom } from '../../engine/runtime/sampler';
import { LocalBackend } from '../../engine/runtime/localBackend';
import { checkpointDirOf, tinyModel } from './fixtures';

function referenceGreedy(reference: ReferenceModel, prompt: number[], count: number): { tokens: number[]; smallestGap: number } {
  const sequence = [...prompt];
  const tokens: number[] = [];
  let smallestGap = Infinity;
  for (let i = 0; i < count; i++) {
    const rows = reference.logits(sequence);
    const last = rows[rows.length - 1]!;
    const best = argmax(last);
    let second = -Infinity;
    last.forEach((value, index) => { if (index !== best && value > second) second = value; });
    smallestGap = Math.min(smallestGap, last[best]! - second);
    tokens.push(best);
    sequence.push(best);
  }
  return { tokens, smallestGap };
}

for (const dtype of ['fp32', 'int4'] as const) {
  test(`${dtype}: greedy generation through the engine process equals the reference, with prefix reuse on the second prompt`, async () => {
    const dir = await tinyModel({ dtype });
    // For int4 the reference uses the same quantized-then-dequantized weights MatMulNBits sees.
    const reference = ReferenceModel.load(checkpointDirOf(dir), dtype === 'int4' ? { weights: 'int4', int4BlockSize: 32 } : {});
    const vocab = reference.config.vocabSize;
    const random = seededRandom(11);
    const shared = Array.from({ length: 24 }, () => Math.floor(random() * (vocab - 1)));
    const prompts = [[...shared, 3, 4, 5], [...shared, 9, 8]];
    // Chunks of 10 split the prompt mid-way, so chunked prefill is part of what is compared.
    const backend = new LocalBackend({ modelDir: dir, executionProvider: 'cpu', contextTokens: 0, prefillChunkTokens: 10 });
    try {
      for (const [index, prompt] of prompts.entries()) {
        const expected = referenceGreedy(reference, prompt, 12);
        assert.ok(expected.smallestGap > 1e-3, 'the reference has no near-tie that float32 rounding could flip');
        const result = await backend.run({ prompt: { kind: 'tokens', tokens: prompt }, sampling: { maxTokens: 12 }, ignoreStopTokens: true, returnTokens: true });
        assert.deepEqual(result.engine?.tokens, expected.tokens);
        assert.equal(result.finishReason, 'length');
        assert.equal(result.cachedPromptTokens, index === 0 ? 0 : shared.length, 'the second prompt reuses the shared prefix');
      }
    } finally {
      await backend.dispose();
    }
  });
}
