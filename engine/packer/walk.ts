import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { findGitRepo, globalExcludesFile, gitIgnoreCase, readGitIndex, toPosixRelative, GITLINK_MODE, type GitEnvironment } from './gitRepo';
import { IgnoreRules } from './ignoreRules';
import { IncludeOverrides, isVendoredDirectoryName, pathSkipReason } from './classify';

/** A file the walk found and git would list: its content decides the rest. */
export interface Candidate {
  /** Relative to the packed directory, '/' separators. */
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface SkippedFile {
  /** Relative to the packed directory; directories end with '/'. */
  path: string;
  reason: string;
}

export interface WalkOptions {
  root: string;
  /** Files larger than this are skipped. */
  maxFileBytes: number;
  /** Extra gitignore-style exclusions (the prolong.pack.exclude setting), relative to root. */
  exclude?: readonly string[];
  /** Patterns forcing files past the path heuristics (prolong.pack.include). */
  include?: readonly string[];
  /** Where to look for the user's git config and global excludes (tests point it at a temporary home). */
  gitEnvironment?: GitEnvironment;
  /** Directory listing; tests inject a shuffling one to prove the order never depends on it. */
  listDirectory?: (path: string) => Dirent[];
}

export interface WalkResult {
  candidates: Candidate[];
  skipped: SkippedFile[];
  /** True when a git repository was found and its rules and index were applied. */
  git: boolean;
}

const defaultList = (path: string): Dirent[] => readdirSync(path, { withFileTypes: true });

/** Byte-order comparison, independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists the files of `root` that `git ls-files --cached --others --exclude-standard` would list (for a directory
 * that is not in a git repository: what the .gitignore files leave), minus those skipped with a stated reason.
 * Symlinks are entries, as in git: one to a file inside the root that is itself packed is packed with the target's
 * content; one to any other file, to a directory, outside the root, broken or looping is skipped. The result is
 * sorted by path, whatever the listing order.
 */
export function walkRepository(options: WalkOptions): WalkResult {
  const root = resolve(options.root);
  const realRoot = realpathSync(root);
  const repo = findGitRepo(root);
  const workTree = repo?.workTree ?? root;
  const prefix = toPosixRelative(workTree, root); // '' when root is the work tree
  const list = options.listDirectory ?? defaultList;
  const overrides = new IncludeOverrides(options.include ?? []);

  const tracked = new Map<string, number>(); // work-tree path -> mode
  const trackedDirs = new Set<string>();
  if (repo) {
    for (const entry of readGitIndex(repo)) {
      if (prefix && !entry.path.startsWith(prefix + '/')) continue;
      tracked.set(entry.path, entry.mode);
      for (let i = entry.path.indexOf('/'); i !== -1; i = entry.path.indexOf('/', i + 1)) trackedDirs.add(entry.path.slice(0, i));
    }
  }
  const excludeFiles = repo ? [join(repo.commonDir, 'info', 'exclude'), globalExcludesFile(repo, options.gitEnvironment)] : [];
  let rules = IgnoreRules.create(gitIgnoreCase(repo), excludeFiles.filter((f): f is string => f !== undefined), [...(options.exclude ?? [])], prefix);
  rules = rules.enterDirectory('', workTree);
  // Per-directory ignore files of the ancestors between the work tree and root apply too. Rules judge each path
  // alone (the walk prunes ignored directories), so the ancestors are judged here as the walk would have: under an
  // ignored one git lists only tracked files, whatever negations deeper .gitignore files hold.
  let rootIgnored = false;
  let rootExcludedBy: string | undefined;
  const segments = prefix === '' ? [] : prefix.split('/');
  for (let i = 0; i < segments.length && !rootIgnored && !rootExcludedBy; i++) {
    const dir = segments.slice(0, i + 1).join('/');
    rootIgnored = rules.gitIgnored(dir, true);
    rootExcludedBy = rules.excludedBy(dir, true);
    if (!rootIgnored && !rootExcludedBy) rules = rules.enterDirectory(dir, join(workTree, ...segments.slice(0, i + 1)));
  }

  const candidates: Candidate[] = [];
  const skipped: SkippedFile[] = [];
  const seenTracked = new Set<string>();
  /** Directories skipped as a whole (work-tree paths): their tracked files are covered by the directory's entry. */
  const skippedDirs = new Set<string>();
  /** Symlinks to resolve once the walk knows which files it packs. */
  const symlinks: { path: string; absolute: string }[] = [];
  const toRootRelative = (repoPath: string): string => (prefix === '' ? repoPath : repoPath.slice(prefix.length + 1));
  const skip = (repoPath: string, reason: string, isDir = false): void => {
    if (isDir) skippedDirs.add(repoPath);
    const path = toRootRelative(repoPath);
    skipped.push({ path: isDir ? (path === '' ? './' : path + '/') : path, reason });
  };

  /** Walks a directory; `parentRules` are its parent's (its own ignore files are read here, after the listing). */
  const visit = (absoluteDir: string, dir: string, parentRules: IgnoreRules, insideIgnored: boolean): void => {
    let entries: Dirent[];
    try {
      entries = list(absoluteDir);
    } catch (error) {
      skip(dir, `unreadable directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, true);
      return;
    }
    const isRoot = dir === prefix;
    if (!isRoot && !insideIgnored && entries.some((entry) => entry.name === '.git')) {
      skip(dir, 'nested git repository', true);
      return;
    }
    const hasIgnoreFile = entries.some((entry) => entry.name === '.gitignore' || entry.name === '.prolongignore');
    const dirRules = isRoot || insideIgnored || !hasIgnoreFile ? parentRules : parentRules.enterDirectory(dir, absoluteDir);
    entries.sort((a, b) => compareNames(a.name, b.name));
    for (const entry of entries) {
      const name = entry.name;
      if (name === '.git') continue;
      const path = dir === '' ? name : `${dir}/${name}`;
      const absolute = absoluteDir + sep + name;
      if (entry.isDirectory()) {
        const ignored = insideIgnored || dirRules.gitIgnored(path, true);
        if (ignored && !trackedDirs.has(path)) continue;
        if (tracked.get(path) === GITLINK_MODE) { seenTracked.add(path); skip(path, 'git submodule', true); continue; }
        const excludedBy = dirRules.excludedBy(path, true);
        if (excludedBy) { skip(path, `excluded by ${describeSource(excludedBy, workTree)}`, true); continue; }
        // One entry for a whole vendored directory, unless include patterns might force files inside it.
        if (!ignored && isVendoredDirectoryName(name) && overrides.empty) { skip(path, 'vendored', true); continue; }
        if (hasInvalidName(name, absolute)) { skip(path, INVALID_NAME, true); continue; }
        visit(absolute, path, dirRules, ignored);
        continue;
      }
      const isTracked = tracked.has(path);
      if (isTracked) seenTracked.add(path);
      else if (insideIgnored || dirRules.gitIgnored(path, false)) continue;
      const excludedBy = dirRules.excludedBy(path, false);
      if (excludedBy) { skip(path, `excluded by ${describeSource(excludedBy, workTree)}`); continue; }
      const relative = toRootRelative(path);
      const heuristic = pathSkipReason(relative);
      if (heuristic && !overrides.forced(relative)) { skip(path, heuristic); continue; }
      if (hasInvalidName(name, absolute)) { skip(path, INVALID_NAME); continue; }
      if (entry.isSymbolicLink()) {
        symlinks.push({ path, absolute });
      } else if (entry.isFile()) {
        let stats;
        try {
          stats = statSync(absolute);
        } catch (error) {
          skip(path, `unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
          continue;
        }
        addFile(path, absolute, stats);
      } else {
        skip(path, 'not a regular file');
      }
    }
  };

