/**
 * How many tokens the packed repository may take in a Q&A prompt: the backend's context less the answer and the
 * prompt around the repository (system text, question, chat template), counted as the backend counts it.
 */
import { UserError } from '../errors';
import type { BackendInfo, PromptTokenCount } from './types';

/** Room left where the packed document meets the prompt text around it (a token may merge across the seam). */
export const JOIN_SLACK_TOKENS = 16;

/**
 * The token budget for the repository, or undefined when the backend reports no context length (no budget).
 * `countPrompt('')` counts the prompt without the repository. Throws a UserError when nothing fits.
 */
export async function repositoryBudget(
  info: BackendInfo, maxAnswerTokens: number, countPrompt: (repository: string) => Promise<PromptTokenCount>,
  callerBudget?: number,
): Promise<number | undefined> {
  if (!info.contextLength) return callerBudget;
  const around = (await countPrompt('')).tokens + JOIN_SLACK_TOKENS;
  const budget = info.contextLength - maxAnswerTokens - around;
  if (budget <= 0) {
    const n = (tokens: number) => tokens.toLocaleString('en-US');
    throw new UserError(`The context of ${n(info.contextLength)} tokens (${info.model}) leaves no room for the repository after ${n(maxAnswerTokens)} answer tokens and ${n(around)} for the question and chat template.`,
      `Ask for fewer answer tokens, ${info.kind === 'local' ? 'give the local engine a longer context' : 'serve the model with a longer context'}, or ask without the repository.`);
  }
  return callerBudget === undefined ? budget : Math.min(budget, callerBudget);
}
