// The wire readers on bodies captured from a real llama-server (build de3ff81, a random-weight model with Llama 3's
// tokenizer, -c 4096) and on vLLM's shapes as its pydantic models serialize them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readErrorBody, readLlamaCppContext, readModelList, readStreamChunk, readTokenizeResponse } from '../../engine/backends/remote/wire';

test('llama-server /v1/models: the running context (meta.n_ctx) wins over the trained one', () => {
  const body = JSON.parse('{"models":[{"name":"t2.gguf","model":"t2.gguf","modified_at":"","size":"","digest":"","type":"model","description":"","tags":[""],"capabilities":["completion"],"parameters":"","details":{"parent_model":"","format":"gguf","family":"","families":[""],"parameter_size":"","quantization_level":""}}],"object":"list","data":[{"id":"t2.gguf","aliases":["t2.gguf"],"tags":[],"object":"model","created":1795322616,"owned_by":"llamacpp","meta":{"vocab_type":2,"n_vocab":128256,"n_ctx":4096,"n_ctx_train":8192,"n_embd":64,"n_params":16490816,"size":32982272,"ftype":"F16"}}]}');
  assert.deepEqual(readModelList(body), [{ id: 't2.gguf', contextLength: 4096, software: 'llama.cpp' }]);
  assert.equal(readLlamaCppContext({ default_generation_settings: { params: { seed: 4294967295 }, n_ctx: 4096 }, total_slots: 1 }), 4096);
});

test('vLLM /v1/models and /tokenize', () => {
  const models = { object: 'list', data: [{ id: 'prolong', object: 'model', created: 1, owned_by: 'vllm', root: '/models/prolong', parent: null, max_model_len: 524288, permission: [] }] };
  assert.deepEqual(readModelList(models), [{ id: 'prolong', contextLength: 524288, software: 'vllm' }]);
  assert.deepEqual(readTokenizeResponse({ count: 3, max_model_len: 524288, tokens: [1, 2, 3], token_strs: null }), { count: 3, maxModelLength: 524288 });
  assert.deepEqual(readTokenizeResponse({ tokens: [128000, 9906, 1070] }), { count: 3, maxModelLength: undefined });
  assert.equal(readModelList({ detail: 'Not Found' }), undefined);
});

test('llama-server chat stream chunks: progress, role, text, finish, usage with timings', () => {
  const lines = [
    '{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1795322626,"id":"chatcmpl-H","model":"t2.gguf","system_fingerprint":"b1-de3ff81","object":"chat.completion.chunk","prompt_progress":{"total":12,"cache":0,"processed":12,"time_ms":7}}',
    '{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"čet"}}],"created":1795322626,"id":"chatcmpl-H","model":"t2.gguf","system_fingerprint":"b1-de3ff81","object":"chat.completion.chunk"}',
    '{"choices":[{"finish_reason":"length","index":0,"delta":{}}],"created":1795322626,"id":"chatcmpl-H","model":"t2.gguf","system_fingerprint":"b1-de3ff81","object":"chat.completion.chunk"}',
    '{"choices":[],"created":1795322626,"id":"chatcmpl-H","model":"t2.gguf","system_fingerprint":"b1-de3ff81","object":"chat.completion.chunk","usage":{"completion_tokens":3,"prompt_tokens":12,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}},"timings":{"cache_n":0,"prompt_n":12,"prompt_ms":8.401,"predicted_n":3,"predicted_ms":115.848}}',
  ].map((line) => readStreamChunk(JSON.parse(line)));
  assert.deepEqual(lines, [
    { text: '', progress: { total: 12, cache: 0, processed: 12 } },
    { text: 'čet' },
    { text: '', finishReason: 'length' },
    { text: '', usage: { promptTokens: 12, completionTokens: 3, cachedPromptTokens: 0 } },
  ]);
});

test('llama-server text completion: finish reason and usage arrive on one chunk', () => {
  const chunk = readStreamChunk(JSON.parse('{"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"created":1795322626,"model":"t2.gguf","system_fingerprint":"b1-de3ff81","object":"text_completion","usage":{"completion_tokens":2,"prompt_tokens":2,"total_tokens":4,"prompt_tokens_details":{"cached_tokens":1}},"id":"chatcmpl-h","timings":{"cache_n":1,"prompt_n":1}}'));
  assert.deepEqual(chunk, { text: '', finishReason: 'length', usage: { promptTokens: 2, completionTokens: 2, cachedPromptTokens: 1 } });
});

test('error bodies of llama-server and vLLM', () => {
  assert.deepEqual(readErrorBody(JSON.parse('{"error":{"message":"File Not Found","type":"not_found_error","code":404}}')), { message: 'File Not Found', type: 'not_found_error', promptTokens: undefined, contextTokens: undefined });
  assert.deepEqual(readErrorBody(JSON.parse('{"error":{"code":400,"message":"request (5010 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5010,"n_ctx":4096}}')),
    { message: 'request (5010 tokens) exceeds the available context size (4096 tokens), try increasing it', type: 'exceed_context_size_error', promptTokens: 5010, contextTokens: 4096 });
  assert.deepEqual(readErrorBody({ error: 'Unauthorized' }), { message: 'Unauthorized' });
  assert.deepEqual(readErrorBody({ object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 }), { message: 'The model `x` does not exist.', type: 'NotFoundError' });
  assert.deepEqual(readErrorBody({ detail: 'Not Found' }), { message: 'Not Found' });
  assert.equal(readErrorBody({ choices: [] }), undefined);
});