  const addFile = (path: string, absolute: string, stats: FileStats): void => {
    if (stats.size > options.maxFileBytes) {
      skip(path, `too large (${stats.size} bytes; the limit is ${options.maxFileBytes}: the setting prolong.pack.maxFileBytes, or --max-file-bytes of prolong pack)`);
      return;
    }
    candidates.push({ path: toRootRelative(path), absolute, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs });
  };

  if (rootExcludedBy) skip(prefix, `excluded by ${describeSource(rootExcludedBy, workTree)}`, true);
  else visit(root, prefix, rules, rootIgnored);

  // A symlink is packed only when its target is: otherwise a link would carry in what git ignores or the pack
  // leaves out (`env.example -> .env`).
  const packed = new Set(symlinks.length > 0 ? candidates.map((c) => c.path) : []);
  const reasons = new Map(symlinks.length > 0 ? skipped.map((s) => [s.path, s.reason]) : []);
  for (const link of symlinks) {
    const target = resolveSymlink(link.absolute, realRoot);
    if (typeof target === 'string') { skip(link.path, target); continue; }
    if (!packed.has(target.path)) { skip(link.path, `symlink to ${target.path}, which is not packed${whyNotPacked(target.path, reasons)}`); continue; }
    addFile(link.path, link.absolute, target.stats);
  }

