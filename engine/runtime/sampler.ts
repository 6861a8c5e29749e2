import type { SamplingOptions } from '../backends/types';

/**
 * Picks the next token from a row of logits: greedy, or temperature / top-k / top-p sampling with a
 * repetition penalty, driven by a seeded generator so the same seed gives the same answer.
 */
export interface SamplerSettings {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

export function samplerSettings(options: SamplingOptions): SamplerSettings {
  return {
    temperature: Math.max(0, options.temperature ?? 0),
    topK: Math.max(0, Math.floor(options.topK ?? 0)),
    topP: options.topP === undefined || options.topP <= 0 || options.topP > 1 ? 1 : options.topP,
    repetitionPenalty: options.repetitionPenalty && options.repetitionPenalty > 0 ? options.repetitionPenalty : 1,
    seed: options.seed ?? 0x9e3779b9,
  };
}

/** mulberry32: small, fast, and good enough to draw one uniform number per token. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Sampler {
  private readonly random: () => number;
  /** Tokens seen so far (prompt and answer) for the repetition penalty. */
  private readonly seen = new Set<number>();

  constructor(readonly settings: SamplerSettings) {
    this.random = seededRandom(settings.seed);
  }

  /** Marks tokens as seen (the prompt, then each generated token) for the repetition penalty. */
  observe(tokens: Iterable<number>): void {
    if (this.settings.repetitionPenalty === 1) return;
    for (const token of tokens) this.seen.add(token);
  }

  /** Chooses a token id from `logits` (one row, vocabulary long). `logits` is not modified. */
  sample(logits: ArrayLike<number>): number {
    const { temperature, topK, topP, repetitionPenalty } = this.settings;
    const penalised = repetitionPenalty === 1 || this.seen.size === 0 ? logits : this.applyPenalty(logits, repetitionPenalty);
    if (temperature === 0) return argmax(penalised);

    // Candidates: top-k (or all), sorted by logit, highest first.
    const candidates = topCandidates(penalised, topK > 0 ? topK : penalised.length);
    const maxLogit = penalised[candidates[0]!]!;
    const weights = new Float64Array(candidates.length);
    let total = 0;
    for (let i = 0; i < candidates.length; i++) {
      const weight = Math.exp((penalised[candidates[i]!]! - maxLogit) / temperature);
      weights[i] = weight;
      total += weight;
    }
    // Nucleus: the smallest head of the sorted list whose probability reaches topP.
    let kept = candidates.length;
    if (topP < 1) {
      // compared on the unnormalised weights with a little slack, so a head that reaches topP exactly is not
      // passed over by rounding (0.5 + 0.3 sums to 0.7999999999999999)
      const target = topP * total * (1 - 1e-12);
      let cumulative = 0;
      for (let i = 0; i < candidates.length; i++) {
        cumulative += weights[i]!;
        if (cumulative >= target) { kept = i + 1; break; }
      }
      total = 0;
      for (let i = 0; i < kept; i++) total += weights[i]!;
    }
    let draw = this.random() * total;
    for (let i = 0; i < kept; i++) {
      draw -= weights[i]!;
      if (draw <= 0) return candidates[i]!;
    }
    return candidates[kept - 1]!;
  }

  /** CTRL's penalty: logits of seen tokens move toward "less likely" (divided when positive, multiplied when negative). */
  private applyPenalty(logits: ArrayLike<number>, penalty: number): Float32Array {
    const copy = Float32Array.from(logits);
    for (const token of this.seen) {
      if (token < 0 || token >= copy.length) continue;
      const value = copy[token]!;
      copy[token] = value > 0 ? value / penalty : value * penalty;
    }
    return copy;
  }
}

/** Index of the largest value; the lowest index wins ties (same as numpy/torch argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value > bestValue) { bestValue = value; best = i; }
  }
  return best;
}

/** Indices of the `k` largest values, largest first (ties: lower index first). */
function topCandidates(values: ArrayLike<number>, k: number): number[] {
  const count = Math.min(k, values.length);
  if (count >= values.length / 4) {
    const all = Array.from({ length: values.length }, (_, i) => i);
    all.sort((a, b) => values[b]! - values[a]! || a - b);
    return all.slice(0, count);
  }
  // Small k over a large vocabulary: keep a sorted list of the best k seen so far.
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (best.length === count && value <= values[best[count - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && values[best[at - 1]!]! < value) at--;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return best;
}
