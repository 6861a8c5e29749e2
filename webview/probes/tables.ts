/**
 * The panel's tables as HTML markup, from the view state: task x length scores (with the score so far while a
 * cell runs), depth x length heatmaps (Fu et al.'s needle grid, the code haystack) and the finished instances.
 * Every cell says in words what its color shows (aria-label and visible number), so color is never the only cue.
 */
import { RULER_TASKS, type ProbeTaskName, type ReferenceCurve } from '../../engine/probes/types';
import type { ProbesViewState } from './protocol';
import { escapeMarkup, formatLength, formatMs, formatScore, formatTokens } from './markup';
import { comparisonSummaries, rulerSummary, scoreCell, tableTasks, type HeatmapView } from './state';

const TASK_TITLES: Record<ProbeTaskName, string> = {
  niah_single_1: 'NIAH single 1 (noise, number)', niah_single_2: 'NIAH single 2 (essay, number)', niah_single_3: 'NIAH single 3 (essay, UUID)',
  niah_multikey_1: 'NIAH multi-key 1', niah_multikey_2: 'NIAH multi-key 2', niah_multikey_3: 'NIAH multi-key 3 (UUIDs)',
  niah_multivalue: 'NIAH multi-value', niah_multiquery: 'NIAH multi-query', vt: 'Variable tracking', cwe: 'Common words',
  fwe: 'Frequent words', repo_qa_1: 'Repository QA 1', repo_qa_2: 'Repository QA 2 (two files)', json_kv: 'JSON key-value',
  needle_heatmap: 'Needle grid', code_needle: 'Code haystack needle',
};

export function taskTitle(task: ProbeTaskName): string {
  return TASK_TITLES[task] ?? task;
}

/** Color of a 0-100 score: red through amber to green (a hue), with the number always shown beside it. */
export function scoreHue(score: number): number {
  return Math.round(Math.min(100, Math.max(0, score)) * 1.2);
}

/** Task x length scores, then the RULER average and the published references at the same lengths. */
export function scoreTableHtml(state: ProbesViewState, references: readonly ReferenceCurve[]): string {
  const compared = comparisonSummaries(state);
  const lengths = [...(state.plan?.lengths ?? [])].sort((a, b) => a - b);
  const tasks = tableTasks(state);
  if (tasks.length === 0 || lengths.length === 0) return '';
  const samples = state.plan?.samples ?? 0;
  const header = `<tr><th scope="col">task</th>${lengths.map((l) => `<th scope="col">${formatLength(l)}</th>`).join('')}</tr>`;
  const rows = tasks.map((task) => {
    const cells = lengths.map((length) => {
      const cell = scoreCell(state, task, length);
      const where = `${taskTitle(task)} at ${formatLength(length)}`;
      if (cell.skipped && cell.score === undefined) {
        return `<td class="skipped" title="${escapeMarkup(cell.skipped)}" aria-label="${escapeMarkup(`${where}: skipped, ${cell.skipped}`)}">skipped</td>`;
      }
      if (cell.score === undefined) return `<td class="pending" aria-label="${escapeMarkup(`${where}: not run yet`)}">·</td>`;
      const label = cell.final ? `${where}: ${formatScore(cell.score)} over ${cell.samples} sample${cell.samples === 1 ? '' : 's'}`
        : `${where}: ${formatScore(cell.score)} so far, ${cell.samples} instance${cell.samples === 1 ? '' : 's'} finished`;
      const cls = cell.final ? 'score final' : 'score so-far';
      return `<td class="${cls}" style="--hue:${scoreHue(cell.score)}" aria-label="${escapeMarkup(label)}" title="${escapeMarkup(label)}">${formatScore(cell.score)}${cell.final ? '' : `<span class="count">${cell.samples}/${samples}</span>`}</td>`;
    }).join('');
    const ruler = (RULER_TASKS as readonly string[]).includes(task) ? '' : ' <span class="tag">not in RULER avg</span>';
    return `<tr><th scope="row" title="${escapeMarkup(task)}">${escapeMarkup(taskTitle(task))}${ruler}</th>${cells}</tr>`;
  });
  const summary = rulerSummary(state);
  const extra: string[] = [];
  if (summary.averages.length > 0) {
    extra.push(`<tr class="average"><th scope="row">RULER average (${summary.tasks.length} task${summary.tasks.length === 1 ? '' : 's'})</th>${lengths.map((length) => {
      const average = summary.averages.find((a) => a.length === length);
      return average ? `<td class="score final" style="--hue:${scoreHue(average.score)}">${formatScore(average.score)}</td>` : '<td class="pending">·</td>';
    }).join('')}</tr>`);
  }
  for (const comparison of compared) {
    extra.push(`<tr class="comparison"><th scope="row">${escapeMarkup(comparison.label)} (saved run, RULER average)</th>${lengths.map((length) => {
      const average = comparison.ruler.averages.find((a) => a.length === length);
      return average ? `<td>${formatScore(average.score)}</td>` : '<td class="pending" aria-label="not in that run">–</td>';
    }).join('')}</tr>`);
  }
  // a published curve that shares no length with this run would be a row of dashes: the chart still draws it
  for (const reference of references.filter((r) => r.scores.some((s) => lengths.includes(s.length)))) {
    extra.push(`<tr class="reference"><th scope="row" title="${escapeMarkup(reference.source)}">${escapeMarkup(reference.model)} (published, ${/13 tasks/.test(reference.source) ? '13-task' : 'RULER'} average)</th>${lengths.map((length) => {
      const point = reference.scores.find((s) => s.length === length);
      return point ? `<td>${formatScore(point.score)}</td>` : '<td class="pending" aria-label="not published">–</td>';
    }).join('')}</tr>`);
  }
  return `<table class="scores"><caption>Scores per task and length (0-100, mean over samples)</caption><thead>${header}</thead><tbody>${rows.join('')}${extra.join('')}</tbody></table>`;
}

