/**
 * Every finished (or cancelled, with results) run is kept as JSON in the extension's storage: the panel comes
 * back with the last run after a window reload, and "Open Results..." starts in that folder. The newest
 * HISTORY_LIMIT runs are kept. No `vscode` here: the folder is given.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeRunResult } from '../../engine/probes/types';

export const HISTORY_LIMIT = 20;

/** "2026-11-22T05-00-12Z-oracle.json": names sort by start time. */
export function historyFileName(result: ProbeRunResult): string {
  const started = result.metadata.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const model = result.metadata.backend.model.replace(/[^\w.-]+/g, '_').slice(0, 80);
  return `${started}-${model}${result.metadata.cancelled ? '-cancelled' : ''}.json`;
}

/** The oldest files past the newest `keep` (names as historyFileName makes them). */
export function filesToPrune(names: readonly string[], keep = HISTORY_LIMIT): string[] {
  const runs = names.filter((name) => name.endsWith('.json')).sort();
  return runs.slice(0, Math.max(0, runs.length - keep));
}

export class RunHistory {
  constructor(readonly dir: string) {}

  /** Writes the run (atomically: a half-written file never replaces a good one) and prunes old ones; returns its path. */
  save(result: ProbeRunResult): string {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, historyFileName(result));
    const partial = `${path}.partial`;
    writeFileSync(partial, JSON.stringify(result));
    renameSync(partial, path);
    for (const old of filesToPrune(readdirSync(this.dir))) rmSync(join(this.dir, old), { force: true });
    return path;
  }
}

/** Milliseconds per prompt token a model took in a run's finished instances (prefill dominates long prompts); undefined without any. */
export function msPerPromptToken(result: Pick<ProbeRunResult, 'instances'>): number | undefined {
  let ms = 0;
  let tokens = 0;
  for (const instance of result.instances) {
    if (instance.totalMs > 0 && instance.promptTokens > 0) {
      ms += instance.totalMs;
      tokens += instance.promptTokens;
    }
  }
  return tokens > 0 ? ms / tokens : undefined;
}

/** A plan's expected duration: every prompt's length at the measured speed. */
export function estimateMs(promptLengths: readonly number[], msPerToken: number): number {
  return promptLengths.reduce((sum, length) => sum + length * msPerToken, 0);
}

/** "about 40 s", "about 12 min", "about 2.5 h". */
export function formatEstimate(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** The measured speed of `model` in its newest kept run, if there is one. */
export function measuredSpeed(dir: string, model: string): { msPerToken: number; from: string } | undefined {
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort().reverse();
  for (const name of names) {
    try {
      const result = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProbeRunResult;
      if (result.metadata?.backend?.model !== model || !Array.isArray(result.instances)) continue;
      const msPerToken = msPerPromptToken(result);
      if (msPerToken !== undefined) return { msPerToken, from: result.metadata.startedAt };
    } catch {
      // a file that is not a run is no speed measurement
    }
  }
  return undefined;
}
