/**
 * The Probes panel's messages, imported by both sides (extension/probes and webview/probes) so they cannot drift
 * apart. The extension owns the run; it applies every change to its own ProbesViewState with `reduce` (state.ts)
 * and sends the same change to the webview, which applies it to its copy. A freshly loaded webview gets the
 * whole state once.
 */
import type { ProbeEvent, ProbeRunResult, ProbeTaskName, SkippedTask, TaskLengthScore } from '../../engine/probes/types';

/** A saved run drawn beside the current one (its RULER average in the chart and the table). */
export interface Comparison {
  /** "model · date" */
  label: string;
  file: string;
  /** Its task x length scores: its RULER average is recomputed at the panel's threshold. */
  scores: TaskLengthScore[];
}

/** What a run was asked to do (after the quick picks). */
export interface RunPlan {
  tasks: ProbeTaskName[];
  lengths: number[];
  samples: number;
  seed: string;
  /** Requested depths of the depth-sweep tasks in the plan (needle_heatmap, code_needle). */
  depthPercents: Partial<Record<HeatmapTask, number[]>>;
}

export type HeatmapTask = 'needle_heatmap' | 'code_needle';

/** A finished instance, as the panel lists it (the prediction is cut to a readable length). */
export interface InstanceRow {
  id: string;
  task: ProbeTaskName;
  length: number;
  depthPercent?: number;
  score: number;
  prediction: string;
  /** What the metric looked for (cut like the prediction). */
  answers: string[];
  promptTokens: number;
  totalMs: number;
  timeToFirstTokenMs?: number;
}

/** The instance the backend is answering now. */
export interface CurrentInstance {
  id: string;
  task: ProbeTaskName;
  length: number;
  depthPercent?: number;
  promptTokens: number;
  prefillDone?: number;
  prefillTotal?: number;
}

export type Phase =
  /** Nothing yet (a panel opened before its first run). */
  | 'idle'
  /** Packing the workspace, loading the tokenizer, starting the worker. */
  | 'preparing'
  | 'running'
  /** Cancel pressed; waiting for the backend and the worker to stop. */
  | 'cancelling'
  | 'done'
  | 'cancelled'
  | 'failed'
  /** Showing results read from a file. */
  | 'loaded';

export interface ProbesViewState {
  phase: Phase;
  plan?: RunPlan;
  /** One line on the backend: "remote · model (detail)". */
  backend?: string;
  /** Things the user should know about the plan (lengths left out for the backend's context...). */
  notes: string[];
  /** What is being prepared, while phase is 'preparing'. */
  preparing?: string;
  total: number;
  done: number;
  current?: CurrentInstance;
  instances: InstanceRow[];
  scores: TaskLengthScore[];
  skipped: SkippedTask[];
  warnings: string[];
  /** Why the run failed (phase 'failed'). */
  error?: string;
  /** RULER threshold for the effective length (the prolong.probes.threshold setting, changeable in the panel). */
  threshold: number;
  /** The finished run's (or loaded file's) results. */
  result?: ProbeRunResult;
  /** The file the results were read from or last saved to. */
  file?: string;
  /** Set when loaded results came from another version of the probe generators. */
  otherSuiteVersion?: boolean;
  /** Saved runs to compare with; kept across runs until cleared. */
  comparisons: Comparison[];
}

/** Every change to the view state. */
export type PanelAction =
  | { type: 'run-started'; plan: RunPlan; backend: string; notes: string[]; threshold: number }
  | { type: 'preparing'; message: string }
  | { type: 'probe'; event: ProbeEvent }
  | { type: 'cancelling' }
  | { type: 'finished'; result: ProbeRunResult }
  | { type: 'failed'; error: string }
  /** Cancelled before the run returned anything (while packing, or the worker had to be stopped). */
  | { type: 'cancelled' }
  | { type: 'loaded'; result: ProbeRunResult; file: string; otherSuiteVersion: boolean; threshold: number }
  | { type: 'saved'; file: string }
  | { type: 'compare'; comparison: Comparison }
  | { type: 'clear-comparisons' }
  | { type: 'threshold'; threshold: number };

export type ToWebview =
  | { type: 'state'; state: ProbesViewState }
  | { type: 'action'; action: PanelAction };

export type ToExtension =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'save' }
  | { type: 'open' }
  /** Draw a saved run's RULER average beside this one. */
  | { type: 'compare' }
  | { type: 'clearComparisons' }
  /** Copy the results as the CLI's plain-text tables (for an issue or a chat). */
  | { type: 'copySummary' }
  /** Start a new run with the same plan. */
  | { type: 'runAgain' }
  /** Start a new run, choosing again. */
  | { type: 'newRun' }
  | { type: 'setThreshold'; threshold: number };

/** What the webview keeps with getState/setState while hidden: the tab it showed. */
export interface ProbesWebviewState {
  tab?: string;
  /** The Instances tab's filter. */
  misses?: boolean;
}

/** Whether a message from the webview is one of ToExtension, fields and all (the extension drops anything else). */
export function isProbesToExtension(value: unknown): value is ToExtension {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready': case 'cancel': case 'save': case 'open': case 'compare': case 'clearComparisons':
    case 'copySummary': case 'runAgain': case 'newRun':
      return true;
    case 'setThreshold':
      return typeof message.threshold === 'number' && Number.isFinite(message.threshold);
    default:
      return false;
  }
}
