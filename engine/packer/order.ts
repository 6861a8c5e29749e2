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
 * order. Outside a cycle this always holds. Files that import each other, directly or through others (a strongly
 * connected component of the import graph), cannot all come after each other: when nothing else can go, the first
 * file in path order of a cycle whose outside imports are all placed goes next. A cycle never lets a file go before
 * an import that is not in its cycle.
 */
export function sortByDependencies(paths: readonly string[], importsOf: (path: string) => readonly string[]): string[] {
  const byPath = sortByPath(paths);
  const n = byPath.length;
  const rank = new Map(byPath.map((p, i) => [p, i]));
  const files = new Set(byPath);
  const deps: number[][] = byPath.map((path, i) => {
    const found = new Set<number>();
    for (const specifier of importsOf(path)) {
      const target = resolveImport(path, specifier, files);
      if (target !== undefined) found.add(rank.get(target)!);
    }
    found.delete(i);
    return [...found];
  });
  const { component, count } = stronglyConnectedComponents(deps);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const pending = new Int32Array(n);
  /** Per component: imports of its files from outside it that are not placed yet. */
  const outsidePending = new Int32Array(count);
  /** Per component: its files in path order, and how many of the leading ones are placed. */
  const members: number[][] = Array.from({ length: count }, () => []);
  const firstUnplaced = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    members[component[i]!]!.push(i);
    for (const dep of deps[i]!) {
      dependents[dep]!.push(i);
      pending[i]!++;
      if (component[dep] !== component[i]) outsidePending[component[i]!]!++;
    }
  }
  const ready = new MinHeap();
  /** Cycles whose outside imports are all placed, by their first file's rank. */
  const openCycles = new MinHeap();
  for (let i = 0; i < n; i++) if (pending[i] === 0) ready.push(i);
  for (let c = 0; c < count; c++) if (members[c]!.length > 1 && outsidePending[c] === 0) openCycles.push(members[c]![0]!);
  const done = new Uint8Array(n);
  const order: string[] = [];
  while (order.length < n) {
    let index = ready.pop();
    if (index === undefined) {
      // Every file left waits on another: break a cycle none of whose outside imports is left.
      for (;;) {
        const first = openCycles.pop();
        if (first === undefined) throw new Error('dependency order: no cycle to break (a bug)');
        const c = component[first]!;
        const list = members[c]!;
        while (firstUnplaced[c]! < list.length && done[list[firstUnplaced[c]!]!]) firstUnplaced[c]!++;
        if (firstUnplaced[c]! === list.length) continue;
        index = list[firstUnplaced[c]!]!;
        openCycles.push(first); // the cycle may need breaking again
        break;
      }
    }
    if (done[index]) continue;
    done[index] = 1;
    order.push(byPath[index]!);
    for (const dependent of dependents[index]!) {
      pending[dependent]!--;
      if (pending[dependent] === 0 && !done[dependent]) ready.push(dependent);
      const c = component[dependent]!;
      if (c !== component[index]) {
        outsidePending[c]!--;
        if (outsidePending[c] === 0 && members[c]!.length > 1) openCycles.push(members[c]![0]!);
      }
    }
  }
  return order;
}

/**
 * Tarjan's strongly connected components of a graph given as adjacency lists, without recursion (import chains
 * of thousands of files would overflow the stack). Returns each node's component number.
 */
export function stronglyConnectedComponents(edges: readonly (readonly number[])[]): { component: Int32Array; count: number } {
  const n = edges.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const component = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const callStack: number[] = [];
  const nextEdge = new Int32Array(n);
  let counter = 0;
  let count = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    callStack.push(root);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (callStack.length > 0) {
      const v = callStack[callStack.length - 1]!;
      const out = edges[v]!;
      if (nextEdge[v]! < out.length) {
        const w = out[nextEdge[v]!++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callStack.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      callStack.pop();
      if (callStack.length > 0) {
        const parent = callStack[callStack.length - 1]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component[w] = count;
        } while (w !== v);
        count++;
      }
    }
  }
  return { component, count };
}
