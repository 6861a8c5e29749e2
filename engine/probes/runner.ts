/**
 * Runs probe tasks on any Backend: builds each instance (seeded), asks for a greedy answer within the task's
 * output budget, scores it, and reports events as it goes. Cancelling returns what was finished so far.
 */
import type { Backend, BackendInfo, GenerateResult } from '../backends/types';
import { CancelledError, errorMessage } from '../errors';
import { ContextTooLongError } from '../backends/remote/problems';
import { rulerEffectiveLength, REFERENCE_CURVES, RULER_THRESHOLD } from './effectiveLength';
import type { PromptCounter } from './promptCounter';
import { meanScore, scoreAnswer } from './scoring';
import { SkipInstance, type RepositoryFile, type TaskContext } from './tasks/common';
import { createTask } from './tasks/index';
import { ESSAY_SOURCE } from './haystacks';
import { formatLength } from './report';
import type {
  HeatmapGrid, InstanceResult, ProbeEvent, ProbeInstance, ProbeRunResult, ProbeTaskName, SkippedTask, TaskLengthScore,
} from './types';

/** Bump when generated instances change for the same seed. */
export const SUITE_VERSION = 'prolong-probes/1';

export interface ProbePlan {
  tasks: ProbeTaskName[];
  lengths: number[];
  samples: number;
  seed: string;
  repository?: readonly RepositoryFile[];
  repositoryName?: string;
}

export interface ProbeRunOptions extends ProbePlan {
  backend: Backend;
  counter: PromptCounter;
  threshold?: number;
  onEvent?: (event: ProbeEvent) => void;
  signal?: AbortSignal;
}

interface Group { task: ProbeTaskName; length: number; specs: { index: number; depthPercent?: number }[] }

function groups(plan: ProbePlan): Group[] {
  const out: Group[] = [];
  for (const length of [...plan.lengths].sort((a, b) => a - b)) {
    for (const name of plan.tasks) {
      const depths = createTask(name).depthPercents;
      const specs: Group['specs'] = [];
      for (let index = 0; index < plan.samples; index++) {
        if (depths) for (const depthPercent of depths) specs.push({ index, depthPercent });
        else specs.push({ index });
      }
      out.push({ task: name, length, specs });
    }
  }
  return out;
}

/** Every instance of a plan, built eagerly (for dry runs and tests; runs build them one at a time). */
export function buildInstances(plan: ProbePlan, counter: PromptCounter): { instances: ProbeInstance[]; skipped: SkippedTask[] } {
  const context: TaskContext = { counter, repository: plan.repository, repositoryName: plan.repositoryName };
  const instances: ProbeInstance[] = [];
  const skipped: SkippedTask[] = [];
  for (const group of groups(plan)) {
    const task = createTask(group.task);
    for (const spec of group.specs) {
      try {
        instances.push(task.build(context, { seed: plan.seed, length: group.length, ...spec }));
      } catch (error) {
        if (!(error instanceof SkipInstance)) throw error;
        skipped.push({ task: group.task, length: group.length, reason: error.message });
        break;
      }
    }
  }
  return { instances, skipped };
}

/** Text sources of the tasks, for the results' metadata. */
export function textSources(tasks: readonly ProbeTaskName[]): string[] {
  const sources = new Set<string>();
  for (const name of tasks) for (const source of createTask(name).sources) sources.add(source);
  if (tasks.some((task) => task.startsWith('niah_') || task === 'vt')) sources.add('RULER noise sentences and generated keys/values');
  return [...sources].sort((a, b) => (a === ESSAY_SOURCE ? -1 : b === ESSAY_SOURCE ? 1 : a.localeCompare(b)));
}

export function heatmapsOf(instances: readonly InstanceResult[], tasks: readonly ProbeTaskName[], lengths: readonly number[]): HeatmapGrid[] {
  const grids: HeatmapGrid[] = [];
  for (const name of ['needle_heatmap', 'code_needle'] as const) {
    if (!tasks.includes(name)) continue;
    const depthPercents = createTask(name).depthPercents ?? [];
    const sorted = [...lengths].sort((a, b) => a - b);
    const scores = depthPercents.map((depth) => sorted.map((length) => {
      const cell = instances.filter((r) => r.task === name && r.length === length && r.depthPercent === depth);
      return cell.length === 0 ? null : meanScore(cell.map((r) => r.score));
    }));
    grids.push({ task: name, lengths: sorted, depthPercents, scores });
  }
  return grids;
}

/** The skip for an instance the backend refused as too long, with both counts and what to do. */
function overflowSkip(instance: ProbeInstance, error: ContextTooLongError): SkippedTask {
  const n = (tokens: number) => tokens.toLocaleString('en-US');
  const over = error.promptTokens + error.maxNewTokens - error.contextLength;
  return {
    task: instance.task, length: instance.length,
    reason: `the backend counts the prompt of ${instance.id} as ${n(error.promptTokens)} tokens where the probe counted ${n(instance.promptTokens)}; `
      + `with ${n(error.maxNewTokens)} answer tokens that is ${n(over)} more than `
      + `the backend's context of ${n(error.contextLength)} tokens. Give the model's own tokenizer.json (--tokenizer, or the setting prolong.tokenizer.path) `
      + `so prompts are sized as the backend counts them, or leave ${formatLength(instance.length)} out of the lengths (--lengths).`,
    overflow: {
      id: instance.id, promptTokens: instance.promptTokens, backendPromptTokens: error.promptTokens,
      maxTokens: error.maxNewTokens, contextLength: error.contextLength,
    },
  };
}

