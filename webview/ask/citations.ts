/**
 * Citations: file paths in an answer that name packed files (`src/a.ts`, `src/a.ts:12`, `src/a.ts:12-20`,
 * `src/a.ts#L12-L20`, or a shorter tail such as `a.ts` when exactly one packed file ends that way) become links.
 * Pure: used by the webview's renderer and by tests.
 */

export interface CitationTarget {
  /** The packed file's path, as the packer lists it (forward slashes, relative to the folder). */
  path: string;
  /** 1-based line the citation names, if any. */
  line?: number;
  endLine?: number;
}

export type CitationSegment = { kind: 'text'; text: string } | { kind: 'citation'; text: string; target: CitationTarget };

/** Looks up what a word in an answer refers to among the packed paths. */
export class PathIndex {
  private readonly exact: Set<string>;
  /** Tail ("lib/util.ts", "util.ts") → the paths ending with it; more than one means ambiguous. */
  private readonly tails = new Map<string, string[]>();

  constructor(paths: readonly string[]) {
    this.exact = new Set(paths);
    for (const path of paths) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const tail = parts.slice(i).join('/');
        const list = this.tails.get(tail);
        if (list) list.push(path);
        else this.tails.set(tail, [path]);
      }
    }
  }

  get size(): number {
    return this.exact.size;
  }

  /** The packed path `word` names, or undefined. Bare names need a dot (`util.ts`), so plain words never link. */
  resolve(word: string): string | undefined {
    const cleaned = word.replace(/^\.\//, '').replace(/^\/+/, '');
    if (cleaned === '') return undefined;
    if (this.exact.has(cleaned)) return cleaned;
    if (!cleaned.includes('/') && !cleaned.includes('.')) return undefined;
    const matches = this.tails.get(cleaned);
    return matches && matches.length === 1 ? matches[0] : undefined;
  }
}

/** Path-like words: letters, digits and `_@+-.` separated by slashes, not glued to a preceding path character. */
const PATH_WORD = /(?<![\w@+\-./\\])(?:\.\/)?[\w@+\-.]+(?:\/[\w@+\-.]+)*/g;
/** A line reference right after the path: `:12`, `:12-20`, `:12:5` (column ignored), `#L12`, `#L12-L20`. */
const LINE_SUFFIX = /^(?::(\d+)(?:[-–](\d+)|:\d+)?|#L(\d+)(?:-L?(\d+))?)(?![\w])/;

/** Splits `text` into plain text and citations of packed files. */
export function linkCitations(text: string, index: PathIndex): CitationSegment[] {
  const segments: CitationSegment[] = [];
  let plainStart = 0;
  if (index.size === 0) return text === '' ? [] : [{ kind: 'text', text }];
  for (const match of text.matchAll(PATH_WORD)) {
    let word = match[0];
    const start = match.index;
    // Sentence punctuation after a path ("see src/a.ts.") is not part of it.
    let path = index.resolve(word);
    while (!path && /[.\-]$/.test(word)) {
      word = word.slice(0, -1);
      path = index.resolve(word);
    }
    if (!path) continue;
    let end = start + word.length;
    const target: CitationTarget = { path };
    const suffix = word.length === match[0].length ? LINE_SUFFIX.exec(text.slice(end)) : null;
    if (suffix) {
      const line = Number(suffix[1] ?? suffix[3]);
      const endLine = suffix[2] ?? suffix[4];
      if (line > 0) {
        target.line = line;
        if (endLine === undefined || Number(endLine) >= line) {
          if (endLine !== undefined) target.endLine = Number(endLine);
          end += suffix[0].length;
        } else {
          end += suffix[1] !== undefined ? 1 + suffix[1].length : 2 + suffix[3]!.length; // a backwards range: the first line only
        }
      }
    }
    if (start > plainStart) segments.push({ kind: 'text', text: text.slice(plainStart, start) });
    segments.push({ kind: 'citation', text: text.slice(start, end), target });
    plainStart = end;
  }
  if (plainStart < text.length) segments.push({ kind: 'text', text: text.slice(plainStart) });
  return segments;
}

/**
 * The citation when the whole of `text` is one (an inline code span like `src/a.ts:3`), else undefined. Here the
 * path may hold any character (`my file.ts` in backticks), as long as it names a packed file exactly.
 */
export function wholeCitation(text: string, index: PathIndex): CitationTarget | undefined {
  const trimmed = text.trim();
  const suffix = /(?::(\d+)(?:[-–](\d+)|:\d+)?|#L(\d+)(?:-L?(\d+))?)$/.exec(trimmed);
  const exact = index.resolve(suffix ? trimmed.slice(0, suffix.index) : trimmed);
  if (exact && (suffix ? trimmed.slice(0, suffix.index) : trimmed) !== '') {
    const target: CitationTarget = { path: exact };
    const line = suffix ? Number(suffix[1] ?? suffix[3]) : 0;
    const endLine = suffix ? Number(suffix[2] ?? suffix[4] ?? 0) : 0;
    if (line > 0) target.line = line;
    if (line > 0 && endLine >= line) target.endLine = endLine;
    return target;
  }
  const segments = linkCitations(trimmed, index);
  return segments.length === 1 && segments[0]!.kind === 'citation' ? segments[0]!.target : undefined;
}
