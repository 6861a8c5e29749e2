/**
 * The average-score curve as inline SVG (no libraries, nothing that CSP forbids): the user's RULER average per
 * length against RULER's published reference curves, the threshold line and the effective-length marker.
 * Pure: model in, markup out; colors come from classes the panel's stylesheet maps to VS Code theme colors.
 */
import { effectiveLengthOf } from '../../engine/probes/effectiveLength';
import type { EffectiveLength, LengthScore, ReferenceCurve } from '../../engine/probes/types';
import { escapeMarkup, formatLength, formatScore } from './markup';

export interface CurveSeries {
  label: string;
  kind: 'measured' | 'comparison' | 'reference';
  points: LengthScore[];
  effectiveLength: number | null;
  /** Where the numbers come from (shown in the tooltip and description). */
  source?: string;
}

export interface CurveChartModel {
  series: CurveSeries[];
  threshold: number;
  /** The measured curve's effective length at the threshold. */
  effectiveLength: number | null;
  /** Smallest and largest length on the x axis (powers of two around every point). */
  minLength: number;
  maxLength: number;
}

export function curveChartModel(
  measured: EffectiveLength, references: readonly ReferenceCurve[], measuredLabel = 'This model',
  comparisons: readonly { label: string; ruler: EffectiveLength }[] = [],
): CurveChartModel {
  const series: CurveSeries[] = [
    { label: measuredLabel, kind: 'measured', points: [...measured.averages].sort((a, b) => a.length - b.length), effectiveLength: measured.effectiveLength },
    ...comparisons.map((c): CurveSeries => ({
      label: c.label, kind: 'comparison', points: [...c.ruler.averages].sort((a, b) => a.length - b.length), effectiveLength: c.ruler.effectiveLength,
    })),
    ...references.map((reference): CurveSeries => ({
      label: reference.model, kind: 'reference', points: [...reference.scores].sort((a, b) => a.length - b.length),
      // A reference's effective length depends on the threshold as much as ours: recompute it at the panel's.
      effectiveLength: effectiveLengthOf(reference.scores, measured.threshold), source: reference.source,
    })),
  ];
  const lengths = series.flatMap((s) => s.points.map((p) => p.length));
  const minLength = lengths.length === 0 ? 4096 : 2 ** Math.floor(Math.log2(Math.min(...lengths)));
  const maxLength = lengths.length === 0 ? 131072 : 2 ** Math.ceil(Math.log2(Math.max(...lengths)));
  return { series, threshold: measured.threshold, effectiveLength: measured.effectiveLength, minLength, maxLength: Math.max(maxLength, minLength * 2) };
}

/** One sentence per series, for the chart's <desc> (screen readers) and the tests. */
export function describeChart(model: CurveChartModel): string {
  return model.series.map((s) => {
    if (s.points.length === 0) return `${s.label}: no scores yet.`;
    const points = s.points.map((p) => `${formatLength(p.length)} ${formatScore(p.score)}`).join(', ');
    const effective = s.effectiveLength === null ? `below ${model.threshold} at every length` : `effective length ${formatLength(s.effectiveLength)}`;
    return `${s.label}: ${points}; ${effective}.`;
  }).join(' ');
}

const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { left: 44, right: 16, top: 14, bottom: 36 };
const LEGEND_ROW = 18;

