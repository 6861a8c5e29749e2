import { existsSync, readFileSync } from 'node:fs';
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
      const patterns = readPatterns(file);
      if (patterns) base.push({ dir: '', rules: ignore({ ignorecase: ignoreCase }).add(patterns), source: file, parent: undefined });
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
    const patterns = readPatterns(file);
    if (!patterns) return parent;
    return { dir, rules: ignore({ ignorecase: this.ignoreCase }).add(patterns), source: file, parent };
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

function readPatterns(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // an unreadable ignore file is treated as absent, like git does
  }
}
