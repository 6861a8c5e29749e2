/**
 * The one interface every model backend implements (the bundled local engine and remote OpenAI-compatible
 * servers), so Q&A, the probes and the panels never care which one runs.
 * Shared contract: change it only additively, and keep every implementation compiling.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface SamplingOptions {
  /** Most new tokens to generate. */
  maxTokens: number;
  /** 0 (the default) means greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
  /** Extra stop strings (the model's own stop tokens always apply). */
  stop?: string[];
  seed?: number;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /**
   * Text the assistant's turn starts with, placed after the chat template's generation prompt (RULER's answer
   * prefix). It is part of the prompt, not of the returned text.
   */
  assistantPrefix?: string;
  sampling: SamplingOptions;
}

/** Events while a request runs, in order: prefill progress, first token, then text pieces. */
export type GenerateEvent =
  | { type: 'prefill'; doneTokens: number; totalTokens: number; reusedTokens: number }
  | { type: 'first-token'; timeToFirstTokenMs: number }
  | { type: 'text'; text: string }
  | { type: 'warning'; message: string };

export type FinishReason =
  /** A stop token or stop string ended it. */
  | 'stop'
  /** maxTokens was reached. */
  | 'length'
  /** The caller's AbortSignal fired; `text` holds what came before. */
  | 'cancelled'
  /** The connection or worker broke mid-answer; `text` holds the partial answer. */
  | 'cut';

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from a prefix cache (ours or the server's), when known. */
  cachedPromptTokens?: number;
  timeToFirstTokenMs?: number;
  totalMs: number;
  /** Problems that did not stop the answer (skipped malformed stream lines, a retried request...). */
  warnings: string[];
}

export interface BackendInfo {
  kind: 'local' | 'remote';
  /** The model's name as the backend knows it. */
  model: string;
  /** Longest prompt + answer in tokens, where the backend reports it. */
  contextLength?: number;
  /** One line for the user: device/execution provider, or server URL and software. */
  detail: string;
  /** Shown wherever this backend answers (the bundled demo model says what it cannot do, and the way to a real model). */
  notice?: string;
}

export interface PromptTokenCount {
  tokens: number;
  /** True when counted by the model's own tokenizer on the exact prompt the backend will send. */
  exact: boolean;
  /** Why it is not exact, shown to the user. */
  note?: string;
}

export interface Backend {
  info(signal?: AbortSignal): Promise<BackendInfo>;
  /** Tokens of the whole prompt the request would send (chat template and assistant prefix included). */
  countPromptTokens(request: Omit<GenerateRequest, 'sampling'>, signal?: AbortSignal): Promise<PromptTokenCount>;
  /**
   * Streams an answer. Resolves with finishReason 'cancelled' (not a rejection) when `signal` fires, and
   * 'cut' when the stream breaks after some text. Rejects with a UserError for failures before any text.
   */
  generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult>;
  dispose(): Promise<void>;
}