export async function runProbes(options: ProbeRunOptions): Promise<ProbeRunResult> {
  const { backend, counter, signal } = options;
  const emit = (event: ProbeEvent) => options.onEvent?.(event);
  const startedAt = new Date().toISOString();
  const info: BackendInfo = await backend.info(signal);
  const context: TaskContext = { counter, repository: options.repository, repositoryName: options.repositoryName };
  const plan = groups(options);
  const total = plan.reduce((sum, group) => sum + group.specs.length, 0);
  emit({ type: 'planned', totalInstances: total, tasks: options.tasks, lengths: [...options.lengths].sort((a, b) => a - b) });

  const instances: InstanceResult[] = [];
  const scores: TaskLengthScore[] = [];
  const skipped: SkippedTask[] = [];
  let done = 0;
  let cancelled = false;
  let failure: string | undefined;
  let countsDiffer = false;
  /** Skips `entry` and the `remaining` instances of its group (they count as done). */
  const skip = (entry: SkippedTask, remaining: number) => {
    skipped.push(entry);
    done += remaining;
    emit({ type: 'skipped', skipped: entry, done, total });
  };

  run: for (const group of plan) {
    if (info.contextLength !== undefined && group.length > info.contextLength) {
      skip({ task: group.task, length: group.length, reason: `the backend's context length is ${info.contextLength} tokens` }, group.specs.length);
      continue;
    }
    const task = createTask(group.task);
    const groupResults: InstanceResult[] = [];
    for (const spec of group.specs) {
      if (signal?.aborted) { cancelled = true; break run; }
      await new Promise((resolve) => setImmediate(resolve));
      let instance: ProbeInstance;
      try {
        instance = task.build(context, { seed: options.seed, length: group.length, ...spec });
      } catch (error) {
        if (!(error instanceof SkipInstance)) throw error;
        skip({ task: group.task, length: group.length, reason: error.message }, group.specs.length - groupResults.length);
        break;
      }
      emit({ type: 'instance-started', id: instance.id, task: instance.task, length: instance.length, promptTokens: instance.promptTokens, done, total });
      let answer: GenerateResult;
      try {
        answer = await backend.generate(
          { messages: instance.messages, assistantPrefix: instance.assistantPrefix, sampling: { maxTokens: instance.maxTokens, temperature: 0 } },
          (event) => {
            if (event.type === 'prefill') emit({ type: 'prefill', id: instance.id, doneTokens: event.doneTokens, totalTokens: event.totalTokens });
            else if (event.type === 'warning') emit({ type: 'warning', message: `${instance.id}: ${event.message}` });
          },
          signal,
        );
      } catch (error) {
        if (error instanceof CancelledError) { cancelled = true; break run; }
        if (error instanceof ContextTooLongError) {
          // The backend counts the prompt longer than the probe did (its chat template adds tokens, or another
          // tokenizer): this task does not fit at this length, but shorter ones and other tasks may. Skip, go on.
          // Its finished instances stay in the results (measured, and shown per depth); the cell has no score.
          skip(overflowSkip(instance, error), group.specs.length - groupResults.length);
          break;
        }
        // The backend failed partway (server gone, engine crashed): stop, and keep every finished result.
        failure = errorMessage(error);
        emit({ type: 'warning', message: `${instance.id}: the backend failed, so the run stopped after ${instances.length} of ${total} instances: ${failure}` });
        break run;
      }
      if (answer.finishReason === 'cancelled') { cancelled = true; break run; }
      const result: InstanceResult = {
        id: instance.id, task: instance.task, length: instance.length, index: instance.index,
        ...(instance.depthPercent === undefined ? {} : { depthPercent: instance.depthPercent }),
        score: scoreAnswer(instance.metric, answer.text, instance.answers),
        prediction: answer.text, answers: instance.answers,
        promptTokens: instance.promptTokens, backendPromptTokens: answer.promptTokens,
        completionTokens: answer.completionTokens, finishReason: answer.finishReason, totalMs: answer.totalMs,
        ...(answer.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: answer.timeToFirstTokenMs }),
      };
      for (const warning of answer.warnings) emit({ type: 'warning', message: `${instance.id}: ${warning}` });
      if (!countsDiffer && answer.promptTokens > 0 && Math.abs(answer.promptTokens - instance.promptTokens) > 0.01 * instance.promptTokens) {
        countsDiffer = true;
        emit({ type: 'warning', message: `${instance.id}: the backend counted ${answer.promptTokens} prompt tokens where the probe counted ${instance.promptTokens} `
          + `(${counter.tokenizer}, chat template ${counter.chatTemplate}); lengths are the probe's counts. Give --tokenizer the model's own tokenizer.json.` });
      }
      instances.push(result);
      groupResults.push(result);
      done++;
      emit({ type: 'instance-finished', result, done, total });
    }
    if (groupResults.length === group.specs.length) {
      const score: TaskLengthScore = { task: group.task, length: group.length, samples: groupResults.length, score: meanScore(groupResults.map((r) => r.score)) };
      scores.push(score);
      emit({ type: 'task-length-scored', score });
    }
  }
  return {
    metadata: {
      suiteVersion: SUITE_VERSION, seed: options.seed, tasks: options.tasks, lengths: [...options.lengths].sort((a, b) => a - b),
      samples: options.samples, backend: info, tokenizer: counter.tokenizer, chatTemplate: counter.chatTemplate,
      textSources: textSources(options.tasks), startedAt, finishedAt: new Date().toISOString(), cancelled,
      ...(failure === undefined ? {} : { error: failure }),
    },
    scores,
    heatmaps: heatmapsOf(instances, options.tasks, options.lengths),
    ruler: rulerEffectiveLength(scores, options.threshold ?? RULER_THRESHOLD),
    references: [...REFERENCE_CURVES],
    skipped,
    instances,
  };
}
