// Model fit from config.json alone: parameters, weight bytes, trained context and the largest context that fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFit, formatBytes, modelFit } from '../../engine/models/modelFit';

const GiB = 1024 ** 3;
const llama3_8b = {
  architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
  num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 8192, rope_theta: 500000, tie_word_embeddings: false, rms_norm_eps: 1e-5,
};
const llama32_1b = {
  ...llama3_8b, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, head_dim: 64, tie_word_embeddings: true, max_position_embeddings: 131072,
  rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
};
const qwen25_7b = {
  architectures: ['Qwen2ForCausalLM'], hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28,
  num_key_value_heads: 4, vocab_size: 152064, max_position_embeddings: 32768, rope_theta: 1000000, tie_word_embeddings: false, use_sliding_window: false,
};

test('parameter counts match the published models (Llama-3-8B, Llama-3.2-1B tied, Qwen2.5-7B with q/k/v biases)', () => {
  const mem = { bytes: 64 * GiB, source: 'test' };
  assert.equal(modelFit(llama3_8b, 'x', mem).parameters, 8_030_261_248);
  assert.equal(modelFit(llama32_1b, 'x', mem).parameters, 1_235_814_400);
  assert.equal(modelFit(qwen25_7b, 'x', mem).parameters, 7_615_616_512);
});

test('the largest fitting context is weights + KV per token against memory; the trained context caps it; int4 is suggested when it reaches further', () => {
  const fit = modelFit(llama3_8b, 'x', { bytes: 24 * GiB, source: 'test' });
  assert.equal(fit.kvBytesPerToken, 131072); // 32 layers x (K+V) x 8 heads x 128 x 2 bytes
  assert.equal(fit.weightBytes.fp16, 8_030_261_248 * 2);
  // 24 GiB - 16.06 GB weights - 655 MB working memory = 9.05 GB over 2 x 128 KiB per token: 33 x 1024 tokens, capped at the trained 8192
  assert.equal(fit.trainedContext, 8192);
  assert.equal(fit.fittingContext.fp16, 8192);
  assert.equal(fit.suggestedDtype, 'fp16');
  const prolong = modelFit({ ...llama3_8b, max_position_embeddings: 524288, rope_theta: 128000000 }, 'x', { bytes: 24 * GiB, source: 'test' });
  assert.equal(prolong.fittingContext.fp16, 33792); // the same model trained for 512K: 33 x 1024
  assert.ok(prolong.fittingContext.int4 > prolong.fittingContext.fp16);
  assert.equal(prolong.suggestedDtype, 'int4');
  const small = modelFit(llama3_8b, 'x', { bytes: 8 * GiB, source: 'test' });
  assert.equal(small.fittingContext.fp16, 0, 'fp16 weights alone do not fit in 8 GiB');
  assert.ok(small.fittingContext.int4 > 0);
  assert.match(describeFit(small), /^8\.03B params · [\d.]+ GiB int4 · trained 8K · fits \d+K here$/);
});

test('RoPE scaling is named with the context it stretches; unsupported architectures are refused from config.json', () => {
  const fit = modelFit(llama32_1b, 'x', { bytes: 16 * GiB, source: 'test' });
  assert.equal(fit.trainedContext, 131072);
  assert.equal(fit.ropeScaling, 'llama3 x32 from 8192');
  assert.match(describeFit(fit), /trained 128K \(llama3 x32 from 8192\)/);
  assert.throws(() => modelFit({ architectures: ['GPT2LMHeadModel'] }, 'org/gpt2/config.json', { bytes: GiB, source: 'test' }), /org\/gpt2\/config.json: field "architectures"/);
  assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
});

test('every curated model\'s config parses, and the list names the ProLong family first', async () => {
  const { curatedModels } = await import('../../engine/models/curated');
  const mem = { bytes: 24 * GiB, source: 'test' };
  assert.deepEqual(curatedModels.slice(0, 2).map((m) => m.repo), ['princeton-nlp/Llama-3-8B-ProLong-512k-Instruct', 'princeton-nlp/Llama-3-8B-ProLong-64k-Instruct']);
  const fits = curatedModels.map((m) => modelFit(m.config, m.repo, mem));
  assert.equal(fits[0]!.trainedContext, 524288);
  assert.equal(fits.find((_, i) => curatedModels[i]!.repo === 'meta-llama/Llama-3.2-3B-Instruct')!.parameters, 3_212_749_824);
  assert.equal(fits.find((_, i) => curatedModels[i]!.repo === 'Qwen/Qwen2.5-1.5B-Instruct')!.parameters, 1_543_714_304);
});
