/** What every probe task shares: its definition, the context it builds in, and turning a fitted prompt into an instance. */
import type { ChatMessage } from '../../backends/types';
import { fitToBudget, type FitOptions } from '../fit';
import type { PromptCounter } from '../promptCounter';
import type { MetricName, NeedlePlacement, ProbeInstance, ProbeTaskName } from '../types';

/** One file of the user's repository (the code haystack and the repository QA tasks read these). */
export interface RepositoryFile {
  path: string;
  text: string;
}

export interface TaskContext {
  counter: PromptCounter;
  /** The repository's files, in pack order; tasks that need them skip without. */
  repository?: readonly RepositoryFile[];
  /** Name shown in code-haystack prompts. */
  repositoryName?: string;
}

export interface InstanceSpec {
  seed: string;
  length: number;
  index: number;
  /** Requested depth in percent, for depth sweeps. */
  depthPercent?: number;
}

/** A prompt before sizing is known to fit. */
export interface BuiltPrompt {
  messages: ChatMessage[];
  assistantPrefix: string;
  answers: string[];
  context: { message: number; start: number; end: number };
  needles: NeedlePlacement[];
}

export interface ProbeTask {
  name: ProbeTaskName;
  description: string;
  metric: MetricName;
  /** Output budget in tokens. */
  maxTokens: number;
  /** Text sources, named in results. */
  sources: string[];
  /** Depths (percent) swept per length; absent for tasks with one instance per sample. */
  depthPercents?: number[];
  build(context: TaskContext, spec: InstanceSpec): ProbeInstance;
}

/** The instance cannot be made at this length (say why); the runner records it as skipped. */
export class SkipInstance extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipInstance';
  }
}

/** Share of the target a prompt must reach to count as sized to it (RULER fills to just under the target). */
export const MIN_FILL = 0.99;

/**
 * Fits `build` to the spec's length and returns the instance. `estimateContext(units)` is the haystack's
 * estimated tokens; the fixed part of the prompt is measured once from `build(minUnits)`.
 */
export function fitInstance(
  task: Pick<ProbeTask, 'name' | 'metric' | 'maxTokens'>,
  context: TaskContext,
  spec: InstanceSpec,
  options: { minUnits: number; maxUnits: number; estimateContext(units: number): number; build(units: number): BuiltPrompt },
): ProbeInstance {
  const counter = context.counter;
  const budget = spec.length - task.maxTokens;
  const count = (built: BuiltPrompt) => counter.countPrompt(built.messages, built.assistantPrefix);
  const base = count(options.build(options.minUnits)) - options.estimateContext(options.minUnits);
  const fitOptions: FitOptions<BuiltPrompt> = {
    budget, minUnits: options.minUnits, maxUnits: options.maxUnits,
    estimate: (units) => base + options.estimateContext(units), build: options.build, count,
  };
  const fitted = fitToBudget(fitOptions);
  if (!fitted) throw new SkipInstance(`the prompt without any haystack is already longer than ${spec.length} tokens`);
  const total = fitted.promptTokens + task.maxTokens;
  // Short of the target only because the source ran out (not because units are coarse): say so instead.
  if (fitted.units >= options.maxUnits && total < MIN_FILL * spec.length) {
    throw new SkipInstance(`only ${total} of ${spec.length} tokens could be filled (the haystack source is too short)`);
  }
  const depth = spec.depthPercent === undefined ? '' : `/${spec.depthPercent}`;
  return {
    id: `${task.name}/${spec.length}/${spec.index}${depth}`,
    task: task.name,
    length: spec.length,
    index: spec.index,
    ...(spec.depthPercent === undefined ? {} : { depthPercent: spec.depthPercent }),
    messages: fitted.built.messages,
    assistantPrefix: fitted.built.assistantPrefix,
    maxTokens: task.maxTokens,
    answers: fitted.built.answers,
    metric: task.metric,
    promptTokens: fitted.promptTokens,
    context: fitted.built.context,
    needles: fitted.built.needles,
  };
}

/** Joins `parts` with `separator` and reports where each part starts. */
export function joinWithOffsets(parts: readonly string[], separator: string): { text: string; offsets: number[] } {
  const offsets: number[] = [];
  let text = '';
  parts.forEach((part, i) => {
    if (i > 0) text += separator;
    offsets.push(text.length);
    text += part;
  });
  return { text, offsets };
}

/** A one-user-turn prompt whose content is `before + context + after`. */
export function userPrompt(before: string, contextText: string, after: string, assistantPrefix: string,
  answers: string[], needles: { text: string; requestedDepth: number; offsetInContext: number }[]): BuiltPrompt {
  return {
    messages: [{ role: 'user', content: before + contextText + after }],
    assistantPrefix,
    answers,
    context: { message: 0, start: before.length, end: before.length + contextText.length },
    needles: needles.map((needle) => ({
      text: needle.text, requestedDepth: needle.requestedDepth, message: 0, charOffset: before.length + needle.offsetInContext,
    })),
  };
}

/** RULER's depth grid for needle positions: round(linspace(0, 100, 40)). */
export const RULER_DEPTHS: readonly number[] = Array.from({ length: 40 }, (_, i) => Math.round((i * 100) / 39));

/** Fu et al.'s grid: round(linspace(0, 100, 10)). */
export const TEN_DEPTHS: readonly number[] = Array.from({ length: 10 }, (_, i) => Math.round((i * 100) / 9));
