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
  /** What to do when nothing fits, in the caller's words (CLI flags or settings). */
  hint?: string,
): Promise<number | undefined> {
  if (!info.contextLength) return callerBudget;
  const around = (await countPrompt('')).tokens + JOIN_SLACK_TOKENS;
  const budget = info.contextLength - maxAnswerTokens - around;
  // the packer reads a budget of 0 as none at all, so a context this small must stop here
  if (budget <= 0) {
    const n = (tokens: number) => tokens.toLocaleString('en-US');
    throw new UserError(`The context of ${n(info.contextLength)} tokens (${info.model}) leaves no room for the repository after ${n(maxAnswerTokens)} answer tokens and ${n(around)} for the question and chat template.`,
      hint ?? `Ask for fewer answer tokens, ${info.kind === 'local' ? 'give the local engine a longer context' : 'serve the model with a longer context'}, or ask without the repository.`);
  }
  return callerBudget === undefined ? budget : Math.min(budget, callerBudget);
}

/**
 * Packs so that the document fits `budget` tokens as the caller's own tokenizer counts them (`count`), when the
 * caller's model is not ours: packs with our tokenizer, counts the document with theirs, and packs again with our
 * budget scaled by the ratio of the two counts until it fits (whole files dropped by the packer's budget policy: the largest first).
 */
export async function packForCallerBudget<T extends { document: string; totalTokens: number }>(
  packWithBudget: (ourBudget: number | undefined) => Promise<T>, count: (text: string) => Promise<number>, budget: number,
): Promise<{ pack: T; callerTokens: number }> {
  let pack = await packWithBudget(undefined);
  let callerTokens = await count(pack.document);
  for (let attempt = 0; callerTokens > budget && attempt < 6; attempt++) {
    // 2% under the proportional estimate, a little more each round, so it converges in a step or two
    const ours = Math.floor(pack.totalTokens * (budget / callerTokens) * (0.98 - attempt * 0.04));
    if (ours <= 0) break;
    pack = await packWithBudget(ours);
    callerTokens = await count(pack.document);
  }
  if (callerTokens > budget) {
    throw new UserError(`Even the smallest pack takes ${callerTokens.toLocaleString('en-US')} tokens, over the caller's budget of ${budget.toLocaleString('en-US')}.`,
      'Ask with a larger token budget, or leave files out with prolong.pack.exclude.');
  }
  return { pack, callerTokens };
}
