import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** One file of patterns, applying to paths under `dir` (relative to the work tree, '' for its root). */
interface RuleLevel {
  dir: string;
  rules: Ignore;
  /** Where the patterns came from, for skip reasons. */
  source: string;
  /** The next shallower level (linked list: each directory shares its parent's chain). */
  parent: RuleLevel | undefined;
}

export type Verdict = 'ignored' | 'unignored' | 'unmatched';

function verdictOf(level: RuleLevel, path: string, isDir: boolean): Verdict {
  if (level.dir !== '' && !path.startsWith(level.dir + '/')) return 'unmatched';
  const relative = level.dir === '' ? path : path.slice(level.dir.length + 1);
  const result = level.rules.test(isDir ? relative + '/' : relative);
  return result.ignored ? 'ignored' : result.unignored ? 'unignored' : 'unmatched';
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
      const rules = compiledRules(file, ignoreCase);
      if (rules) base.push({ dir: '', rules, source: file, parent: undefined });
    }
    const settings = settingsPatterns.length > 0
      ? { dir: settingsDir, rules: ignore({ ignorecase: ignoreCase }).add(settingsPatterns), source: 'the prolong.pack.exclude setting', parent: undefined }
      : undefined;
    return new IgnoreRules(ignoreCase, undefined, base, undefined, settings);
  }

  /** The rules for entries of `dir` (work-tree relative), after reading its `.gitignore` and `.prolongignore`. */
  enterDirectory(dir: string, absoluteDir: string): IgnoreRules {
    const git = this.level(dir, join(absoluteDir, '.gitignore'), this.gitChain);
    const prolong = this.level(dir, join(absoluteDir, '.prolongignore'), this.prolongChain);
    if (git === this.gitChain && prolong === this.prolongChain) return this;
    return new IgnoreRules(this.ignoreCase, git, this.gitBase, prolong, this.settingsLevel);
  }

  private level(dir: string, file: string, parent: RuleLevel | undefined): RuleLevel | undefined {
    const rules = compiledRules(file, this.ignoreCase);
    if (!rules) return parent;
    return { dir, rules, source: file, parent };
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
  rules: Ignore;
}

/** Most ignore files remembered; past it the memory starts over (a bound for long sessions over many folders). */
const MAX_COMPILED = 20_000;
const compiled = new Map<string, CompiledFile>();

/**
 * The compiled patterns of an ignore file, reused while the file is unchanged: the `ignore` package remembers
 * every path it has judged, so re-packs answer most checks from that memory. Undefined when the file is absent;
 * an unreadable one counts as absent, as git treats it.
 */
function compiledRules(file: string, ignoreCase: boolean): Ignore | undefined {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return undefined;
  }
  const key = `${ignoreCase ? 'i' : 's'}${file}`;
  const known = compiled.get(key);
  if (known && known.size === stats.size && known.mtimeMs === stats.mtimeMs && known.ctimeMs === stats.ctimeMs) return known.rules;
  let patterns: string;
  try {
    patterns = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  const rules = ignore({ ignorecase: ignoreCase }).add(patterns);
  compiled.set(key, { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, rules });
  return rules;
}
