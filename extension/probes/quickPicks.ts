/**
 * The quick picks of "ProLong: Run Context Probes": task group (or a custom multi-select), lengths (capped at the
 * backend's context, with a note), samples and seed. Arguments given to the command skip their step; the last
 * choices are remembered per workspace.
 */
import * as vscode from 'vscode';
import { formatLength } from '../../engine/probes/report';
import { createTask } from '../../engine/probes/tasks/index';
import { ALL_TASKS, type ProbeTaskName } from '../../engine/probes/types';
import type { RunPlan } from '../../webview/probes/protocol';
import { estimateMs, formatEstimate } from './history';
import {
  DEFAULT_LENGTHS, DEFAULT_SAMPLES, DEFAULT_SEED, LENGTH_CHOICES, SAMPLE_CHOICES, TASK_GROUPS, capLengths, instanceCount, makePlan, tasksOfGroup,
  type TaskGroup,
} from './runConfig';

const MEMORY_KEY = 'prolong.probes.lastChoices';

interface Remembered {
  tasks?: ProbeTaskName[];
  lengths?: number[];
  samples?: number;
  seed?: string;
}

const STEPS = 4;
let runsOn = '';
const title = (step: number, what: string) => `ProLong: Run Context Probes (${step}/${STEPS}): ${what}${runsOn}`;

export async function chooseRunPlan(
  args: { tasks?: ProbeTaskName[]; lengths?: number[]; samples?: number; seed?: string },
  /** Longest prompt + answer the backend takes, when known before the run. */
  contextLength: number | undefined,
  memory: vscode.Memento,
  /** The backend that will run the probes, named in each step's title. */
  backendText?: string,
  /** The backend's measured speed (from its last kept run), for time estimates in the samples step. */
  msPerToken?: number,
): Promise<{ plan: RunPlan; notes: string[] } | undefined> {
  runsOn = backendText ? ` · on ${backendText}` : '';
  const last = memory.get<Remembered>(MEMORY_KEY) ?? {};
  const notes: string[] = [];

  const tasks = args.tasks ?? await pickTasks(last.tasks);
  if (!tasks) return undefined;

  let lengths: number[] | undefined;
  if (args.lengths) {
    const capped = capLengths(args.lengths, contextLength);
    if (capped.note) notes.push(capped.note);
    lengths = capped.lengths;
  } else {
    lengths = await pickLengths(contextLength, last.lengths, notes);
  }
  if (!lengths) return undefined;
  if (lengths.length === 0) {
    void vscode.window.showErrorMessage(`ProLong: no probe length fits the backend's context (${contextLength?.toLocaleString('en-US')} tokens).`);
    return undefined;
  }

  const samples = args.samples ?? await pickSamples(tasks, lengths, last.samples, msPerToken);
  if (samples === undefined) return undefined;

  const seed = args.seed ?? await vscode.window.showInputBox({
    title: title(4, 'seed'), value: last.seed ?? DEFAULT_SEED, ignoreFocusOut: true,
    prompt: 'The same seed, tasks and lengths build the same prompts (compare models or servers on identical instances)',
    validateInput: (value) => (value.trim() ? undefined : 'Give a seed (any text)'),
  });
  if (seed === undefined) return undefined;

  await memory.update(MEMORY_KEY, { tasks, lengths, samples, seed: seed.trim() } satisfies Remembered);
  return { plan: makePlan(tasks, lengths, samples, seed.trim()), notes };
}

async function pickTasks(last: ProbeTaskName[] | undefined): Promise<ProbeTaskName[] | undefined> {
  type GroupItem = vscode.QuickPickItem & { group: TaskGroup };
  const items: GroupItem[] = TASK_GROUPS.map((group) => ({
    label: group.label, detail: group.detail, group: group.id,
    description: group.id === 'custom' ? (last ? `last: ${last.length} task${last.length === 1 ? '' : 's'}` : undefined) : `${tasksOfGroup(group.id).length} tasks`,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: title(1, 'tasks'), placeHolder: 'Which probes to run', ignoreFocusOut: true, matchOnDetail: true });
  if (!picked) return undefined;
  if (picked.group !== 'custom') return tasksOfGroup(picked.group);
  type TaskItem = vscode.QuickPickItem & { task: ProbeTaskName };
  const taskItems: TaskItem[] = ALL_TASKS.map((task) => ({ label: task, detail: createTask(task).description, picked: last?.includes(task) ?? false, task }));
  const chosen = await vscode.window.showQuickPick(taskItems, { title: title(1, 'tasks'), placeHolder: 'Tick the tasks to run', canPickMany: true, ignoreFocusOut: true, matchOnDetail: true });
  if (!chosen || chosen.length === 0) return undefined;
  return chosen.map((item) => item.task);
}

async function pickLengths(contextLength: number | undefined, last: number[] | undefined, notes: string[]): Promise<number[] | undefined> {
  const capped = capLengths(LENGTH_CHOICES, contextLength);
  if (capped.note) notes.push(capped.note);
  const wanted = last ?? DEFAULT_LENGTHS;
  type LengthItem = vscode.QuickPickItem & { length: number };
  const items: LengthItem[] = capped.lengths.map((length) => ({
    label: formatLength(length), description: `${length.toLocaleString('en-US')} tokens${DEFAULT_LENGTHS.includes(length) ? ' · RULER' : ''}`,
    picked: wanted.includes(length), length,
  }));
  // The note on left-out lengths goes in the title: a placeholder is cut short, and gone once the user types.
  const placeHolder = contextLength ? `The backend's context is ${contextLength.toLocaleString('en-US')} tokens` : 'Prompt + answer length per instance';
  const chosen = await vscode.window.showQuickPick(items, {
    title: capped.note ? `${title(2, 'lengths')} · ${capped.note}` : title(2, 'lengths'), placeHolder, canPickMany: true, ignoreFocusOut: true,
  });
  if (!chosen || chosen.length === 0) return undefined;
  return chosen.map((item) => item.length);
}

/** Every prompt's length in a plan (one per instance, a depth sweep one per depth). */
function promptLengths(tasks: ProbeTaskName[], lengths: number[], samples: number): number[] {
  const out: number[] = [];
  for (const length of lengths) {
    const perLength = instanceCount(tasks, [length], samples);
    for (let i = 0; i < perLength; i++) out.push(length);
  }
  return out;
}

async function pickSamples(tasks: ProbeTaskName[], lengths: number[], last: number | undefined, msPerToken?: number): Promise<number | undefined> {
  type SampleItem = vscode.QuickPickItem & { samples: number };
  const current = last ?? DEFAULT_SAMPLES;
  const items: SampleItem[] = SAMPLE_CHOICES.map((samples) => ({
    label: String(samples), samples,
    // "last used" only when there was a last run; the first time, the default says so
    description: `${instanceCount(tasks, lengths, samples).toLocaleString('en-US')} prompts${samples === current ? (last === undefined ? ' · default' : ' · last used') : ''}`,
    // a time estimate from this backend's measured speed (its last kept run), when there is one
    detail: msPerToken === undefined ? undefined
      : `${formatEstimate(estimateMs(promptLengths(tasks, lengths, samples), msPerToken))} at this backend's measured speed`,
  }));
  items.sort((a, b) => (a.samples === current ? -1 : b.samples === current ? 1 : 0));
  const chosen = await vscode.window.showQuickPick(items, {
    title: title(3, 'samples per task and length'), ignoreFocusOut: true,
    placeHolder: `Longest prompt ${formatLength(Math.max(...lengths))}; more samples: steadier scores, longer runs`,
  });
  return chosen?.samples;
}
