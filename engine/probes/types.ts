/**
 * Types of the probe suite: instances, the events a run emits (the CLI and the Probes panel both consume them),
 * and the results written to JSON. Plain data only, so results survive JSON round trips and postMessage.
 */
import type { BackendInfo, ChatMessage, FinishReason } from '../backends/types';

/** RULER's 13 tasks (two QA tasks are our own, built from the user's repository), HELMET's JSON KV, Fu et al.'s needle grid, and the code haystack. */
export const RULER_TASKS = [
  'niah_single_1', 'niah_single_2', 'niah_single_3', 'niah_multikey_1', 'niah_multikey_2', 'niah_multikey_3',
  'niah_multivalue', 'niah_multiquery', 'vt', 'cwe', 'fwe', 'repo_qa_1', 'repo_qa_2',
] as const;
export const OTHER_TASKS = ['json_kv', 'needle_heatmap', 'code_needle'] as const;
export const ALL_TASKS = [...RULER_TASKS, ...OTHER_TASKS] as const;

export type RulerTaskName = (typeof RULER_TASKS)[number];
export type ProbeTaskName = (typeof ALL_TASKS)[number];

/**
 * How an answer is scored, 0-100 per instance.
 * string_match_all: share of the reference strings found in the answer, case-insensitive (RULER).
 * word_match_all: string_match_all on whole words (cwe, fwe: their word lists hold words inside other words).
 * string_match_part: 100 if any reference is found (RULER's QA).
 * substring_exact_match: HELMET's: a reference is in the answer after lower-casing and removing punctuation and articles.
 * rouge1_f: unigram F-measure against the needle sentence (Fu et al.'s needle test; they use ROUGE-1 too).
 */
export type MetricName = 'string_match_all' | 'word_match_all' | 'string_match_part' | 'substring_exact_match' | 'rouge1_f';

/** Where one needle (or golden document) was put. Offsets are characters in `messages[message].content`. */
export interface NeedlePlacement {
  /** The inserted text. */
  text: string;
  /** Requested depth in the haystack, 0 (start) to 1 (end). */
  requestedDepth: number;
  message: number;
  charOffset: number;
}

/** One prompt, ready for any backend. */
export interface ProbeInstance {
  /** task/length/index[/depth]: stable across runs with the same seed. */
  id: string;
  task: ProbeTaskName;
  /** Target length in tokens: prompt (chat template and answer prefix included) plus the output budget. */
  length: number;
  index: number;
  /** For depth sweeps (needle_heatmap, code_needle): requested depth in percent. */
  depthPercent?: number;
  messages: ChatMessage[];
  /** RULER's answer prefix, placed after the chat template's generation prompt. */
  assistantPrefix: string;
  /** Output budget in tokens (greedy decoding). */
  maxTokens: number;
  /** Reference strings the metric looks for. */
  answers: string[];
  metric: MetricName;
  /** Prompt tokens as counted with the probe's tokenizer and chat template. */
  promptTokens: number;
  /** Where the haystack sits: `messages[message].content.slice(start, end)`. */
  context: { message: number; start: number; end: number };
  needles: NeedlePlacement[];
}

export interface InstanceResult {
  id: string;
  task: ProbeTaskName;
  length: number;
  index: number;
  depthPercent?: number;
  /** 0-100. */
  score: number;
  prediction: string;
  answers: string[];
  promptTokens: number;
  /** What the backend counted, when it differs from ours it is worth a look. */
  backendPromptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
  totalMs: number;
  timeToFirstTokenMs?: number;
}

/** Mean score of one task at one length, RULER-style (0-100, two decimals). */
export interface TaskLengthScore {
  task: ProbeTaskName;
  length: number;
  samples: number;
  score: number;
}

/** A depth x length grid of mean scores (Fu et al.'s heatmap); null where nothing ran. */
export interface HeatmapGrid {
  task: 'needle_heatmap' | 'code_needle';
  lengths: number[];
  depthPercents: number[];
  /** scores[depthIndex][lengthIndex]. */
  scores: (number | null)[][];
}

export interface LengthScore {
  length: number;
  score: number;
}

/** Effective context length: the largest length up to which the average score stays above the threshold. */
export interface EffectiveLength {
  threshold: number;
  /** Tasks averaged (those of RULER's 13 that ran at every length). */
  tasks: ProbeTaskName[];
  averages: LengthScore[];
  /** null when even the shortest length is below the threshold, or nothing ran. */
  effectiveLength: number | null;
}

/** Published RULER numbers to show beside the user's. */
export interface ReferenceCurve {
  model: string;
  source: string;
  scores: LengthScore[];
  effectiveLength: number | null;
}

export interface SkippedTask {
  task: ProbeTaskName;
  length: number;
  reason: string;
  /** Set when a prompt did not fit the backend's context (the backend counted it longer than the probe did). */
  overflow?: PromptOverflow;
}

/** A prompt the backend refused as too long: the numbers behind a skip. */
export interface PromptOverflow {
  /** The instance that did not fit; the rest of its task at that length was skipped with it. */
  id: string;
  /** Prompt tokens as the probe counted them (its tokenizer and chat template). */
  promptTokens: number;
  /** Prompt tokens as the backend counted them. */
  backendPromptTokens: number;
  /** The instance's output budget. */
  maxTokens: number;
  /** The backend's context, in tokens. */
  contextLength: number;
}

export interface ProbeRunMetadata {
  /** Version of the probe generators: instances change only when it changes. */
  suiteVersion: string;
  seed: string;
  tasks: ProbeTaskName[];
  lengths: number[];
  samples: number;
  backend: BackendInfo;
  tokenizer: string;
  chatTemplate: string;
  /** Where haystack text came from (generated prose, word lists, the repository). */
  textSources: string[];
  startedAt: string;
  finishedAt: string;
  cancelled: boolean;
  /** Set when the backend failed partway and the run stopped there: its message. The results are partial. */
  error?: string;
}

export interface ProbeRunResult {
  metadata: ProbeRunMetadata;
  scores: TaskLengthScore[];
  heatmaps: HeatmapGrid[];
  ruler: EffectiveLength;
  references: ReferenceCurve[];
  skipped: SkippedTask[];
  instances: InstanceResult[];
}

/** Events of a run, in order; the panel draws progress per instance and fills tables as scores arrive. */
export type ProbeEvent =
  | { type: 'planned'; totalInstances: number; tasks: ProbeTaskName[]; lengths: number[] }
  | { type: 'instance-started'; id: string; task: ProbeTaskName; length: number; promptTokens: number; done: number; total: number }
  | { type: 'prefill'; id: string; doneTokens: number; totalTokens: number }
  | { type: 'instance-finished'; result: InstanceResult; done: number; total: number }
  | { type: 'task-length-scored'; score: TaskLengthScore }
  /** `done` counts the skipped instances as done (absent in events written before it was added). */
  | { type: 'skipped'; skipped: SkippedTask; done?: number; total?: number }
  | { type: 'warning'; message: string };
