/** Escaping and number formats shared by the panel's HTML and SVG builders. */
export { formatLength } from '../../engine/probes/report';

export { escapeHtml as escapeMarkup } from '../shared/escape';

/** Scores with one decimal, as RULER's tables print them. */
export function formatScore(score: number): string {
  return score.toFixed(1);
}

export { groupDigits as formatTokens } from '../shared/numbers';

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
