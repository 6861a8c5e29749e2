/**
 * The panel's sections as markup from the view state (pure, so tests check what the user sees): progress,
 * notes and warnings, the results (effective length, chart, tables, heatmaps, skips) and the run's metadata.
 */
import { REFERENCE_CURVES } from '../../engine/probes/effectiveLength';
import type { ReferenceCurve } from '../../engine/probes/types';
import { curveChartModel, curveChartSvg } from './chart';
import { DIFFERENCES_FROM_RULER } from './differences';
import { escapeMarkup, formatLength, formatMs, formatScore, formatTokens } from './markup';
import type { Phase, ProbesViewState } from './protocol';
import { comparisonSummaries, heatmapViews, rulerSummary } from './state';
import { heatmapHtml, scoreTableHtml, taskTitle } from './tables';

export const PHASE_LABELS: Record<Phase, string> = {
  idle: 'no run yet', preparing: 'preparing', running: 'running', cancelling: 'cancelling…', done: 'done',
  cancelled: 'cancelled', failed: 'failed', loaded: 'from file',
};

/** References shown: the loaded/finished results' own, else the ones this build carries. */
function references(state: ProbesViewState): readonly ReferenceCurve[] {
  return state.result?.references ?? REFERENCE_CURVES;
}

export function progressHtml(state: ProbesViewState): string {
  const parts: string[] = [];
  if (state.phase === 'preparing' || (state.phase === 'cancelling' && state.total === 0)) {
    parts.push(`<p class="muted">${escapeMarkup(state.preparing ? `Preparing: ${state.preparing}…` : 'Preparing…')}</p>`);
  }
  // results opened from a file: no run to follow, the file named instead
  if (state.phase === 'loaded') {
    if (state.file) parts.push(`<p class="muted">Results from ${escapeMarkup(baseName(state.file))} (full path under Run details).</p>`);
    return parts.join('');
  }
  if (state.total > 0) {
    const percent = Math.round((state.done / state.total) * 100);
    parts.push(`<div class="progress-row"><progress max="${state.total}" value="${state.done}" aria-label="Instances finished"></progress>`
      + `<span>${state.done.toLocaleString('en-US')} / ${state.total.toLocaleString('en-US')} instances (${percent}%)${skippedNote(state)}</span></div>`);
  }
  const current = state.current;
  if (current && (state.phase === 'running' || state.phase === 'cancelling')) {
    const depth = current.depthPercent === undefined ? '' : ` · depth ${current.depthPercent}%`;
    const prefill = current.prefillTotal ? ` · prefill ${formatTokens(current.prefillDone ?? 0)} / ${formatTokens(current.prefillTotal)} tokens` : ' · waiting for the answer';
    parts.push(`<p class="current">Now: ${escapeMarkup(taskTitle(current.task))} at ${formatLength(current.length)}${depth} `
      + `(${formatTokens(current.promptTokens)} prompt tokens)${prefill}</p>`);
  }
  if (!current && state.phase === 'running' && state.done < state.total) parts.push('<p class="current">Building the next prompt…</p>');
  const last = state.instances.at(-1);
  if (last && (state.phase === 'running' || state.phase === 'cancelling')) {
    const depth = last.depthPercent === undefined ? '' : ` · depth ${last.depthPercent}%`;
    parts.push(`<p class="muted">Last: ${escapeMarkup(taskTitle(last.task))} at ${formatLength(last.length)}${depth}: score ${formatScore(last.score)} in ${formatMs(last.totalMs)}</p>`);
  }
  if (state.phase === 'failed' && state.error) parts.push(`<p class="error" role="alert">${escapeMarkup(state.error)}</p>`);
  if (state.phase === 'cancelled') {
    const finished = state.result?.instances.length ?? 0;
    parts.push(`<p>Cancelled${finished > 0 ? `: ${finished} instance${finished === 1 ? '' : 's'} finished and ${finished === 1 ? 'is' : 'are'} shown below` : ' before any instance finished'}.</p>`);
  }
  return parts.join('');
}

export function notesHtml(state: ProbesViewState): string {
  const parts: string[] = [];
  if (state.otherSuiteVersion && state.result) {
    parts.push(`<p class="error">These results come from ${escapeMarkup(state.result.metadata.suiteVersion)}; this build generates different instances, so compare them with care.</p>`);
  }
  if (state.notes.length > 0) parts.push(`<ul class="notes">${state.notes.map((note) => `<li>${escapeMarkup(note)}</li>`).join('')}</ul>`);
  if (state.warnings.length > 0) {
    parts.push(`<details class="warnings"><summary>${state.warnings.length} warning${state.warnings.length === 1 ? '' : 's'}</summary>`
      + `<ul>${state.warnings.map((warning) => `<li>${escapeMarkup(warning)}</li>`).join('')}</ul></details>`);
  }
  return parts.join('');
}

