/** Plain-text tables and CSV of probe results, for the CLI (the panel draws the same data itself). */
import type { HeatmapGrid, ProbeRunResult, ProbeTaskName } from './types';

/** 4096 -> "4K", 131072 -> "128K", 1048576 -> "1M", others as they are. */
export function formatLength(tokens: number): string {
  if (tokens % (1024 * 1024) === 0) return `${tokens / (1024 * 1024)}M`;
  if (tokens % 1024 === 0) return `${tokens / 1024}K`;
  return String(tokens);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Skipped cells read "skip" (the reason is listed below the tables); cells that did not run read "-". */
const SKIP = 'skip';

function isSkipped(result: ProbeRunResult, task: ProbeTaskName, length: number): boolean {
  return result.skipped.some((entry) => entry.task === task && entry.length === length);
}

function heatmapTable(result: ProbeRunResult, grid: HeatmapGrid): string {
  const header = [`${grid.task} depth`, ...grid.lengths.map(formatLength)];
  const cell = (score: number | null, l: number) =>
    score !== null ? score.toFixed(1) : isSkipped(result, grid.task, grid.lengths[l]!) ? SKIP : '-';
  const rows = grid.depthPercents.map((depth, d) => [`${depth}%`, ...grid.scores[d]!.map(cell)]);
  return table(header, rows);
}

export function formatResults(result: ProbeRunResult): string {
  const { metadata } = result;
  const lengths = metadata.lengths;
  const tasks: ProbeTaskName[] = metadata.tasks.filter((task) => task !== 'needle_heatmap' && task !== 'code_needle');
  const out: string[] = [];
  out.push(`model ${metadata.backend.model} (${metadata.backend.kind}: ${metadata.backend.detail})`);
  out.push(`seed ${metadata.seed}, ${metadata.samples} sample(s) per task and length, ${metadata.suiteVersion}, tokenizer ${metadata.tokenizer}`);
  out.push(`text: ${metadata.textSources.join('; ')}`);
  if (metadata.cancelled) out.push('CANCELLED: partial results');
  if (metadata.error !== undefined) out.push(`FAILED: partial results; the backend failed: ${metadata.error}`);
  out.push('');
  const rows = tasks.map((task) => [task, ...lengths.map((length) => {
    const score = result.scores.find((s) => s.task === task && s.length === length);
    return score ? score.score.toFixed(1) : isSkipped(result, task, length) ? SKIP : '-';
  })]);
  const ruler = result.ruler;
  if (ruler.averages.length > 0) {
    rows.push([`RULER avg (${ruler.tasks.length} task${ruler.tasks.length === 1 ? '' : 's'})`, ...lengths.map((length) => ruler.averages.find((a) => a.length === length)?.score.toFixed(1) ?? '-')]);
  }
  for (const reference of result.references) {
    rows.push([`ref: ${reference.model}`, ...lengths.map((length) => reference.scores.find((s) => s.length === length)?.score.toFixed(1) ?? '-')]);
  }
  if (tasks.length > 0) out.push(table(['task', ...lengths.map(formatLength)], rows), '');
  if (ruler.averages.length > 0) {
    const effective = ruler.effectiveLength === null ? `below ${ruler.threshold} at every length` : formatLength(ruler.effectiveLength);
    out.push(`effective length (RULER average >= ${ruler.threshold}): ${effective}`);
    for (const reference of result.references) {
      out.push(`  reference ${reference.model}: ${reference.effectiveLength === null ? '-' : formatLength(reference.effectiveLength)} (${reference.source})`);
    }
    out.push('');
  }
  for (const grid of result.heatmaps) if (grid.scores.some((row) => row.some((score) => score !== null))) out.push(heatmapTable(result, grid), '');
  for (const skipped of result.skipped) out.push(`skipped ${skipped.task} at ${formatLength(skipped.length)}: ${skipped.reason}`);
  return out.join('\n').trimEnd() + '\n';
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per task and length, then one per heatmap cell, then one per skipped task and length (no score). */
export function resultsCsv(result: ProbeRunResult): string {
  const rows: (string | number)[][] = [['kind', 'task', 'length', 'depth_percent', 'samples', 'score']];
  for (const score of result.scores) rows.push(['task', score.task, score.length, '', score.samples, score.score]);
  for (const average of result.ruler.averages) rows.push(['ruler_average', 'ruler', average.length, '', result.ruler.tasks.length, average.score]);
  for (const grid of result.heatmaps) {
    grid.depthPercents.forEach((depth, d) => grid.lengths.forEach((length, l) => {
      const score = grid.scores[d]![l];
      if (score !== null && score !== undefined) rows.push(['heatmap', grid.task, length, depth, result.metadata.samples, score]);
    }));
  }
  for (const skipped of result.skipped) rows.push(['skipped', skipped.task, skipped.length, '', '', '']);
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
