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
  const result = value as Partial<ProbeRunResult> | null;
  const metadata = result?.metadata;
  if (!result || typeof result !== 'object' || !metadata || typeof metadata.suiteVersion !== 'string'
    || !Array.isArray(result.scores) || !Array.isArray(result.instances) || !Array.isArray(result.heatmaps) || !result.ruler) {
    throw new UserError(`${source} is not a probe results file (no metadata, scores, instances, heatmaps or ruler).`, hint);
  }
  return result as ProbeRunResult;
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
