import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** One file of patterns, applying to paths under `dir` (relative to the work tree, '' for its root). */
interface RuleLevel {
  dir: string;
  file: CompiledFile;
  /** Where the patterns came from, for skip reasons. */
  source: string;
  /** The next shallower level (linked list: each directory shares its parent's chain). */
  parent: RuleLevel | undefined;
}

export type Verdict = 'ignored' | 'unignored' | 'unmatched';

/**
 * What this level's file says about `path` itself. Git matches each path only against the patterns: a path under
 * an ignored directory is left out because the walk never enters that directory, not by a match. The walk prunes
 * directories the same way, so a level must not also judge the parents.
 */
function verdictOf(level: RuleLevel, path: string, isDir: boolean): Verdict {
  if (level.dir !== '' && !path.startsWith(level.dir + '/')) return 'unmatched';
  const relative = level.dir === '' ? path : path.slice(level.dir.length + 1);
  const subject = isDir ? relative + '/' : relative;
  const result = level.file.rules.test(subject);
  if (!result.ignored) return result.unignored ? 'unignored' : 'unmatched';
  // test() also calls a path ignored when this file ignores one of its parent directories. The walk only gets here
  // if the parent was kept (a deeper file re-included it, e.g. `!foo/` under a root `foo/`), so the path's own
  // match decides.
  const slash = relative.lastIndexOf('/');
  if (slash === -1 || !level.file.rules.test(relative.slice(0, slash + 1)).ignored) return 'ignored';
  return ownVerdict(level.file, subject);
}

/** The last pattern of the file matching `subject` itself (not its parents) decides. */
function ownVerdict(file: CompiledFile, subject: string): Verdict {
  file.patterns ??= file.lines.map((line) => {
    const negative = line.startsWith('!');
    // A rule set of one negative pattern never ignores a parent, so its `unignored` is a match of the path itself.
    return { negative, match: ignore({ ignorecase: file.ignoreCase }).add(negative ? line : '!' + line) };
  });
  for (let i = file.patterns.length - 1; i >= 0; i--) {
    const pattern = file.patterns[i]!;
    if (pattern.match.test(subject).unignored) return pattern.negative ? 'unignored' : 'ignored';
  }
  return 'unmatched';
}

/**
 * Git's ignore precedence: per-directory files from the deepest directory up to the root (within a file the last
 * matching pattern wins), then $GIT_DIR/info/exclude, then the global excludes file.
 * A second, independent chain holds the project's own `.prolongignore` files and the user's setting patterns.
 */
export class IgnoreRules {
  private constructor(
    private readonly ignoreCase: boolean,
    private readonly gitChain: RuleLevel | undefined,
    private readonly gitBase: RuleLevel[],
    private readonly prolongChain: RuleLevel | undefined,
    private readonly settingsLevel: RuleLevel | undefined,
  ) {}

  /**
   * @param excludeFiles lowest-precedence files applying from the work-tree root, highest first
   *   (info/exclude, then the global excludes file).
   * @param settingsPatterns the user's extra exclude patterns (highest precedence), relative to `settingsDir`.
   */
  static create(ignoreCase: boolean, excludeFiles: string[], settingsPatterns: string[], settingsDir = ''): IgnoreRules {
    const base: RuleLevel[] = [];
    for (const file of excludeFiles) {
      const rules = compiledRules(file, ignoreCase, false);
      if (rules) base.push({ dir: '', file: rules, source: file, parent: undefined });
    }
    const settings = settingsPatterns.length > 0
      ? { dir: settingsDir, file: compile(settingsPatterns.join('\n'), ignoreCase), source: 'the prolong.pack.exclude setting', parent: undefined }
      : undefined;
    return new IgnoreRules(ignoreCase, undefined, base, undefined, settings);
  }

  /** The rules for entries of `dir` (work-tree relative), after reading its `.gitignore` and `.prolongignore`. */
  enterDirectory(dir: string, absoluteDir: string): IgnoreRules {
    // Git refuses a .gitignore that is a symlink (it opens in-tree ignore files without following links).
    const git = this.level(dir, join(absoluteDir, '.gitignore'), this.gitChain, true);
    const prolong = this.level(dir, join(absoluteDir, '.prolongignore'), this.prolongChain, false);
    if (git === this.gitChain && prolong === this.prolongChain) return this;
    return new IgnoreRules(this.ignoreCase, git, this.gitBase, prolong, this.settingsLevel);
  }

  private level(dir: string, file: string, parent: RuleLevel | undefined, refuseSymlink: boolean): RuleLevel | undefined {
    const rules = compiledRules(file, this.ignoreCase, refuseSymlink);
    if (!rules) return parent;
    return { dir, file: rules, source: file, parent };
  }

  /** Whether git ignores `path` (work-tree relative). */
  gitIgnored(path: string, isDir: boolean): boolean {
    for (let level = this.gitChain; level; level = level.parent) {
      const verdict = verdictOf(level, path, isDir);
      if (verdict !== 'unmatched') return verdict === 'ignored';
    }
    for (const level of this.gitBase) {
      const verdict = verdictOf(level, path, isDir);
      if (verdict !== 'unmatched') return verdict === 'ignored';
    }
    return false;
  }

  /** The source of the project/user exclusion that leaves `path` out, or undefined. */
  excludedBy(path: string, isDir: boolean): string | undefined {
    if (this.settingsLevel && verdictOf(this.settingsLevel, path, isDir) === 'ignored') return this.settingsLevel.source;
    for (let level = this.prolongChain; level; level = level.parent) {
      const verdict = verdictOf(level, path, isDir);
      if (verdict === 'ignored') return level.source;
      if (verdict === 'unignored') return undefined;
    }
    return undefined;
  }
}

interface CompiledFile {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ignoreCase: boolean;
  rules: Ignore;
  /** The file's pattern lines (comments and blank lines left out), for ownVerdict. */
  lines: string[];
  /** One matcher per line, built on first need (rare: only under a parent ignored here and re-included deeper). */
  patterns?: { negative: boolean; match: Ignore }[];
}

/** Most ignore files remembered; past it the memory starts over (a bound for long sessions over many folders). */
const MAX_COMPILED = 20_000;
const compiled = new Map<string, CompiledFile>();

function compile(patterns: string, ignoreCase: boolean, stats = { size: 0, mtimeMs: 0, ctimeMs: 0 }): CompiledFile {
  const text = patterns.startsWith('\ufeff') ? patterns.slice(1) : patterns;
  const lines = text.replace(/\r$/, '').split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ignoreCase, rules: ignore({ ignorecase: ignoreCase }).add(patterns), lines };
}

/**
 * The compiled patterns of an ignore file, reused while the file is unchanged: the `ignore` package remembers
 * every path it has judged, so re-packs answer most checks from that memory. Undefined when the file is absent;
 * an unreadable one (or a symlink, with `refuseSymlink`) counts as absent, as git treats it.
 */
function compiledRules(file: string, ignoreCase: boolean, refuseSymlink: boolean): CompiledFile | undefined {
  let stats;
  try {
    stats = refuseSymlink ? lstatSync(file) : statSync(file);
  } catch {
    return undefined;
  }
  if (stats.isSymbolicLink()) return undefined;
  const key = `${ignoreCase ? 'i' : 's'}${file}`;
  const known = compiled.get(key);
  if (known && known.size === stats.size && known.mtimeMs === stats.mtimeMs && known.ctimeMs === stats.ctimeMs) return known;
  let patterns: string;
  try {
    patterns = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  const rules = compile(patterns, ignoreCase, stats);
  compiled.set(key, rules);
  return rules;
}
