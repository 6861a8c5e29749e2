import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, Sampler, samplerSettings, seededRandom } from '../../engine/runtime/sampler';

function randomLogits(seed: number, n: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (random() - 0.5) * 8);
}

test('temperature 0 is greedy: the argmax, lowest index on ties', () => {
  const logits = randomLogits(1, 1000);
  const sampler = new Sampler(samplerSettings({ maxTokens: 1 }));
  assert.equal(sampler.sample(logits), argmax(logits));
  assert.equal(argmax([1, 3, 3, 2]), 1);
});

test('the same seed draws the same tokens; another seed draws others', () => {
  const logits = randomLogits(2, 500);
  const draw = (seed: number) => {
    const sampler = new Sampler(samplerSettings({ maxTokens: 1, temperature: 1.5, seed }));
    return Array.from({ length: 50 }, () => sampler.sample(logits));
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test('top-k 1 and a tiny top-p both reduce to greedy at any temperature', () => {
  const logits = randomLogits(3, 2000);
  const best = argmax(logits);
  const topK = new Sampler(samplerSettings({ maxTokens: 1, temperature: 5, topK: 1, seed: 9 }));
  const topP = new Sampler(samplerSettings({ maxTokens: 1, temperature: 0.7, topP: 1e-6, seed: 9 }));
  for (let i = 0; i < 20; i++) {
    assert.equal(topK.sample(logits), best);
    assert.equal(topP.sample(logits), best);
  }
});

test('top-k draws only among the k largest logits', () => {
  const logits = randomLogits(4, 300);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  const allowed = new Set(order.slice(0, 5));
  const sampler = new Sampler(samplerSettings({ maxTokens: 1, temperature: 10, topK: 5, seed: 1 }));
  const seen = new Set<number>();
  for (let i = 0; i < 400; i++) seen.add(sampler.sample(logits));
  for (const token of seen) assert.ok(allowed.has(token), `token ${token} is outside the top 5`);
  assert.equal(seen.size, 5, 'a high temperature reaches every one of the 5');
});

test('draw frequencies follow the softmax at the given temperature', () => {
  const logits = Float32Array.from([2, 1, 0, -1]);
  const temperature = 0.8;
  const weights = Array.from(logits, (l) => Math.exp(l / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const sampler = new Sampler(samplerSettings({ maxTokens: 1, temperature, seed: 123 }));
  const counts = [0, 0, 0, 0];
  const draws = 20000;
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits)]!++;
  counts.forEach((count, i) => {
    const expected = weights[i]! / total;
    assert.ok(Math.abs(count / draws - expected) < 0.015, `token ${i}: ${count / draws} vs ${expected}`);
  });
});

test('top-p keeps the smallest head whose probability reaches p', () => {
  // probabilities about 0.64, 0.24, 0.09, 0.03: p = 0.8 keeps the first two only
  const logits = Float32Array.from([3, 2, 1, 0]);
  const sampler = new Sampler(samplerSettings({ maxTokens: 1, temperature: 1, topP: 0.8, seed: 5 }));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(sampler.sample(logits));
  assert.deepEqual([...seen].sort(), [0, 1]);
});

test('top-p keeps a head whose probability reaches p exactly, despite rounding', () => {
  // 0.5 + 0.3 is 0.7999999999999999 in floating point: the third token must still be left out
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  const sampler = new Sampler(samplerSettings({ maxTokens: 1, temperature: 1, topP: 0.8, seed: 3 }));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(sampler.sample(logits));
  assert.deepEqual([...seen].sort(), [0, 1]);
});

test('the repetition penalty moves greedy away from a token already seen', () => {
  const logits = Float32Array.from([1.0, 1.5, -0.5]);
  const sampler = new Sampler(samplerSettings({ maxTokens: 1, repetitionPenalty: 2 }));
  assert.equal(sampler.sample(logits), 1);
  sampler.observe([1]);
  assert.equal(sampler.sample(logits), 0, '1.5 / 2 = 0.75 < 1.0');
  sampler.observe([0]);
  assert.equal(sampler.sample(logits), 1, '0.75 > 1.0 / 2; a negative logit would be multiplied');
  assert.deepEqual(Array.from(logits), [1.0, 1.5, -0.5], 'the caller\'s logits are not modified');
});