/** One line on the effective length at the panel's threshold. */
export function effectiveSummary(state: ProbesViewState): string {
  const ruler = rulerSummary(state);
  if (ruler.averages.length === 0) {
    if (!state.plan?.tasks.some((task) => !['json_kv', 'needle_heatmap', 'code_needle'].includes(task))) return 'Effective length: needs RULER tasks (this run has none).';
    // a run that ended (cancelled, failed, or skipped everything) waits for nothing
    return state.result || state.phase === 'cancelled' || state.phase === 'failed'
      ? 'Effective length: not measured (no RULER task finished at any length).'
      : 'Effective length: waiting for a RULER task to finish at every length.';
  }
  const length = ruler.effectiveLength === null ? `none (below ${ruler.threshold} already at ${formatLength(ruler.averages[0]!.length)})` : formatLength(ruler.effectiveLength);
  const partial = state.result ? '' : ' so far';
  return `Effective length${partial}: ${length}, the longest length up to which the average of ${ruler.tasks.length} RULER task${ruler.tasks.length === 1 ? '' : 's'} stays at or above ${ruler.threshold}.`;
}

export function resultsHtml(state: ProbesViewState): string {
  if (!state.plan) return '<p class="muted">Run "ProLong: Run Context Probes" or open saved results.</p>';
  const parts: string[] = [];
  parts.push(`<p class="summary" id="effective-summary">${escapeMarkup(effectiveSummary(state))}</p>`);
  const ruler = rulerSummary(state);
  const model = curveChartModel(ruler, references(state), state.result?.metadata.backend.model ?? 'This run', comparisonSummaries(state));
  parts.push(`<div class="chart-box">${curveChartSvg(model, 'ruler-curve')}</div>`);
  parts.push(scoreTableHtml(state, references(state)));
  for (const view of heatmapViews(state)) parts.push(heatmapHtml(view));
  if (state.skipped.length > 0) {
    parts.push(`<h3>Skipped</h3><ul>${state.skipped.map((s) => `<li>${escapeMarkup(taskTitle(s.task))} at ${formatLength(s.length)}: ${escapeMarkup(s.reason)}</li>`).join('')}</ul>`);
  }
  return parts.join('');
}

export function detailsHtml(state: ProbesViewState): string {
  const rows: [string, string][] = [];
  const meta = state.result?.metadata;
  if (meta) {
    rows.push(['model', meta.backend.model], ['backend', `${meta.backend.kind}: ${meta.backend.detail}`]);
    if (meta.backend.contextLength !== undefined) rows.push(['context length', `${formatTokens(meta.backend.contextLength)} tokens`]);
    rows.push(['tokenizer', meta.tokenizer], ['chat template', meta.chatTemplate], ['seed', meta.seed], ['samples', String(meta.samples)],
      ['tasks', meta.tasks.join(', ')], ['lengths', meta.lengths.map(formatLength).join(', ')], ['suite version', meta.suiteVersion],
      ['started', meta.startedAt], ['finished', `${meta.finishedAt}${meta.cancelled ? ' (cancelled: partial results)' : ''}`],
      ['text sources', meta.textSources.join('; ')], ['threshold', `${formatScore(state.threshold)} (saved results use this)`]);
  } else if (state.plan) {
    rows.push(['backend', state.backend ?? ''], ['seed', state.plan.seed], ['samples', String(state.plan.samples)], ['tasks', state.plan.tasks.join(', ')],
      ['lengths', state.plan.lengths.map(formatLength).join(', ')], ['metadata', 'complete when the run ends']);
  }
  if (state.file) rows.push(['file', state.file]);
  const list = rows.length === 0 ? '<p class="muted">No run yet.</p>'
    : `<dl class="metadata">${rows.map(([key, value]) => `<dt>${escapeMarkup(key)}</dt><dd>${escapeMarkup(value)}</dd>`).join('')}</dl>`;
  const refs = references(state).map((r) => `<li>${escapeMarkup(r.model)}: ${r.scores.map((s) => `${formatLength(s.length)} ${formatScore(s.score)}`).join(', ')} (${escapeMarkup(r.source)})</li>`).join('');
  return `${list}<h3>What differs from RULER</h3><ul>${DIFFERENCES_FROM_RULER.map((d) => `<li>${escapeMarkup(d)}</li>`).join('')}</ul>`
    + `<h3>Published reference curves</h3><ul>${refs}</ul>`;
}

/** The last part of a path, either separator. */
function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** Skipped instances count as done: say how many of the done ones were answered, so the Instances tab's count agrees. */
function skippedNote(state: { done: number; instances: readonly unknown[] }): string {
  const skipped = state.done - state.instances.length;
  return skipped > 0 ? `: ${state.instances.length.toLocaleString('en-US')} answered, ${skipped.toLocaleString('en-US')} skipped` : '';
}
