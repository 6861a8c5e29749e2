/**
 * The JSON shapes of OpenAI-compatible servers (vLLM, SGLang, llama.cpp's llama-server) and tolerant readers for
 * them. Readers take `unknown` and never throw on missing fields: servers differ in what they fill in.
 */

export type ServerSoftware = 'vllm' | 'sglang' | 'llama.cpp' | 'unknown';

export interface ServedModel {
  id: string;
  /** vLLM/SGLang `max_model_len`; for llama.cpp the context it runs with (/props, or `meta.n_ctx`), else `meta.n_ctx_train`. */
  contextLength?: number;
  software: ServerSoftware;
}

export interface StreamUsage {
  promptTokens?: number;
  completionTokens?: number;
  cachedPromptTokens?: number;
}

/** What one streamed chunk says. */
export interface StreamChunk {
  text: string;
  finishReason?: string;
  usage?: StreamUsage;
  /** llama.cpp's `prompt_progress` (with `return_progress: true`). */
  progress?: { total: number; cache: number; processed: number };
  /** An error object sent inside the stream. */
  error?: ServerErrorBody;
}

/** The message and type found in an error body, whichever server wrote it. */
export interface ServerErrorBody {
  message: string;
  type?: string;
  /** llama.cpp's exceed_context_size_error carries the numbers. */
  promptTokens?: number;
  contextTokens?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function softwareOf(ownedBy: string | undefined): ServerSoftware {
  if (ownedBy === 'vllm') return 'vllm';
  if (ownedBy === 'sglang') return 'sglang';
  if (ownedBy === 'llamacpp') return 'llama.cpp';
  return 'unknown';
}

/** Reads GET /v1/models. Returns undefined when the body is not a model list. */
export function readModelList(body: unknown): ServedModel[] | undefined {
  if (!isObject(body) || !Array.isArray(body.data)) return undefined;
  const models: ServedModel[] = [];
  for (const entry of body.data) {
    if (!isObject(entry) || typeof entry.id !== 'string') continue;
    const meta = isObject(entry.meta) ? entry.meta : undefined;
    models.push({
      id: entry.id,
      contextLength: num(entry.max_model_len) ?? num(meta?.n_ctx) ?? num(meta?.n_ctx_train),
      software: softwareOf(str(entry.owned_by)),
    });
  }
  return models;
}

/** llama.cpp GET /props: the context each slot really has (`default_generation_settings.n_ctx`). */
export function readLlamaCppContext(body: unknown): number | undefined {
  if (!isObject(body)) return undefined;
  const settings = isObject(body.default_generation_settings) ? body.default_generation_settings : undefined;
  return num(settings?.n_ctx) ?? num(body.n_ctx);
}

/** vLLM/SGLang `{count, tokens, max_model_len}` or llama.cpp `{tokens: [...]}`. */
export function readTokenizeResponse(body: unknown): { count: number; maxModelLength?: number } | undefined {
  if (!isObject(body)) return undefined;
  const count = num(body.count) ?? (Array.isArray(body.tokens) ? body.tokens.length : undefined);
  if (count === undefined) return undefined;
  return { count, maxModelLength: num(body.max_model_len) };
}

/** llama.cpp POST /apply-template: `{prompt}`. */
export function readAppliedTemplate(body: unknown): string | undefined {
  return isObject(body) ? str(body.prompt) : undefined;
}

/**
 * Error bodies: vLLM `{"object":"error","message",...}` (older) or `{"error":{"message","type","code"}}`,
 * llama.cpp `{"error":{"code","message","type"}}`, vLLM's key check `{"error":"Unauthorized"}`, FastAPI `{"detail":...}`.
 */
export function readErrorBody(body: unknown): ServerErrorBody | undefined {
  const error = readErrorFields(body);
  if (error && error.contextTokens === undefined) {
    const numbers = vllmContextNumbers(error.message);
    if (numbers) return { ...error, ...numbers };
  }
  return error;
}

/**
 * vLLM writes the numbers of a too-long request only into its message: "This model's maximum context length is N
 * tokens. However, your request has M input tokens..." (or "... and your request has M input tokens (K > N - M)"
 * about max_tokens); older versions "...However, you requested T tokens (M in the messages, K in the completion)...".
 */
function vllmContextNumbers(message: string): { promptTokens: number; contextTokens: number } | undefined {
  const context = /maximum context length is (\d+) tokens/.exec(message);
  const prompt = /your request has (\d+) input tokens/.exec(message) ?? /\((\d+) in the messages/.exec(message);
  return context && prompt ? { contextTokens: Number(context[1]), promptTokens: Number(prompt[1]) } : undefined;
}

function readErrorFields(body: unknown): ServerErrorBody | undefined {
  if (!isObject(body)) return undefined;
  if (body.object === 'error' && typeof body.message === 'string') return { message: body.message, type: str(body.type) };
  if (typeof body.error === 'string') return { message: body.error };
  if (isObject(body.error) && typeof body.error.message === 'string') {
    const error = body.error;
    return { message: error.message as string, type: str(error.type), promptTokens: num(error.n_prompt_tokens), contextTokens: num(error.n_ctx) };
  }
  if (typeof body.detail === 'string') return { message: body.detail };
  // llama.cpp's `error:` stream line carries the inner object alone.
  if (typeof body.message === 'string' && (body.code !== undefined || body.type !== undefined)) {
    return { message: body.message, type: str(body.type), promptTokens: num(body.n_prompt_tokens), contextTokens: num(body.n_ctx) };
  }
  return undefined;
}

/** Reads one `data:` chunk of a chat or text completion stream (or a whole answer, which has the same shape). */
export function readStreamChunk(body: unknown): StreamChunk | undefined {
  if (!isObject(body)) return undefined;
  const error = readErrorBody(body);
  if (error && body.choices === undefined) return { text: '', error };
  const chunk: StreamChunk = { text: '' };
  if (Array.isArray(body.choices)) {
    const choice = body.choices.find((c) => isObject(c) && (c.index === undefined || c.index === 0));
    if (isObject(choice)) {
      const delta = isObject(choice.delta) ? choice.delta : undefined;
      const message = isObject(choice.message) ? choice.message : undefined; // a whole (non-streamed) chat answer
      chunk.text = str(delta?.content) ?? str(message?.content) ?? str(choice.text) ?? '';
      const finish = str(choice.finish_reason);
      if (finish) chunk.finishReason = finish;
    }
  } else if (!isObject(body.usage) && !isObject(body.prompt_progress)) {
    return undefined;
  }
  const usage = isObject(body.usage) ? body.usage : undefined;
  const timings = isObject(body.timings) ? body.timings : undefined;
  if (usage || timings) {
    const details = isObject(usage?.prompt_tokens_details) ? usage.prompt_tokens_details : undefined;
    chunk.usage = {
      promptTokens: num(usage?.prompt_tokens),
      completionTokens: num(usage?.completion_tokens),
      cachedPromptTokens: num(details?.cached_tokens) ?? num(timings?.cache_n),
    };
  }
  const progress = isObject(body.prompt_progress) ? body.prompt_progress : undefined;
  if (progress) {
    const total = num(progress.total), cache = num(progress.cache), processed = num(progress.processed);
    if (total !== undefined && processed !== undefined) chunk.progress = { total, cache: cache ?? 0, processed };
  }
  return chunk;
}
