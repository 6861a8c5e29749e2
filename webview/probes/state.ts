/**
 * The Probes panel's state: one pure reducer that both the extension and the webview apply to every PanelAction,
 * and the views derived from it (score table cells with the score so far, RULER averages, heatmap grids).
 */
import { rulerEffectiveLength } from '../../engine/probes/effectiveLength';
import type { EffectiveLength, InstanceResult, ProbeRunResult, ProbeTaskName } from '../../engine/probes/types';
import type { CurrentInstance, HeatmapTask, InstanceRow, PanelAction, ProbesViewState } from './protocol';

/** Predictions longer than this are cut in the panel (the saved JSON keeps them whole). */
export const PREDICTION_CHARS = 300;
/** Warnings kept for the panel (a broken server can warn on every instance). */
export const MAX_WARNINGS = 50;
export const HEATMAP_TASKS: readonly HeatmapTask[] = ['needle_heatmap', 'code_needle'];

export function initialState(threshold: number): ProbesViewState {
  return { phase: 'idle', notes: [], total: 0, done: 0, instances: [], scores: [], skipped: [], warnings: [], threshold, comparisons: [] };
}

/** How many saved runs the chart compares at most (more lines stop being readable). */
export const MAX_COMPARISONS = 4;

function cut(text: string): string {
  return text.length > PREDICTION_CHARS ? `${text.slice(0, PREDICTION_CHARS)}…` : text;
}

export function instanceRow(result: InstanceResult): InstanceRow {
  const prediction = cut(result.prediction);
  return {
    id: result.id, task: result.task, length: result.length,
    ...(result.depthPercent === undefined ? {} : { depthPercent: result.depthPercent }),
    score: result.score, prediction, answers: result.answers.slice(0, 20).map(cut), promptTokens: result.promptTokens, totalMs: result.totalMs,
    ...(result.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: result.timeToFirstTokenMs }),
  };
}

function withWarning(warnings: string[], message: string): string[] {
  if (warnings.length >= MAX_WARNINGS) return warnings;
  const next = [...warnings, message];
  if (next.length === MAX_WARNINGS) next.push(`(only the first ${MAX_WARNINGS} warnings are listed)`);
  return next;
}

/** Applies one change. Never mutates `state`. */
export function reduce(state: ProbesViewState, action: PanelAction): ProbesViewState {
  switch (action.type) {
    case 'run-started':
      return { ...initialState(action.threshold), phase: 'preparing', plan: action.plan, backend: action.backend, notes: action.notes, comparisons: state.comparisons };
    case 'preparing':
      return { ...state, preparing: action.message };
    case 'cancelling':
      return state.phase === 'running' || state.phase === 'preparing' ? { ...state, phase: 'cancelling' } : state;
    case 'finished': {
      const result = action.result;
      const partial = result.metadata.cancelled || result.metadata.error !== undefined;
      return {
        ...state, phase: result.metadata.error !== undefined ? 'failed' : result.metadata.cancelled ? 'cancelled' : 'done',
        // A run the backend stopped keeps its finished instances: the error says so, the tables show them.
        error: result.metadata.error !== undefined ? `${result.metadata.error} (partial results: ${result.instances.length} finished instances are shown below)` : state.error,
        current: undefined, preparing: undefined, result,
        // The runner counts a skipped group's instances as done without an event: a finished run is complete.
        done: partial ? state.done : state.total,
        instances: result.instances.map(instanceRow), scores: result.scores, skipped: result.skipped,
      };
    }
    case 'cancelled':
      return { ...state, phase: 'cancelled', current: undefined, preparing: undefined };
    case 'failed':
      return { ...state, phase: 'failed', current: undefined, preparing: undefined, error: action.error };
    case 'loaded': {
      const { result } = action;
      return {
        ...initialState(action.threshold), phase: 'loaded', result, file: action.file, otherSuiteVersion: action.otherSuiteVersion, comparisons: state.comparisons,
        backend: `${result.metadata.backend.kind} · ${result.metadata.backend.model}`,
        total: result.instances.length, done: result.instances.length,
        instances: result.instances.map(instanceRow), scores: result.scores, skipped: result.skipped,
        plan: { tasks: result.metadata.tasks, lengths: result.metadata.lengths, samples: result.metadata.samples, seed: result.metadata.seed, depthPercents: depthsOf(result) },
      };
    }
    case 'saved':
      return { ...state, file: action.file };
    case 'threshold':
      return { ...state, threshold: action.threshold };
    case 'compare': {
      const others = state.comparisons.filter((c) => c.file !== action.comparison.file);
      return { ...state, comparisons: [...others, action.comparison].slice(-MAX_COMPARISONS) };
    }
    case 'clear-comparisons':
      return { ...state, comparisons: [] };
    case 'probe':
      return reduceProbeEvent(state, action.event);
  }
}

function depthsOf(result: ProbeRunResult): Partial<Record<HeatmapTask, number[]>> {
  const depths: Partial<Record<HeatmapTask, number[]>> = {};
  for (const grid of result.heatmaps) depths[grid.task] = grid.depthPercents;
  return depths;
}

