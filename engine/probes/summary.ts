/** Effective context length per model from saved probe results: the newest run of each model wins. */
import { readProbeResults } from './results';

export interface ModelProbeSummary {
  model: string;
  backend: string;
  /** Longest measured length whose RULER average (and every shorter one's) reaches the threshold; null: none. */
  effectiveLength: number | null;
  threshold: number;
  /** RULER average per measured length. */
  averages: { length: number; score: number }[];
  finishedAt: string;
  file: string;
  cancelled: boolean;
}

/** Reads each results file (a UserError names a bad one) and keeps the newest run per model, sorted by model. */
export function summarizeProbeResults(files: readonly string[]): ModelProbeSummary[] {
  const byModel = new Map<string, ModelProbeSummary>();
  for (const file of files) {
    const result = readProbeResults(file);
    const entry: ModelProbeSummary = {
      model: result.metadata.backend.model,
      backend: result.metadata.backend.detail,
      effectiveLength: result.ruler.effectiveLength,
      threshold: result.ruler.threshold,
      averages: result.ruler.averages.map(({ length, score }) => ({ length, score })),
      finishedAt: result.metadata.finishedAt,
      file,
      cancelled: result.metadata.cancelled,
    };
    const previous = byModel.get(entry.model);
    if (!previous || previous.finishedAt < entry.finishedAt) byModel.set(entry.model, entry);
  }
  return [...byModel.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

const tokens = (n: number) => (n % 1024 === 0 ? `${n / 1024}K` : n.toLocaleString('en-US'));

/** One line per model, for people and agents alike. */
export function formatProbeSummary(models: readonly ModelProbeSummary[]): string {
  if (models.length === 0) return 'No probe results found.';
  return models.map((m) => {
    const effective = m.effectiveLength === null ? `below ${m.threshold} at every measured length` : `effective length ${tokens(m.effectiveLength)} tokens (threshold ${m.threshold})`;
    const scores = m.averages.map((a) => `${tokens(a.length)}: ${a.score}`).join(', ');
    return `${m.model} (${m.backend}): ${effective}; RULER average ${scores || 'none'}; ${m.finishedAt}${m.cancelled ? ' (cancelled run)' : ''}`;
  }).join('\n');
}