/** A depth x length grid: rows are depths (0% = start of the context), columns lengths. */
export function heatmapHtml(view: HeatmapView): string {
  const title = view.task === 'needle_heatmap' ? 'Needle grid (Fu et al.): score by needle depth and length' : 'Needle in your own code: score by depth and length';
  const skippedLengths = view.lengths.filter((_, l) => view.skipped[l] !== undefined && view.depthPercents.every((__, d) => (view.cells[d]?.[l] ?? null) === null));
  // reasons in words under the grid (a cell's tooltip is easy to miss); a grid skipped at every length is only that
  const reasons = [...new Set(skippedLengths.map((length) => `${formatLength(length)}: ${view.skipped[view.lengths.indexOf(length)]}`))];
  const reasonList = `<ul class="skip-reasons">${reasons.map((reason) => `<li>skipped at ${escapeMarkup(reason)}</li>`).join('')}</ul>`;
  if (view.lengths.length > 0 && skippedLengths.length === view.lengths.length) {
    return `<div class="heatmap-skipped" data-task="${escapeMarkup(view.task)}"><p>${escapeMarkup(title.split(':')[0]!)}: not run.</p>${reasonList}</div>`;
  }
  const header = `<tr><th scope="col">depth</th>${view.lengths.map((l) => `<th scope="col">${formatLength(l)}</th>`).join('')}</tr>`;
  const rows = view.depthPercents.map((depth, d) => `<tr><th scope="row">${escapeMarkup(String(depth))}%</th>${view.lengths.map((length, l) => {
    const cell = view.cells[d]?.[l] ?? null;
    const where = `depth ${depth}%, ${formatLength(length)}`;
    const skipped = view.skipped[l];
    if (cell === null && skipped) return `<td class="skipped" title="${escapeMarkup(skipped)}" aria-label="${escapeMarkup(`${where}: skipped, ${skipped}`)}">–</td>`;
    if (cell === null) return `<td class="pending" aria-label="${escapeMarkup(`${where}: not run`)}">·</td>`;
    const label = `${where}: ${formatScore(cell.score)} (${cell.samples} sample${cell.samples === 1 ? '' : 's'})`;
    return `<td class="score final" style="--hue:${scoreHue(cell.score)}" aria-label="${escapeMarkup(label)}" title="${escapeMarkup(label)}">${escapeMarkup(String(Math.round(cell.score)))}</td>`;
  }).join('')}</tr>`).join('');
  return `<table class="heatmap" data-task="${escapeMarkup(view.task)}"><caption>${escapeMarkup(title)}</caption><thead>${header}</thead><tbody>${rows}</tbody></table>`
    + (reasons.length > 0 ? reasonList : '');
}

/** Which finished instances the Instances tab lists. */
export type InstanceFilter = 'all' | 'misses';

/** Finished instances, newest first (at most `limit`); 'misses' keeps those that scored below 100. */
export function instancesTableHtml(state: ProbesViewState, limit = 200, filter: InstanceFilter = 'all'): string {
  if (state.instances.length === 0) return '<p class="muted">No instance has finished yet.</p>';
  const shown = filter === 'misses' ? state.instances.filter((row) => row.score < 100) : state.instances;
  if (shown.length === 0) return `<p class="muted">All ${state.instances.length} finished instances scored 100.</p>`;
  const rows = shown.slice(-limit).reverse().map((row) => `<tr>`
    + `<td title="${escapeMarkup(row.id)}">${escapeMarkup(taskTitle(row.task))}</td><td>${formatLength(row.length)}</td>`
    + `<td>${row.depthPercent === undefined ? '' : `${escapeMarkup(String(row.depthPercent))}%`}</td>`
    + `<td class="score final" style="--hue:${scoreHue(row.score)}">${formatScore(row.score)}</td>`
    + `<td class="num">${formatTokens(row.promptTokens)}</td><td class="num">${formatMs(row.totalMs)}</td>`
    + `<td class="prediction">${escapeMarkup(row.answers.join(', '))}</td><td class="prediction">${escapeMarkup(row.prediction)}</td></tr>`).join('');
  const what = filter === 'misses' ? `${shown.length} of ${state.instances.length} finished instances scored below 100` : `${shown.length} finished instances`;
  const more = shown.length > limit ? `<p class="muted">Showing the latest ${limit}; saved results hold all.</p>` : '';
  return `<table class="instances"><caption>${what}, newest first</caption><thead><tr><th scope="col">task</th><th scope="col">length</th>`
    + `<th scope="col">depth</th><th scope="col">score</th><th scope="col">prompt tokens</th><th scope="col">time</th><th scope="col">expected</th><th scope="col">answer</th></tr></thead>`
    + `<tbody>${rows}</tbody></table>${more}`;
}
