/**
 * The context budget the Ask panel shows: packed repository + conversation + prompt overhead + room for the
 * answer, against the model's context length, with what to do when it does not fit. Pure (no `vscode`).
 */
import type { ContextBudget } from '../../webview/ask/protocol';
import { groupDigits as n } from '../../webview/shared/numbers';

/** Above this share of the context the meter warns that follow-ups will soon not fit. */
export const TIGHT_FRACTION = 0.9;

/** Llama 3 chat template: <|begin_of_text|> once; per message <|start_header_id|>role<|end_header_id|>\n\n ... <|eot_id|>. */
export const TEMPLATE_TOKENS_PER_MESSAGE = 5;
export const TEMPLATE_TOKENS_FIXED = 1 + 4; // BOS, and the assistant header that starts the answer

export interface BudgetInput {
  repositoryTokens: number;
  conversationTokens: number;
  /** System prompt and question marker tokens. */
  fixedPromptTokens: number;
  /** Messages the request will have (system, user, then two per follow-up). */
  messages: number;
  answerTokens: number;
  contextLength?: number;
  droppedFiles: number;
}

export function contextBudget(input: BudgetInput): ContextBudget {
  const overheadTokens = input.fixedPromptTokens + TEMPLATE_TOKENS_FIXED + TEMPLATE_TOKENS_PER_MESSAGE * input.messages;
  const totalTokens = input.repositoryTokens + input.conversationTokens + overheadTokens + input.answerTokens;
  const budget: ContextBudget = {
    repositoryTokens: input.repositoryTokens,
    conversationTokens: input.conversationTokens,
    overheadTokens,
    answerTokens: input.answerTokens,
    contextLength: input.contextLength,
    totalTokens,
    fit: 'unknown',
    droppedFiles: input.droppedFiles,
  };
  const context = input.contextLength;
  if (!context || context <= 0) return budget;
  if (totalTokens > context) {
    budget.fit = 'over';
    const repositoryRoom = context - input.conversationTokens - overheadTokens - input.answerTokens;
    const withoutConversation = input.repositoryTokens + overheadTokens + input.answerTokens;
    if (input.conversationTokens > 0 && withoutConversation <= context) {
      budget.advice = `This conversation has grown ${n(totalTokens - context)} tokens past the model's ${n(context)}: `
        + 'start a new conversation (the repository alone fits).';
      budget.remedies = ['newConversation'];
    } else if (repositoryRoom > 0) {
      budget.advice = `Needs ${n(totalTokens)} tokens; the model holds ${n(context)}. Set prolong.pack.tokenBudget to at most `
        + `${n(repositoryRoom)} (whole files are left out: tests, examples and docs before the code), or leave folders out in .prolongignore.`;
      budget.remedies = ['openTokenBudgetSetting', 'openProlongIgnore'];
    } else {
      // the answer room and the prompt alone fill the context: no budget for the repository helps
      budget.advice = `Needs ${n(totalTokens)} tokens; the model holds ${n(context)}, and the ${n(input.answerTokens)} tokens kept `
        + 'for the answer leave no room for the repository. Lower prolong.ask.maxAnswerTokens, or use a model with a longer context.';
      budget.remedies = ['openAnswerTokensSetting'];
    }
  } else if (totalTokens > TIGHT_FRACTION * context) {
    budget.fit = 'tight';
    budget.advice = `${n(context - totalTokens)} tokens left: a long follow-up may not fit; start a new conversation when it runs out.`;
    if (input.conversationTokens > 0) budget.remedies = ['newConversation'];
  } else {
    budget.fit = 'fits';
  }
  return budget;
}

/** Tokens kept free beyond the prompt estimate when the answer's room is cut to the context. */
export const ANSWER_ROOM_MARGIN = 64;
/** Below this many answer tokens the question is sent as configured and the backend reports the overflow. */
export const MIN_ANSWER_TOKENS = 128;

/**
 * Answer tokens to ask for: `maxTokens` (prolong.ask.maxAnswerTokens), lowered when the context is nearly full
 * (with a margin for the estimate's few tokens of error). When not even a short answer fits, `maxTokens` is kept
 * and the backend says what does not fit.
 */
export function answerRoom(budget: ContextBudget, maxTokens: number): number {
  if (!budget.contextLength) return maxTokens;
  const room = budget.contextLength - (budget.totalTokens - budget.answerTokens) - ANSWER_ROOM_MARGIN;
  return room >= MIN_ANSWER_TOKENS && room < maxTokens ? room : maxTokens;
}

