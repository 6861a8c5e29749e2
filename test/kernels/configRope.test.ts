// config.json reading (accepted families, rejected fields named) and RoPE frequencies against the formulas
// of transformers' modeling_rope_utils, recomputed here in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../engine/errors';
import { parseDecoderConfig, type DecoderConfig, type RopeScaling } from '../../kernels/hfConfig';
import { ropeParameters, rotaryCaches } from '../../kernels/rope';

const llama = {
  architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
  num_key_value_heads: 8, vocab_size: 128256, rms_norm_eps: 1e-5, rope_theta: 128000000, max_position_embeddings: 524288,
  bos_token_id: 128000, eos_token_id: 128001, hidden_act: 'silu',
};

test("ProLong-8B's config reads as Llama with 32/8 heads of 128 and theta 1.28e8; eos ids merge generation_config", () => {
  const c = parseDecoderConfig(llama, 'config.json', { eos_token_id: [128001, 128009] });
  assert.equal(c.architecture, 'llama');
  assert.equal(c.headDim, 128);
  assert.equal(c.numKvHeads, 8);
  assert.equal(c.ropeTheta, 1.28e8);
  assert.deepEqual(c.ropeScaling, { type: 'default' });
  assert.deepEqual(c.eosTokenIds, [128001, 128009]);
  assert.equal(c.qkvBias, false);
});

test('Qwen2 always has q/k/v biases; Mistral keeps its sliding window; transformers 5 rope_parameters are read', () => {
  const qwen = parseDecoderConfig({ ...llama, architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: true }, 'q');
  assert.equal(qwen.qkvBias, true);
  assert.equal(qwen.oBias, false);
  assert.equal(qwen.tieWordEmbeddings, true);
  assert.equal(parseDecoderConfig({ ...llama, architectures: ['MistralForCausalLM'], sliding_window: 4096 }, 'm').slidingWindow, 4096);
  const v5 = parseDecoderConfig({ ...llama, rope_theta: undefined, rope_parameters: { rope_type: 'linear', rope_theta: 1e6, factor: 2 } }, 'v5');
  assert.equal(v5.ropeTheta, 1e6);
  assert.deepEqual(v5.ropeScaling, { type: 'linear', factor: 2 });
});

test('unsupported checkpoints are refused with a UserError naming the field', () => {
  const refuses = (raw: Record<string, unknown>, field: string) =>
    assert.throws(() => parseDecoderConfig(raw, 'x/config.json'), (e: unknown) => e instanceof UserError && e.message.includes(`"${field}"`) && e.message.includes('x/config.json'));
  refuses({ ...llama, architectures: ['GPT2LMHeadModel'] }, 'architectures');
  refuses({ ...llama, hidden_act: 'gelu' }, 'hidden_act');
  refuses({ ...llama, num_key_value_heads: 5 }, 'num_attention_heads');
  refuses({ ...llama, rope_scaling: { rope_type: 'longrope', short_factor: [], long_factor: [] } }, 'rope_scaling.rope_type');
  refuses({ ...llama, hidden_size: 'big' }, 'hidden_size');
  refuses({ ...llama, architectures: ['Qwen2ForCausalLM'], use_sliding_window: true }, 'use_sliding_window');
});

const dim = 128;
const theta = 500000;
const plain = (base: number) => Array.from({ length: dim / 2 }, (_, i) => 1 / base ** ((2 * i) / dim));
const close = (actual: ArrayLike<number>, expected: number[], relative = 1e-6) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= relative * Math.abs(expected[i]!), `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
};

test('default and linear inverse frequencies', () => {
  close(ropeParameters(1.28e8, dim, { type: 'default' }, 524288).invFreq, plain(1.28e8));
  close(ropeParameters(theta, dim, { type: 'linear', factor: 4 }, 8192).invFreq, plain(theta).map((x) => x / 4));
});

test('llama3: high frequencies kept, low ones divided by factor, the band between interpolated', () => {
  const s = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 } as const;
  const expected = plain(theta).map((x) => {
    const wavelen = (2 * Math.PI) / x;
    if (wavelen < 8192 / 4) return x;
    if (wavelen > 8192 / 1) return x / 8;
    const smooth = (8192 / wavelen - 1) / (4 - 1);
    return (1 - smooth) * (x / 8) + smooth * x;
  });
  const { invFreq, attentionFactor } = ropeParameters(theta, dim, s, 131072);
  close(invFreq, expected, 1e-5);
  assert.equal(attentionFactor, 1);
  assert.ok(expected.some((x, i) => x === plain(theta)[i]) && expected.some((x, i) => x === plain(theta)[i]! / 8), 'both ends are exercised');
});

test('yarn: ramp between extrapolation and interpolation, attention factor 0.1 ln(factor) + 1 (or as configured)', () => {
  const base = 1e6;
  const s: RopeScaling = { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1, truncate: true };
  const correction = (rotations: number) => (dim * Math.log(32768 / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(correction(32)), 0);
  const high = Math.min(Math.ceil(correction(1)), dim - 1);
  const expected = plain(base).map((x, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    return (x / 4) * ramp + x * (1 - ramp);
  });
  const r = ropeParameters(base, dim, s, 131072);
  close(r.invFreq, expected, 1e-5);
  assert.ok(Math.abs(r.attentionFactor - (0.1 * Math.log(4) + 1)) < 1e-12);
  assert.equal(ropeParameters(base, dim, { ...s, attentionFactor: 1.5 }, 131072).attentionFactor, 1.5);
  // the cos/sin caches carry the attention factor (transformers multiplies cos and sin by it)
  const config = { headDim: dim, ropeTheta: base, ropeScaling: s, maxPositionEmbeddings: 131072 } as DecoderConfig;
  assert.ok(Math.abs(rotaryCaches(config, 1).cos[0]! - r.attentionFactor) < 1e-6);
});

test('dynamic NTK: plain frequencies up to max_position_embeddings, then the base grows with the length', () => {
  const maxPos = 16;
  const factor = 2;
  const config = { headDim: dim, ropeTheta: theta, ropeScaling: { type: 'dynamic', factor }, maxPositionEmbeddings: maxPos } as DecoderConfig;
  const caches = rotaryCaches(config, 40);
  const half = dim / 2;
  for (const p of [0, 5, 15, 16, 39]) {
    const len = Math.max(p + 1, maxPos);
    const base = theta * ((factor * len) / maxPos - (factor - 1)) ** (dim / (dim - 2));
    const inv = plain(base);
    for (const i of [1, 10, 40]) {
      assert.ok(Math.abs(caches.cos[p * half + i]! - Math.cos(p * inv[i]!)) < 1e-5, `cos at position ${p}, index ${i}`);
      assert.ok(Math.abs(caches.sin[p * half + i]! - Math.sin(p * inv[i]!)) < 1e-5, `sin at position ${p}, index ${i}`);
    }
  }
});

test('theta 1.28e8 at position 500,000: float32 angles like torch, still finite and on the unit circle', () => {
  const config = { headDim: dim, ropeTheta: 1.28e8, ropeScaling: { type: 'default' }, maxPositionEmbeddings: 524288 } as DecoderConfig;
  const caches = rotaryCaches(config, 524288);
  const p = 500000;
  for (let i = 0; i < dim / 2; i++) {
    const c = caches.cos[p * (dim / 2) + i]!;
    const s = caches.sin[p * (dim / 2) + i]!;
    assert.ok(Math.abs(c * c + s * s - 1) < 1e-5);
  }
});
