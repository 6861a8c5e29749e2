/**
 * One question about the packed repository, from pack to streamed answer, for every place that asks: the Ask
 * panel and the @prolong chat participant. The same backend, the same packed document and the same request
 * shape (conversation.ts: repository first, byte-stable), so a question from either reuses the prefix the other
 * warmed. Pure (no `vscode`): the caller supplies the pack, the backend and the answer room.
 */
import type { Backend, BackendInfo, GenerateEvent, GenerateResult, SamplingOptions } from '../../engine/backends/types';
import { conversationRequest, type Exchange } from './conversation';
import { groupDigits as n } from '../../webview/shared/numbers';

export interface AskRun {
  question: string;
  history: readonly Exchange[];
  sampling: { maxTokens: number; temperature: number };
  /** The packed repository's document (packing again when it is stale). */
  pack(signal: AbortSignal): Promise<string>;
  backend(): Promise<Backend>;
  /** Stages after the pack, in order: 'connecting' (the backend and its info), then 'prefill' (the request is sent). */
  onStage?(stage: 'connecting' | 'prefill'): void;
  onInfo?(backend: Backend, info: BackendInfo): void;
  /** Answer tokens the context leaves room for with this backend (at most `maxTokens`). */
  answerRoom(info: BackendInfo, maxTokens: number): number;
  onWarning(message: string): void;
  onEvent(event: GenerateEvent): void;
}

/** Runs one question; rejects with the backend's UserError, or a CancelledError from the pack. */
export async function runAsk(run: AskRun, signal: AbortSignal): Promise<GenerateResult> {
  const document = await run.pack(signal);
  run.onStage?.('connecting');
  const backend = await run.backend();
  const info = await backend.info(signal);
  run.onInfo?.(backend, info);
  const sampling: SamplingOptions = { ...run.sampling };
  const room = run.answerRoom(info, sampling.maxTokens);
  if (room < sampling.maxTokens) {
    run.onWarning(`The model's context leaves room for about ${n(room)} answer tokens (prolong.ask.maxAnswerTokens is ${n(sampling.maxTokens)}).`);
    sampling.maxTokens = room;
  }
  const request = conversationRequest(document, run.history, run.question, sampling);
  run.onStage?.('prefill');
  return backend.generate(request, (event) => run.onEvent(event), signal);
}
