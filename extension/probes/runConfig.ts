/**
 * What a probe run is asked to do, as pure functions the quick picks and the command's arguments share: task
 * groups, the length choices capped at the backend's context, the number of instances a plan makes, the plan
 * from command arguments (keybindings, tests), and the equivalent `prolong probe` command line.
 */
import { UserError } from '../../engine/errors';
import { formatLength } from '../../engine/probes/report';
import { createTask, parseTaskList } from '../../engine/probes/tasks/index';
import { ALL_TASKS, type ProbeTaskName } from '../../engine/probes/types';
import type { HeatmapTask, RunPlan } from '../../webview/probes/protocol';

export const TASK_GROUPS = [
  { id: 'all', label: 'All tasks', detail: 'RULER\'s 13, JSON KV, the needle grid and the code haystack' },
  { id: 'ruler', label: 'RULER', detail: 'NIAH x8, variable tracking, common and frequent words, repository QA x2: the effective length' },
  { id: 'niah', label: 'NIAH', detail: 'RULER\'s eight needle-in-a-haystack tasks' },
  { id: 'recall', label: 'Recall', detail: 'JSON KV and the multi-key/multi-value needles (HELMET-style recall)' },
  { id: 'custom', label: 'Custom…', detail: 'Pick tasks one by one' },
] as const;
export type TaskGroup = (typeof TASK_GROUPS)[number]['id'];

const K = 1024;
export const LENGTH_CHOICES: readonly number[] = [4 * K, 8 * K, 16 * K, 32 * K, 64 * K, 128 * K, 256 * K, 512 * K];
/** RULER's lengths: picked by default. */
export const DEFAULT_LENGTHS: readonly number[] = [4 * K, 8 * K, 16 * K, 32 * K, 64 * K, 128 * K];
export const SAMPLE_CHOICES: readonly number[] = [1, 3, 5, 10, 25];
export const DEFAULT_SAMPLES = 5;
export const DEFAULT_SEED = '42';
/** Tasks that read the workspace's packed files. */
export const REPOSITORY_TASKS: readonly ProbeTaskName[] = ['repo_qa_1', 'repo_qa_2', 'code_needle'];

export function tasksOfGroup(group: Exclude<TaskGroup, 'custom'>): ProbeTaskName[] {
  return parseTaskList(group);
}

/** Lengths that fit the backend's context, and a note naming those left out. */
export function capLengths(lengths: readonly number[], contextLength: number | undefined): { lengths: number[]; note?: string } {
  const sorted = [...new Set(lengths)].sort((a, b) => a - b);
  if (contextLength === undefined) return { lengths: sorted };
  const kept = sorted.filter((length) => length <= contextLength);
  const dropped = sorted.filter((length) => length > contextLength);
  if (dropped.length === 0) return { lengths: kept };
  return {
    lengths: kept,
    note: `${dropped.map(formatLength).join(', ')} left out: the backend's context is ${contextLength.toLocaleString('en-US')} tokens.`,
  };
}

/** Depths each depth-sweep task of the plan runs at. */
export function depthPercentsOf(tasks: readonly ProbeTaskName[]): Partial<Record<HeatmapTask, number[]>> {
  const depths: Partial<Record<HeatmapTask, number[]>> = {};
  for (const task of ['needle_heatmap', 'code_needle'] as const) if (tasks.includes(task)) depths[task] = createTask(task).depthPercents ?? [];
  return depths;
}

/** How many prompts a plan sends (depth sweeps send one per depth). */
export function instanceCount(tasks: readonly ProbeTaskName[], lengths: readonly number[], samples: number): number {
  const perLength = tasks.reduce((sum, task) => sum + (createTask(task).depthPercents?.length ?? 1), 0);
  return perLength * lengths.length * samples;
}

export function makePlan(tasks: ProbeTaskName[], lengths: readonly number[], samples: number, seed: string): RunPlan {
  return { tasks, lengths: [...new Set(lengths)].sort((a, b) => a - b), samples, seed, depthPercents: depthPercentsOf(tasks) };
}

/** "4k", "32K", 4096 -> tokens; a UserError naming the bad value. */
export function parseLength(value: string | number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const match = /^(\d+)\s*([kKmM]?)$/.exec(String(value).trim());
  if (!match) throw new UserError(`'${value}' is not a context length.`, 'Write lengths as token counts such as 4096, 32k or 1m.');
  const unit = match[2]!.toLowerCase();
  const tokens = Number(match[1]) * (unit === 'k' ? K : unit === 'm' ? K * K : 1);
  if (tokens <= 0) throw new UserError(`'${value}' is not a context length.`, 'Lengths must be positive.');
  return tokens;
}

/** Arguments of the prolong.runProbes command (all optional; given ones skip their quick pick). */
export interface RunProbesArgs {
  tasks?: string | string[];
  lengths?: (string | number)[];
  samples?: number;
  seed?: string;
}

/** Reads the command's arguments; fields left out stay undefined (asked for with quick picks). */
export function readRunArgs(value: unknown): { tasks?: ProbeTaskName[]; lengths?: number[]; samples?: number; seed?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new UserError('prolong.runProbes takes an object such as { "tasks": "ruler", "lengths": ["4k", "32k"] }.');
  const args = value as Record<string, unknown>;
  const out: { tasks?: ProbeTaskName[]; lengths?: number[]; samples?: number; seed?: string } = {};
  if (args.tasks !== undefined) {
    const list = Array.isArray(args.tasks) ? args.tasks.map(String).join(',') : String(args.tasks);
    out.tasks = parseTaskList(list);
  }
  if (args.lengths !== undefined) {
    if (!Array.isArray(args.lengths) || args.lengths.length === 0) throw new UserError('prolong.runProbes: "lengths" must be a non-empty list such as ["4k", "32k"].');
    out.lengths = args.lengths.map((length) => parseLength(length as string | number));
  }
  if (args.samples !== undefined) {
    if (typeof args.samples !== 'number' || !Number.isInteger(args.samples) || args.samples < 1) throw new UserError('prolong.runProbes: "samples" must be a whole number of at least 1.');
    out.samples = args.samples;
  }
  if (args.seed !== undefined) out.seed = String(args.seed);
  return out;
}

/** The plan as a `prolong probe` command line (no backend flags: those depend on the machine), for reproducing it. */
export function equivalentCommand(plan: RunPlan): string {
  const all = plan.tasks.length === ALL_TASKS.length ? 'all' : plan.tasks.join(',');
  const seed = /^[\w.-]+$/.test(plan.seed) ? plan.seed : `'${plan.seed.replaceAll("'", "'\\''")}'`;
  return `prolong probe --tasks ${all} --lengths ${plan.lengths.map((l) => formatLength(l).toLowerCase()).join(',')} --samples ${plan.samples} --seed ${seed}`;
}
