/**
 * Every finished (or cancelled, with results) run is kept as JSON in the extension's storage: the panel comes
 * back with the last run after a window reload, and "Open Results..." starts in that folder. The newest
 * HISTORY_LIMIT runs are kept. No `vscode` here: the folder is given.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
