// The short list "Download a model…" offers, with each model's config.json shape (as published on the Hub) so its
// size and fitting context show before anything is downloaded. Free entry of any ORG/NAME reads config.json instead.
const llama3 = {
  architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
  num_key_value_heads: 8, vocab_size: 128256, rms_norm_eps: 1e-5, tie_word_embeddings: false,
};
const llama31Scaling = { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };
const llama32Scaling = { ...llama31Scaling, factor: 32.0 };

export interface CuratedModel { repo: string; note: string; gated: boolean; config: Record<string, unknown> }

export const curatedModels: CuratedModel[] = [
  { repo: 'princeton-nlp/Llama-3-8B-ProLong-512k-Instruct', note: 'ProLong, 512K context', gated: false,
    config: { ...llama3, max_position_embeddings: 524288, rope_theta: 128000000 } },
  { repo: 'princeton-nlp/Llama-3-8B-ProLong-64k-Instruct', note: 'ProLong, 64K context', gated: false,
    config: { ...llama3, max_position_embeddings: 65536, rope_theta: 8000000 } },
  { repo: 'meta-llama/Llama-3.1-8B-Instruct', note: 'gated: accept Meta\'s license first', gated: true,
    config: { ...llama3, max_position_embeddings: 131072, rope_theta: 500000, rope_scaling: llama31Scaling } },
  { repo: 'meta-llama/Llama-3.2-3B-Instruct', note: 'gated: accept Meta\'s license first', gated: true,
    config: { ...llama3, hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 28, num_attention_heads: 24, head_dim: 128,
      tie_word_embeddings: true, max_position_embeddings: 131072, rope_theta: 500000, rope_scaling: llama32Scaling } },
  { repo: 'meta-llama/Llama-3.2-1B-Instruct', note: 'gated: accept Meta\'s license first', gated: true,
    config: { ...llama3, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, head_dim: 64,
      tie_word_embeddings: true, max_position_embeddings: 131072, rope_theta: 500000, rope_scaling: llama32Scaling } },
  { repo: 'Qwen/Qwen2.5-7B-Instruct', note: 'Qwen2.5, 32K context', gated: false,
    config: { architectures: ['Qwen2ForCausalLM'], hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28,
      num_key_value_heads: 4, vocab_size: 152064, max_position_embeddings: 32768, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: false, use_sliding_window: false } },
  { repo: 'Qwen/Qwen2.5-1.5B-Instruct', note: 'Qwen2.5, small', gated: false,
    config: { architectures: ['Qwen2ForCausalLM'], hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12,
      num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: true, use_sliding_window: false } },
];