function reduceProbeEvent(state: ProbesViewState, event: Extract<PanelAction, { type: 'probe' }>['event']): ProbesViewState {
  switch (event.type) {
    case 'planned':
      return { ...state, phase: state.phase === 'cancelling' ? 'cancelling' : 'running', preparing: undefined, total: event.totalInstances, done: 0 };
    case 'instance-started': {
      const depth = depthOfId(event.id, event.task);
      const current: CurrentInstance = {
        id: event.id, task: event.task, length: event.length, promptTokens: event.promptTokens, ...(depth === undefined ? {} : { depthPercent: depth }),
      };
      return { ...state, current, done: event.done, total: event.total };
    }
    case 'prefill':
      if (!state.current || state.current.id !== event.id) return state;
      return { ...state, current: { ...state.current, prefillDone: event.doneTokens, prefillTotal: event.totalTokens } };
    case 'instance-finished':
      return {
        ...state, done: event.done, total: event.total, instances: [...state.instances, instanceRow(event.result)],
        current: state.current?.id === event.result.id ? undefined : state.current,
      };
    case 'task-length-scored':
      return { ...state, scores: [...state.scores, event.score] };
    case 'skipped': {
      // a skip can end the instance in flight (the backend refused its prompt as too long): it runs no more
      const ended = state.current?.task === event.skipped.task && state.current.length === event.skipped.length;
      return {
        ...state, skipped: [...state.skipped, event.skipped], current: ended ? undefined : state.current,
        ...(event.done === undefined ? {} : { done: event.done }), ...(event.total === undefined ? {} : { total: event.total }),
      };
    }
    case 'warning':
      return { ...state, warnings: withWarning(state.warnings, event.message) };
  }
}

/** Depth sweep ids end in the depth: "needle_heatmap/32768/0/40". */
function depthOfId(id: string, task: ProbeTaskName): number | undefined {
  if (!(HEATMAP_TASKS as readonly string[]).includes(task)) return undefined;
  const last = Number(id.slice(id.lastIndexOf('/') + 1));
  return Number.isFinite(last) ? last : undefined;
}

export function isActive(state: ProbesViewState): boolean {
  return state.phase === 'preparing' || state.phase === 'running' || state.phase === 'cancelling';
}

/** One cell of the task x length table. */
export interface ScoreCell {
  /** Mean score 0-100; undefined when nothing finished there. */
  score?: number;
  /** Instances finished there. */
  samples: number;
  /** True once the runner scored the whole cell (otherwise the score is the mean so far). */
  final: boolean;
  /** Why the cell was skipped. */
  skipped?: string;
}

export function mean(values: readonly number[]): number {
  return Math.round((values.reduce((sum, value) => sum + value, 0) / values.length) * 100) / 100;
}

/** Tasks shown in the score table: every task of the plan but the depth sweeps (they get heatmaps). */
export function tableTasks(state: ProbesViewState): ProbeTaskName[] {
  return (state.plan?.tasks ?? []).filter((task) => !(HEATMAP_TASKS as readonly string[]).includes(task));
}

export function scoreCell(state: ProbesViewState, task: ProbeTaskName, length: number): ScoreCell {
  const final = state.scores.find((score) => score.task === task && score.length === length);
  if (final) return { score: final.score, samples: final.samples, final: true };
  const skipped = state.skipped.find((entry) => entry.task === task && entry.length === length);
  const rows = state.instances.filter((row) => row.task === task && row.length === length);
  return {
    ...(rows.length > 0 ? { score: mean(rows.map((row) => row.score)) } : {}),
    samples: rows.length, final: false, ...(skipped ? { skipped: skipped.reason } : {}),
  };
}

/** RULER's average per length and the effective length at the panel's threshold (recomputed when it changes). */
export function rulerSummary(state: ProbesViewState): EffectiveLength {
  return rulerEffectiveLength(state.result?.scores ?? state.scores, state.threshold);
}

/** Each compared run's RULER average at the panel's threshold. */
export function comparisonSummaries(state: ProbesViewState): { label: string; ruler: EffectiveLength }[] {
  return state.comparisons.map((c) => ({ label: c.label, ruler: rulerEffectiveLength(c.scores, state.threshold) }));
}

/** A depth x length grid, live from the finished instances (or the loaded results' grid). */
export interface HeatmapView {
  task: HeatmapTask;
  lengths: number[];
  depthPercents: number[];
  /** cells[depthIndex][lengthIndex]: mean score and instances, or null where nothing finished. */
  cells: ({ score: number; samples: number } | null)[][];
  /** Why a length was skipped for this task (per length index), if it was. */
  skipped: (string | undefined)[];
}

export function heatmapViews(state: ProbesViewState): HeatmapView[] {
  const views: HeatmapView[] = [];
  const lengths = [...(state.plan?.lengths ?? [])].sort((a, b) => a - b);
  for (const task of HEATMAP_TASKS) {
    if (!state.plan?.tasks.includes(task)) continue;
    const depthPercents = state.plan.depthPercents[task] ?? [];
    const saved = state.result?.heatmaps.find((grid) => grid.task === task);
    const cells = depthPercents.map((depth) => lengths.map((length) => {
      const rows = state.instances.filter((row) => row.task === task && row.length === length && row.depthPercent === depth);
      if (rows.length > 0) return { score: mean(rows.map((row) => row.score)), samples: rows.length };
      // Loaded files may list heatmaps without instances (trimmed by hand): fall back to the saved grid.
      const l = saved?.lengths.indexOf(length) ?? -1;
      const d2 = saved?.depthPercents.indexOf(depth) ?? -1;
      const score = l >= 0 && d2 >= 0 ? saved!.scores[d2]?.[l] ?? null : null;
      return score === null ? null : { score, samples: state.result?.metadata.samples ?? 0 };
    }));
    const skipped = lengths.map((length) => state.skipped.find((entry) => entry.task === task && entry.length === length)?.reason);
    views.push({ task, lengths, depthPercents, cells, skipped });
  }
  return views;
}