  for (const path of tracked.keys()) {
    if (!seenTracked.has(path) && !underSkippedDirectory(path, skippedDirs)) skip(path, 'tracked by git but missing from the working tree');
  }
  candidates.sort((a, b) => compareNames(a.path, b.path));
  skipped.sort((a, b) => compareNames(a.path, b.path));
  return { candidates, skipped, git: repo !== undefined };
}

const INVALID_NAME = 'file name is not valid UTF-8; rename it';

/**
 * Node decodes names as UTF-8, turning invalid bytes into U+FFFD, and the decoded name then names no file.
 * (A name really holding U+FFFD still exists, so it is not reported.)
 */
function hasInvalidName(name: string, absolute: string): boolean {
  return name.includes('\ufffd') && lstatSync(absolute, { throwIfNoEntry: false }) === undefined;
}

function underSkippedDirectory(path: string, skippedDirs: Set<string>): boolean {
  for (let i = path.lastIndexOf('/'); i !== -1; i = path.lastIndexOf('/', i - 1)) {
    if (skippedDirs.has(path.slice(0, i))) return true;
  }
  return false;
}

/** Why a symlink's target is not packed: its own skip reason, or that of a skipped directory holding it. */
function whyNotPacked(target: string, reasons: Map<string, string>): string {
  const own = reasons.get(target);
  if (own !== undefined) return ` (${own})`;
  for (let i = target.lastIndexOf('/'); i !== -1; i = target.lastIndexOf('/', i - 1)) {
    const reason = reasons.get(target.slice(0, i + 1));
    if (reason !== undefined) return ` (under ${target.slice(0, i + 1)}: ${reason})`;
  }
  if (target === '.git' || target.startsWith('.git/') || target.includes('/.git/')) return ' (inside .git)';
  return ' (ignored by git)';
}

function describeSource(source: string, workTree: string): string {
  return source.startsWith(workTree + sep) ? toPosixRelative(workTree, source) : source;
}

interface FileStats {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** The target (root-relative) and its stats when it is a file inside the root; otherwise why the symlink is skipped. */
function resolveSymlink(absolute: string, realRoot: string): { path: string; stats: FileStats } | string {
  let target: string;
  try {
    target = realpathSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'symlink loop';
    if (code === 'ENOENT') return 'broken symlink';
    return `unreadable symlink (${code ?? (error as Error).message})`;
  }
  if (target !== realRoot && !target.startsWith(realRoot + sep)) return 'symlink points outside the repository';
  let stats;
  try {
    stats = lstatSync(target);
  } catch (error) {
    // The target went away (an atomic save, a build cleaning up) between the two calls.
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'broken symlink' : `unreadable symlink (${code ?? (error as Error).message})`;
  }
  if (stats.isDirectory()) return 'symlink to a directory (git stores the link, not the directory)';
  if (!stats.isFile()) return 'symlink to something that is not a regular file';
  return { path: toPosixRelative(realRoot, target), stats };
}
