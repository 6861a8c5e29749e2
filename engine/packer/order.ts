import { MinHeap } from '../util/minHeap';

export type PackOrder = 'path' | 'dependency' | 'edit-aware';
export const PACK_ORDERS: readonly PackOrder[] = ['path', 'dependency', 'edit-aware'];

/**
 * A string whose plain comparison is the directory-first order: each directory segment is marked \u0001 and the
 * file segment \u0002, segments end with \u0000 (below any name character, so a shorter name sorts first).
 */
function directoryFirstKey(path: string): string {
  let key = sortKeys.get(path);
  if (key === undefined) {
    if (sortKeys.size >= MAX_SORT_KEYS) sortKeys.clear();
    sortKeys.set(path, (key = buildDirectoryFirstKey(path)));
  }
  return key;
}

/** Sort keys are remembered across packs (re-packs sort the same paths again); bounded for long sessions. */
const MAX_SORT_KEYS = 500_000;
const sortKeys = new Map<string, string>();

function buildDirectoryFirstKey(path: string): string {
  const segments = path.split('/');
  let key = '';
  for (let i = 0; i < segments.length - 1; i++) key += `\u0001${segments[i]}\u0000`;
  return key + `\u0002${segments[segments.length - 1]}`;
}

export function sortByPath(paths: readonly string[]): string[] {
  const keyed = paths.map((path) => ({ path, key: directoryFirstKey(path) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((item) => item.path);
}

/** Edit-aware order: files by the pack generation in which they last changed (oldest first), then by path. */
export function sortEditAware(paths: readonly string[], changedGeneration: (path: string) => number): string[] {
  const keyed = paths.map((path) => ({ path, generation: changedGeneration(path), key: directoryFirstKey(path) }));
  keyed.sort((a, b) => a.generation - b.generation || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((item) => item.path);
}

const IMPORTABLE = /\.(?:[cm]?[jt]sx?|py|pyi)$/;

export function canHaveImports(path: string): boolean {
  return IMPORTABLE.test(path) && !path.endsWith('.d.ts');
}

const JS_IMPORT = /(?:^|[^\w$.])(?:import|export)\s*(?:type\s+)?(?:[\w$*{}\s,]+?\s*from\s*)?['"]([^'"\n]+)['"]|(?:^|[^\w$.])(?:require|import)\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const PY_FROM = /^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\(?[\w*, \t\n\\]+\)?)/gm;
const PY_IMPORT = /^[ \t]*import[ \t]+([\w., \t]+)/gm;

/** Module specifiers a file imports (raw, unresolved): JS/TS `import`/`export from`/`require`, Python `import`/`from`. */
export function extractImports(path: string, text: string): string[] {
  const found: string[] = [];
  if (/\.pyi?$/.test(path)) {
    for (const m of text.matchAll(PY_FROM)) {
      const module = m[1]!;
      found.push(module);
      // `from pkg import name`: name may be a submodule.
      for (const name of m[2]!.replace(/[()\\\n]/g, ' ').split(',')) {
        const item = name.trim().split(/\s+/)[0];
        if (item && item !== '*') found.push(module.endsWith('.') ? module + item : `${module}.${item}`);
      }
    }
    for (const m of text.matchAll(PY_IMPORT)) {
      for (const name of m[1]!.split(',')) {
        const item = name.trim().split(/\s+/)[0];
        if (item) found.push(item);
      }
    }
  } else {
    for (const m of text.matchAll(JS_IMPORT)) found.push((m[1] ?? m[2])!);
  }
  return found;
}

const JS_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json'];

/** The repository file a specifier refers to, if it is one of `files`. */
export function resolveImport(importer: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const dir = importer.includes('/') ? importer.slice(0, importer.lastIndexOf('/')) : '';
  if (/\.pyi?$/.test(importer)) return resolvePython(dir, specifier, files);
  if (!specifier.startsWith('.')) return undefined; // packages and path aliases are outside the repository's files
  const base = joinPath(dir, specifier);
  if (base === undefined) return undefined;
  const stems = [base, base.replace(/\.(?:[cm]?js|jsx)$/, '')]; // TypeScript source imported as './x.js'
  for (const stem of stems) {
    if (files.has(stem)) return stem;
    for (const ext of JS_EXTENSIONS) if (files.has(stem + ext)) return stem + ext;
    for (const ext of JS_EXTENSIONS) if (files.has(`${stem}/index${ext}`)) return `${stem}/index${ext}`;
  }
  return undefined;
}

function resolvePython(dir: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const dots = /^\.*/.exec(specifier)![0].length;
  const modulePath = specifier.slice(dots).split('.').filter((s) => s !== '').join('/');
  const bases: string[] = [];
  if (dots > 0) {
    let base: string | undefined = dir;
    for (let i = 1; i < dots && base !== undefined; i++) base = base === '' ? undefined : base.slice(0, Math.max(0, base.lastIndexOf('/')));
    if (base === undefined) return undefined;
    bases.push(base);
  } else {
    bases.push('', 'src', 'lib');
  }
  for (const base of bases) {
    const stem = [base, modulePath].filter((s) => s !== '').join('/');
    if (stem === '') continue;
    for (const candidate of [`${stem}.py`, `${stem}.pyi`, `${stem}/__init__.py`]) if (files.has(candidate)) return candidate;
  }
  return undefined;
}

function joinPath(dir: string, relative: string): string | undefined {
  const parts = dir === '' ? [] : dir.split('/');
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(segment);
  }
  return parts.join('/');
}

/**
 * Dependency order: every file after the repository files it imports, ties (and what no import decides) in path
 * order. Cycles are broken by taking the first remaining file in path order.
 */
export function sortByDependencies(paths: readonly string[], importsOf: (path: string) => readonly string[]): string[] {
  const byPath = sortByPath(paths);
  const rank = new Map(byPath.map((p, i) => [p, i]));
  const files = new Set(byPath);
  const dependents = new Map<string, string[]>();
  const pending = new Map<string, number>();
  for (const path of byPath) {
    const deps = new Set<string>();
    for (const specifier of importsOf(path)) {
      const target = resolveImport(path, specifier, files);
      if (target !== undefined && target !== path) deps.add(target);
    }
    pending.set(path, deps.size);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(path);
      else dependents.set(dep, [path]);
    }
  }
  const ready = new MinHeap();
  for (const path of byPath) if (pending.get(path) === 0) ready.push(rank.get(path)!);
  const done = new Set<string>();
  const order: string[] = [];
  let nextUnvisited = 0;
  while (order.length < byPath.length) {
    let index = ready.pop();
    if (index === undefined) {
      // A cycle: release the first remaining file in path order.
      while (done.has(byPath[nextUnvisited]!)) nextUnvisited++;
      index = nextUnvisited;
    }
    const path = byPath[index]!;
    if (done.has(path)) continue;
    done.add(path);
    order.push(path);
    for (const dependent of dependents.get(path) ?? []) {
      const left = pending.get(dependent)! - 1;
      pending.set(dependent, left);
      if (left === 0 && !done.has(dependent)) ready.push(rank.get(dependent)!);
    }
  }
  return order;
}
