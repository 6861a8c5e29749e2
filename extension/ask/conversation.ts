/**
 * A conversation about the packed repository as the backend's chat request. The repository and the first
 * question form the first user message (engine/backends/prompt.ts: repository first, byte-stable, so prefix
 * caches serve it again); each later exchange follows as assistant/user messages. Pure (no `vscode`).
 */
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import type { ChatMessage, GenerateRequest, SamplingOptions } from '../../engine/backends/types';
import type { Turn } from '../../webview/ask/protocol';

export interface Exchange {
  question: string;
  answer: string;
}

/**
 * The earlier turns a follow-up sends as history: finished ones with some answer text, partial answers
 * (cancelled, cut, length) included as they were shown. Turns that failed before any text are left out, so the
 * history never has two user messages in a row.
 */
export function historyOf(turns: readonly Pick<Turn, 'question' | 'answer' | 'status'>[]): Exchange[] {
  return turns
    .filter((turn) => ['done', 'length', 'cancelled', 'cut'].includes(turn.status) && turn.answer.trim() !== '')
    .map((turn) => ({ question: turn.question, answer: turn.answer }));
}

export function conversationMessages(repository: string, history: readonly Exchange[], question: string): ChatMessage[] {
  const questions = [...history.map((exchange) => exchange.question), question];
  const messages = buildRepositoryPrompt({ repository, question: questions[0]! });
  history.forEach((exchange, i) => {
    messages.push({ role: 'assistant', content: exchange.answer });
    messages.push({ role: 'user', content: questions[i + 1]!.trim() });
  });
  return messages;
}

export function conversationRequest(repository: string, history: readonly Exchange[], question: string, sampling: SamplingOptions): GenerateRequest {
  return { messages: conversationMessages(repository, history, question), sampling };
}