/** The chart as an <svg> element's markup. `id` makes the title/desc ids unique in the page. */
export function curveChartSvg(model: CurveChartModel, id = 'curve'): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const logMin = Math.log2(model.minLength);
  const logSpan = Math.log2(model.maxLength) - logMin;
  const x = (length: number) => MARGIN.left + ((Math.log2(length) - logMin) / logSpan) * plotWidth;
  const y = (score: number) => MARGIN.top + (1 - Math.min(100, Math.max(0, score)) / 100) * plotHeight;
  const f = (value: number) => value.toFixed(1);
  const legendHeight = LEGEND_ROW * model.series.length + 6;
  const height = HEIGHT + legendHeight;
  const parts: string[] = [];

  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="curve-chart" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc">`);
  parts.push(`<title id="${id}-title">Average RULER score by context length, threshold ${escapeMarkup(String(model.threshold))}</title>`);
  parts.push(`<desc id="${id}-desc">${escapeMarkup(describeChart(model))}</desc>`);

  // Grid and axes.
  for (let score = 0; score <= 100; score += 20) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(score))}" y2="${f(y(score))}"/>`);
    parts.push(`<text class="axis-label" x="${MARGIN.left - 6}" y="${f(y(score) + 4)}" text-anchor="end">${score}</text>`);
  }
  for (let length = model.minLength; length <= model.maxLength; length *= 2) {
    parts.push(`<line class="grid" x1="${f(x(length))}" x2="${f(x(length))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}"/>`);
    parts.push(`<text class="axis-label" x="${f(x(length))}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle">${formatLength(length)}</text>`);
  }
  parts.push(`<text class="axis-title" x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 32}" text-anchor="middle">context length (tokens)</text>`);

  // Threshold.
  const ty = f(y(model.threshold));
  parts.push(`<line class="threshold" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}"><title>threshold ${escapeMarkup(String(model.threshold))}</title></line>`);
  parts.push(`<text class="threshold-label" x="${WIDTH - MARGIN.right - 4}" y="${f(y(model.threshold) - 4)}" text-anchor="end">threshold ${escapeMarkup(String(model.threshold))}</text>`);

  // Effective length of the measured curve.
  if (model.effectiveLength !== null) {
    const ex = f(x(model.effectiveLength));
    parts.push(`<line class="effective" x1="${ex}" x2="${ex}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}"/>`);
    parts.push(`<text class="effective-label" x="${ex}" y="${MARGIN.top + 10}" dx="4">effective ${formatLength(model.effectiveLength)}</text>`);
  }

  // Curves: references first, then saved runs, so the measured one is drawn on top.
  const layer = { reference: 0, comparison: 1, measured: 2 } as const;
  const ordered = [...model.series.entries()].sort(([, a], [, b]) => layer[a.kind] - layer[b.kind]);
  const colors = colorSlots(model.series);
  for (const [index, series] of ordered) {
    const cls = `series series-${colors[index]} ${series.kind}`;
    if (series.points.length > 1) {
      const d = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(x(p.length))},${f(y(p.score))}`).join(' ');
      parts.push(`<path class="${cls}" d="${d}"/>`);
    }
    for (const p of series.points) {
      parts.push(`<circle class="${cls}" cx="${f(x(p.length))}" cy="${f(y(p.score))}" r="${series.kind === 'measured' ? 4 : 3}">`
        + `<title>${escapeMarkup(series.label)} at ${formatLength(p.length)}: ${formatScore(p.score)}</title></circle>`);
    }
  }

  // Legend below the axis title.
  model.series.forEach((series, index) => {
    const ly = HEIGHT + LEGEND_ROW * index + 8;
    const effective = series.effectiveLength === null ? 'below threshold' : `effective ${formatLength(series.effectiveLength)}`;
    const kind = series.kind === 'reference' ? ' (published)' : series.kind === 'comparison' ? ' (saved run)' : '';
    const label = `${series.label}${kind} · ${series.points.length === 0 ? 'no scores yet' : effective}`;
    parts.push(`<line class="series series-${colors[index]} ${series.kind}" x1="${MARGIN.left}" x2="${MARGIN.left + 24}" y1="${ly}" y2="${ly}"/>`);
    parts.push(`<text class="legend" x="${MARGIN.left + 30}" y="${ly + 4}">${escapeMarkup(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Palette entries in styles.ts (series-0 .. series-6). */
const PALETTE_SIZE = 7;

/**
 * Each series' color, by kind so that none changes when saved runs come and go: the measured run first, the
 * published references next (in their fixed order), the saved runs after them.
 */
function colorSlots(series: readonly CurveSeries[]): number[] {
  const references = series.filter((s) => s.kind === 'reference').length;
  let reference = 0;
  let comparison = 0;
  return series.map((s) => {
    if (s.kind === 'measured') return 0;
    if (s.kind === 'reference') return (1 + reference++) % PALETTE_SIZE;
    return (1 + references + comparison++) % PALETTE_SIZE;
  });
}
