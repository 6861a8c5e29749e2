/**
 * Sizes a haystack so that prompt + output budget fits the target length (RULER's binary search), without
 * re-tokenizing the whole prompt at every step: the search runs on a cheap estimate (per-unit token counts),
 * then the real prompt is counted exactly and the estimate corrected by the difference, a few times at most.
 */
export interface FitOptions<T> {
  /** Most prompt tokens allowed (target length minus the output budget). */
  budget: number;
  /** Fewest and most haystack units. */
  minUnits: number;
  maxUnits: number;
  /** Estimated prompt tokens with `units` haystack units; must not decrease as `units` grows. */
  estimate(units: number): number;
  build(units: number): T;
  /** Exact prompt tokens of a built prompt. */
  count(built: T): number;
}

export interface Fitted<T> {
  built: T;
  units: number;
  promptTokens: number;
}

/** The largest `units` whose exact count fits the budget (as found through the corrected estimate), or undefined. */
export function fitToBudget<T>(options: FitOptions<T>): Fitted<T> | undefined {
  let best: Fitted<T> | undefined;
  let correction = 0;
  const tried = new Set<number>();
  for (let attempt = 0; attempt < 8; attempt++) {
    const units = largestUnitsWithin(options, options.budget - correction);
    if (tried.has(units)) break;
    tried.add(units);
    const built = options.build(units);
    const promptTokens = options.count(built);
    if (promptTokens <= options.budget && (!best || units > best.units)) best = { built, units, promptTokens };
    correction = promptTokens - options.estimate(units);
  }
  // Where the estimate's error varies with the size (haystacks redrawn per size), step up on exact counts.
  for (let step = 1; best && best.units + step <= options.maxUnits && options.budget - best.promptTokens > options.budget * 0.005; step *= 2) {
    const units = best.units + step;
    const built = options.build(units);
    const promptTokens = options.count(built);
    if (promptTokens > options.budget) break;
    best = { built, units, promptTokens };
  }
  return best;
}

/** Exponential then binary search on the estimate; minUnits when even that is over. */
function largestUnitsWithin<T>(options: FitOptions<T>, limit: number): number {
  const { minUnits, maxUnits } = options;
  if (options.estimate(minUnits) > limit) return minUnits;
  let low = minUnits;
  let high = minUnits;
  let step = 1;
  while (high < maxUnits) {
    const next = Math.min(maxUnits, minUnits + step);
    if (options.estimate(next) > limit) { high = next; break; }
    low = next;
    high = next;
    step *= 2;
  }
  if (low === high) return low;
  // estimate(low) <= limit < estimate(high)
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (options.estimate(mid) <= limit) low = mid; else high = mid;
  }
  return low;
}

/** Cumulative token counts of a lazily produced unit sequence: tokens(n) = sum of the first n units' counts. */
export class CumulativeCounts {
  private readonly sums = [0];

  constructor(private readonly unitTokens: (index: number) => number) {}

  tokens(units: number): number {
    while (this.sums.length <= units) {
      const index = this.sums.length - 1;
      this.sums.push(this.sums[index]! + this.unitTokens(index));
    }
    return this.sums[units]!;
  }

  /** The largest n whose cumulative count is at most `tokens` (n <= known units). */
  unitsWithin(tokens: number, maxUnits: number): number {
    this.tokens(maxUnits);
    let low = 0;
    let high = maxUnits;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (this.sums[mid]! <= tokens) low = mid; else high = mid - 1;
    }
    return low;
  }
}
