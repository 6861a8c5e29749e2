/** Reading saved probe results (the CLI's --out file), for the Probes panel and for comparing runs. */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import { SUITE_VERSION } from './runner';
import type { ProbeRunResult } from './types';

const hint = 'Write it again with `prolong probe --out FILE`.';

/** Parses results JSON; `source` names the file in errors. Results of another suite version load, flagged by the caller. */
export function parseProbeResults(text: string, source: string): ProbeRunResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${source} is not valid JSON: ${(error as Error).message}.`, hint, { cause: error });
  }
  const problem = resultsProblem(value);
  if (problem) throw new UserError(`${source} is not a probe results file: ${problem}.`, hint);
  return value as ProbeRunResult;
}

// Saved files come from anywhere (a colleague's run to compare with): every field the panel and the CLI read is
// checked for its type here, so a damaged or crafted file is refused with a message instead of breaking the panel.
type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isNumberOrNull: Check = (v) => v === null || isNumber(v);
const isBoolean: Check = (v) => typeof v === 'boolean';
const arrayOf = (item: Check): Check => (v) => Array.isArray(v) && v.every(item);
const optional = (check: Check): Check => (v) => v === undefined || check(v);
const record = (fields: Record<string, Check>): Check => (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(fields).every(([name, check]) => check((v as Record<string, unknown>)[name]));

const lengthScore = record({ length: isNumber, score: isNumber });
const checks: Record<keyof ProbeRunResult, Check> = {
  metadata: record({
    suiteVersion: isString, seed: isString, tasks: arrayOf(isString), lengths: arrayOf(isNumber), samples: isNumber,
    backend: record({ kind: isString, model: isString, detail: isString, contextLength: optional(isNumber) }),
    tokenizer: isString, chatTemplate: isString, textSources: arrayOf(isString), startedAt: isString, finishedAt: isString, cancelled: isBoolean, error: optional(isString),
  }),
  scores: arrayOf(record({ task: isString, length: isNumber, samples: isNumber, score: isNumber })),
  heatmaps: arrayOf(record({ task: isString, lengths: arrayOf(isNumber), depthPercents: arrayOf(isNumber), scores: arrayOf(arrayOf(isNumberOrNull)) })),
  ruler: record({ threshold: isNumber, tasks: arrayOf(isString), averages: arrayOf(lengthScore), effectiveLength: isNumberOrNull }),
  references: arrayOf(record({ model: isString, source: isString, scores: arrayOf(lengthScore), effectiveLength: isNumberOrNull })),
  skipped: arrayOf(record({
    task: isString, length: isNumber, reason: isString,
    overflow: optional(record({ id: isString, promptTokens: isNumber, backendPromptTokens: isNumber, maxTokens: isNumber, contextLength: isNumber })),
  })),
  instances: arrayOf(record({
    id: isString, task: isString, length: isNumber, index: isNumber, depthPercent: optional(isNumber), score: isNumber,
    prediction: isString, answers: arrayOf(isString), promptTokens: isNumber, backendPromptTokens: isNumber,
    completionTokens: isNumber, finishReason: isString, totalMs: isNumber, timeToFirstTokenMs: optional(isNumber),
  })),
};

/** What is wrong with a parsed results file, or undefined when every field has its type. */
function resultsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  for (const [field, check] of Object.entries(checks)) {
    if (!check((value as Record<string, unknown>)[field])) return `its "${field}" is missing or has fields of the wrong type`;
  }
  return undefined;
}

export function readProbeResults(path: string): ProbeRunResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`Cannot read probe results ${path}: ${(error as Error).message}.`, hint, { cause: error });
  }
  return parseProbeResults(text, path);
}

/** True when `result` came from this version of the generators (its instances are the ones this build makes). */
export function isCurrentSuite(result: ProbeRunResult): boolean {
  return result.metadata.suiteVersion === SUITE_VERSION;
}
