/**
 * The Q&A prompt every backend sends: fixed system text, then the packed repository, then the question last.
 * Everything before the question is byte-identical from one question to the next (for the same pack), so a
 * server's prefix cache (vLLM automatic prefix caching, llama.cpp cache_prompt) or the local engine's KV cache
 * serves the repository part again and only the question is prefilled.
 */
import type { ChatMessage } from './types';

export const REPOSITORY_SYSTEM_PROMPT =
  'You are ProLong, an assistant that answers questions about a software repository. ' +
  'The whole repository follows, one file after another, each introduced by its path. ' +
  'Answer from the repository\'s contents, name the files (and functions) your answer rests on, ' +
  'and say so when the repository does not contain the answer.';

/** Written between the repository and the question; constant, so the cached prefix ends right before the question. */
export const QUESTION_MARKER = '\n\n---\nQuestion: ';

export interface RepositoryQuestion {
  /** The packed repository text, exactly as the packer produced it (not trimmed or re-encoded). */
  repository: string;
  question: string;
  /** Replaces REPOSITORY_SYSTEM_PROMPT (keep it constant across questions, or the cache is lost). */
  system?: string;
}

export function buildRepositoryPrompt(input: RepositoryQuestion): ChatMessage[] {
  return [
    { role: 'system', content: input.system ?? REPOSITORY_SYSTEM_PROMPT },
    { role: 'user', content: input.repository + QUESTION_MARKER + input.question.trim() },
  ];
}
