/**
 * Upper bounds on a prompt's token count that need no tokenizer, so the "does it fit" check before sending rarely
 * costs a server round trip (a /tokenize of a 512K-token prompt uploads megabytes and takes the server a second).
 */
import { createHash } from 'node:crypto';
import type { GenerateRequest } from '../types';
import { QUESTION_MARKER } from '../prompt';

type PromptRequest = Omit<GenerateRequest, 'sampling'>;

/** Tokens a chat template may add per message and around the prompt. */
const TEMPLATE_TOKENS_PER_MESSAGE = 16;

/** Every token of text is at least one UTF-8 byte, so bytes (plus the template's own tokens) bound the count. */
export function byteBound(request: PromptRequest): number {
  let bound = TEMPLATE_TOKENS_PER_MESSAGE * (request.messages.length + 1) + Buffer.byteLength(request.assistantPrefix ?? '');
  for (const message of request.messages) bound += Buffer.byteLength(message.content);
  return bound;
}

export interface QuestionSplit {
  /** Hash of everything but the question: earlier messages, the last message up to QUESTION_MARKER, the assistant prefix. */
  key: string;
  questionBytes: number;
}

/**
 * For a Q&A prompt (prompt.ts: the question after QUESTION_MARKER, last in the last user message), the part that stays
 * the same from one question to the next. Two prompts with the same key differ only in the question, and since the
 * marker ends in "Question:" and the question starts a new pre-token (Llama 3's pre-tokenizer splits there, and
 * BPE never merges across pre-tokens), count(prompt2) <= count(prompt1) + bytes(question2).
 */
export function splitAtQuestion(request: PromptRequest): QuestionSplit | undefined {
  const last = request.messages.at(-1);
  if (!last || last.role !== 'user') return undefined;
  const at = last.content.lastIndexOf(QUESTION_MARKER);
  if (at < 0) return undefined;
  const hash = createHash('sha256');
  for (const message of request.messages.slice(0, -1)) hash.update(`${message.role}\u0000${message.content.length}\u0000${message.content}\u0000`);
  hash.update(last.content.slice(0, at));
  hash.update(`\u0000${request.assistantPrefix ?? ''}`);
  return { key: hash.digest('hex'), questionBytes: Buffer.byteLength(last.content.slice(at + QUESTION_MARKER.length)) };
}
