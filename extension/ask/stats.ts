/** Speed figures shown under each answer, from the backend's result. Pure (no `vscode`). */
import type { GenerateResult } from '../../engine/backends/types';
import type { TurnStats } from '../../webview/ask/protocol';

export function answerStats(result: GenerateResult): TurnStats {
  // no token, no first-token time (a turn cancelled during the prefill)
  const ttft = result.completionTokens > 0 || result.text !== '' ? result.timeToFirstTokenMs : undefined;
  const decodeMs = ttft === undefined ? undefined : result.totalMs - ttft;
  return {
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    cachedPromptTokens: result.cachedPromptTokens,
    timeToFirstTokenMs: ttft,
    // Tokens after the first, over the time after the first: the decode speed, without the prefill.
    tokensPerSecond: decodeMs !== undefined && decodeMs > 0 && result.completionTokens > 1 ? (result.completionTokens - 1) / (decodeMs / 1000) : undefined,
    totalMs: result.totalMs,
  };
}
