/**
 * Effective context length the way RULER reports it: the average over its tasks at each length, compared with
 * a threshold (85.6, Llama-2-7B's score at 4K), and published curves to show beside the user's.
 */
import { RULER_TASKS, type EffectiveLength, type LengthScore, type ProbeTaskName, type ReferenceCurve, type TaskLengthScore } from './types';

export const RULER_THRESHOLD = 85.6;

/** The largest length such that it and every shorter measured length average at least `threshold`. */
export function effectiveLengthOf(averages: readonly LengthScore[], threshold: number): number | null {
  let effective: number | null = null;
  for (const { length, score } of [...averages].sort((a, b) => a.length - b.length)) {
    if (score < threshold) break;
    effective = length;
  }
  return effective;
}

/** Averages RULER's tasks that have a score at every measured length (so lengths compare like with like). */
export function rulerEffectiveLength(scores: readonly TaskLengthScore[], threshold = RULER_THRESHOLD): EffectiveLength {
  const ruler = scores.filter((score) => (RULER_TASKS as readonly string[]).includes(score.task));
  const lengths = [...new Set(ruler.map((score) => score.length))].sort((a, b) => a - b);
  const tasks = [...new Set(ruler.map((score) => score.task))].filter((task) =>
    lengths.every((length) => ruler.some((score) => score.task === task && score.length === length))) as ProbeTaskName[];
  const averages = tasks.length === 0 ? [] : lengths.map((length) => {
    const at = ruler.filter((score) => score.length === length && tasks.includes(score.task));
    return { length, score: Math.round((at.reduce((sum, score) => sum + score.score, 0) / at.length) * 100) / 100 };
  });
  return { threshold, tasks, averages, effectiveLength: effectiveLengthOf(averages, threshold) };
}

const K = 1024;
function curve(model: string, scores: number[]): ReferenceCurve {
  const lengths = [4 * K, 8 * K, 16 * K, 32 * K, 64 * K, 128 * K];
  const points = scores.map((score, i) => ({ length: lengths[i]!, score }));
  return { model, source: 'RULER README (NVIDIA/RULER), average of its 13 tasks', scores: points, effectiveLength: effectiveLengthOf(points, RULER_THRESHOLD) };
}

/** Published RULER averages, 4K to 128K (RULER's own essays and QA data, so comparable in trend, not exactly). */
export const REFERENCE_CURVES: readonly ReferenceCurve[] = [
  curve('ProLong-8B-512k-Instruct', [94.5, 92.5, 92.3, 89.3, 83.2, 81.6]),
  curve('Llama-3.1-8B-Instruct', [95.5, 93.8, 91.6, 87.4, 84.7, 77.0]),
];
