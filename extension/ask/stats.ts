/** Speed figures shown under each answer, from the backend's result, and other per-turn notes. Pure (no `vscode`). */
import { groupDigits as n } from '../../webview/shared/numbers';
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

/** "2 files added, 1 left out" between two packs' file lists; undefined when the same files are packed. */
export function packChange(before: ReadonlySet<string>, after: readonly string[]): string | undefined {
  const now = new Set(after);
  const added = after.filter((path) => !before.has(path)).length;
  let removed = 0;
  for (const path of before) if (!now.has(path)) removed++;
  if (added === 0 && removed === 0) return undefined;
  const files = (count: number) => `${n(count)} file${count === 1 ? '' : 's'}`;
  return [added > 0 ? `${files(added)} added` : '', removed > 0 ? `${files(removed)} out` : ''].filter(Boolean).join(', ');
}
