/**
 * The runs "Open Probe Results" and "Compare" offer before a file dialog: the kept runs (history.ts) and the saved
 * ones (the extension's saved-probes folder), newest first, each named by model, date, lengths and its effective
 * length. No `vscode` here: the folders are given.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLength } from '../../engine/probes/report';
import { readProbeResults } from '../../engine/probes/results';

export interface SavedRun {
  file: string;
  model: string;
  startedAt: string;
  lengths: number[];
  tasks: number;
  effectiveLength: number | null;
  threshold: number;
  cancelled: boolean;
}

/** Every readable run in `dirs`, newest first; a file that is not a run is passed over (the dialog still opens it). */
export function listSavedRuns(dirs: readonly string[]): SavedRun[] {
  const runs: SavedRun[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(dir, name);
      try {
        const result = readProbeResults(file);
        const { metadata } = result;
        // the same run kept and saved: listed once
        const key = `${metadata.startedAt}\n${metadata.backend.model}`;
        if (seen.has(key)) continue;
        seen.add(key);
        runs.push({
          file, model: metadata.backend.model, startedAt: metadata.startedAt, lengths: metadata.lengths, tasks: metadata.tasks.length,
          effectiveLength: result.ruler.effectiveLength, threshold: result.ruler.threshold, cancelled: metadata.cancelled,
        });
      } catch {
        // not a probe run (or unreadable): not listed
      }
    }
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** A quick-pick entry: the model as label; date, lengths and task count; the effective length. */
export function savedRunEntry(run: SavedRun): { label: string; description: string; detail: string } {
  const date = run.startedAt.slice(0, 16).replace('T', ' ');
  const effective = run.effectiveLength === null ? `below ${run.threshold} at every length` : `effective length ${formatLength(run.effectiveLength)}`;
  return {
    label: run.model,
    description: `${date} · ${run.lengths.map(formatLength).join('/')} · ${run.tasks} task${run.tasks === 1 ? '' : 's'}${run.cancelled ? ' · cancelled' : ''}`,
    detail: `${effective} · ${run.file}`,
  };
}
