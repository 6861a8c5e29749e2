/**
 * The token-budget policy. When the repository does not fit, whole files are dropped, never truncated (a cut file
 * misleads more than a missing one). Questions are about the code, so the files least likely to be what a question
 * is about go first: by kind (tests, examples, fixtures, benchmarks, docs, generated data), then the project's own
 * code; within a kind the largest first, since each frees the most room while keeping as many files as possible.
 * Pinned files (open in editors, the selection's file) are never dropped. Dropped files are then taken back, most
 * valuable kind and smallest first, while they still fit. The pack order of the files that stay is unchanged. The
 * report lists every dropped file with its token count and kind.
 */
export interface BudgetItem {
  path: string;
  tokens: number;
}

/** What a file is, for the budget: the order in which kinds are dropped. 'code' (the rest) goes last. */
export type FileKind = 'generated data' | 'benchmarks' | 'fixtures' | 'examples' | 'tests' | 'docs' | 'code';

/** Kinds in drop order: the first is dropped first. */
export const DROP_ORDER: readonly FileKind[] = ['generated data', 'benchmarks', 'fixtures', 'examples', 'tests', 'docs', 'code'];

const DIR = (names: string): RegExp => new RegExp(`(?:^|/)(?:${names})/`, 'i');
const FIXTURE_DIR = DIR('fixtures?|testdata|test-data|__fixtures__|__snapshots__|snapshots|golden|mocks?|__mocks__');
const BENCH_DIR = DIR('bench|benches|benchmarks?|perf');
const EXAMPLE_DIR = DIR('examples?|samples?|demos?|playground|tutorials?|cookbook');
const TEST_DIR = DIR('tests?|__tests__|spec|specs|e2e|integration-tests?|testing');
const DOC_DIR = DIR('docs?|documentation|site|website|man');
const TEST_NAME = /(?:^test_.*|.*_test\.[^.]+|.*[._-](?:test|spec)s?\.[^.]+|^conftest\.py)$/i;
const BENCH_NAME = /(?:^bench_.*|.*_bench(?:mark)?\.[^.]+|.*\.bench\.[^.]+)$/i;
const DOC_NAME = /\.(?:md|markdown|mdx|rst|adoc|asciidoc|txt)$/i;
const DATA_NAME = /\.(?:csv|tsv|jsonl|ndjson|parquet|arrow|snap|svg|xml|dat|log)$/i;
/** Top-level prose that says what the project is: kept with the code. */
const CORE_DOC = /^(?:README|CONTRIBUTING|ARCHITECTURE|DEVELOPERS?)(?:\.[a-z]+)?$/i;

/** The kind of a repository-relative path ('/' separators), by its directories and name. */
export function fileKind(path: string): FileKind {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (DATA_NAME.test(name)) return 'generated data';
  if (BENCH_DIR.test(path) || BENCH_NAME.test(name)) return 'benchmarks';
  if (FIXTURE_DIR.test(path)) return 'fixtures';
  if (EXAMPLE_DIR.test(path)) return 'examples';
  if (TEST_DIR.test(path) || TEST_NAME.test(name)) return 'tests';
  if (DOC_DIR.test(path)) return 'docs';
  if (DOC_NAME.test(name)) return path.includes('/') || !CORE_DOC.test(name) ? 'docs' : 'code';
  return 'code';
}

/** Most tokens first; ties by path, so the order never depends on the input's. */
export function largestFirst(a: BudgetItem, b: BudgetItem): number {
  return b.tokens - a.tokens || (a.path < b.path ? -1 : 1);
}

export interface DroppedItem extends BudgetItem {
  kind: FileKind;
}

export interface BudgetOutcome {
  kept: Set<string>;
  /** In drop order (kind, then largest first). */
  dropped: DroppedItem[];
}

export interface BudgetOptions {
  /** Paths never dropped (open editors, the selection's file); they count against the budget all the same. */
  pinned?: ReadonlySet<string> | readonly string[];
}

export function applyTokenBudget(items: readonly BudgetItem[], available: number, options: BudgetOptions = {}): BudgetOutcome {
  const pinned = new Set(options.pinned ?? []);
  let total = 0;
  for (const item of items) total += item.tokens;
  const kept = new Set(items.map((item) => item.path));
  if (total <= available) return { kept, dropped: [] };
  const rank = (kind: FileKind): number => DROP_ORDER.indexOf(kind);
  const candidates: DroppedItem[] = items.filter((item) => !pinned.has(item.path))
    .map((item) => ({ path: item.path, tokens: item.tokens, kind: fileKind(item.path) }));
  const dropOrder = (a: DroppedItem, b: DroppedItem): number => rank(a.kind) - rank(b.kind) || largestFirst(a, b);
  candidates.sort(dropOrder);
  const dropped: DroppedItem[] = [];
  for (const item of candidates) {
    if (total <= available) break;
    kept.delete(item.path);
    dropped.push(item);
    total -= item.tokens;
  }
  // take back what still fits: the most valuable kinds first, smallest first within a kind
  const stillDropped: DroppedItem[] = [];
  const takeBack = [...dropped].sort((a, b) => rank(b.kind) - rank(a.kind) || a.tokens - b.tokens || (a.path < b.path ? -1 : 1));
  for (const item of takeBack) {
    if (total + item.tokens <= available) {
      kept.add(item.path);
      total += item.tokens;
    } else stillDropped.push(item);
  }
  stillDropped.sort(dropOrder);
  return { kept, dropped: stillDropped };
}

/** Dropped files counted by kind, in drop order, e.g. "12 tests, 3 docs". */
export function droppedByKind(dropped: readonly { path: string; kind?: FileKind }[]): { kind: FileKind; files: number }[] {
  const counts = new Map<FileKind, number>();
  for (const item of dropped) {
    const kind = item.kind ?? fileKind(item.path);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return DROP_ORDER.filter((kind) => counts.has(kind)).map((kind) => ({ kind, files: counts.get(kind)! }));
}

/** "12 tests, 3 docs, 1 code" for a report line; '' for none. */
export function describeDropped(dropped: readonly { path: string; kind?: FileKind }[]): string {
  return droppedByKind(dropped).map(({ kind, files }) => `${files} ${kind === 'code' ? (files === 1 ? 'code file' : 'code files') : kind}`).join(', ');
}

/**
 * Left-out files a question or answer names: by full path, or by file name when that name is unique among the
 * dropped files and at least 4 characters long with an extension (so "index" or "a.js" alone does not match).
 */
export function namedDroppedFiles(text: string, dropped: readonly string[]): string[] {
  const found: string[] = [];
  const names = new Map<string, string[]>();
  for (const path of dropped) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    names.set(name, [...(names.get(name) ?? []), path]);
  }
  for (const path of dropped) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (mentions(text, path)) found.push(path);
    else if (name.length >= 6 && name.includes('.') && names.get(name)!.length === 1 && mentions(text, name)) found.push(path);
  }
  return found;
}

function mentions(text: string, word: string): boolean {
  let at = text.indexOf(word);
  while (at >= 0) {
    const before = at === 0 ? '' : text[at - 1]!;
    const after = text[at + word.length] ?? '';
    if (!/[\w.\-/]/.test(before) && !/[\w\-/]/.test(after)) return true;
    at = text.indexOf(word, at + 1);
  }
  return false;
}
