/**
 * The token-budget policy. When the repository does not fit, whole files are dropped, never truncated (a cut file
 * misleads more than a missing one): the largest files first, since each frees the most room while keeping as many
 * files as possible; then dropped files are taken back, smallest first, while they still fit. The pack order of
 * the files that stay is unchanged. The report lists every dropped file with its token count.
 */
export interface BudgetItem {
  path: string;
  tokens: number;
}

/** Most tokens first; ties by path, so the order never depends on the input's. */
export function largestFirst(a: BudgetItem, b: BudgetItem): number {
  return b.tokens - a.tokens || (a.path < b.path ? -1 : 1);
}

export interface BudgetOutcome {
  kept: Set<string>;
  dropped: BudgetItem[];
}

export function applyTokenBudget(items: readonly BudgetItem[], available: number): BudgetOutcome {
  let total = 0;
  for (const item of items) total += item.tokens;
  const kept = new Set(items.map((item) => item.path));
  if (total <= available) return { kept, dropped: [] };
  const bySize = [...items].sort(largestFirst);
  const dropped: BudgetItem[] = [];
  for (const item of bySize) {
    if (total <= available) break;
    kept.delete(item.path);
    dropped.push(item);
    total -= item.tokens;
  }
  const stillDropped: BudgetItem[] = [];
  for (const item of [...dropped].reverse()) {
    if (total + item.tokens <= available) {
      kept.add(item.path);
      total += item.tokens;
    } else stillDropped.push(item);
  }
  stillDropped.sort(largestFirst);
  return { kept, dropped: stillDropped };
}
