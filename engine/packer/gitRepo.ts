import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { homedir } from 'node:os';

/** What the packer needs to know about the git repository a directory lives in. */
export interface GitRepo {
  /** The working tree's root (the directory holding `.git`). */
  workTree: string;
  /** The git directory (`.git`, or where a `.git` file points for worktrees and submodules). */
  gitDir: string;
  /** Shared git directory (differs from gitDir in linked worktrees): holds info/exclude and config. */
  commonDir: string;
}

/** Finds the git repository containing `dir`, walking up; undefined when there is none. */
export function findGitRepo(dir: string): GitRepo | undefined {
  let current = resolve(dir);
  for (;;) {
    const dotGit = join(current, '.git');
    if (existsSync(dotGit)) {
      const gitDir = statSync(dotGit).isDirectory() ? dotGit : readGitFile(dotGit);
      if (gitDir) {
        const commonFile = join(gitDir, 'commondir');
        const commonDir = existsSync(commonFile) ? resolve(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
        return { workTree: current, gitDir, commonDir };
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** A `.git` file ("gitdir: PATH") as used by linked worktrees and submodules. */
function readGitFile(path: string): string | undefined {
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(path, 'utf8'));
  if (!match) return undefined;
  return resolve(dirname(path), match[1]!);
}

export interface IndexEntry {
  path: string;
  /** Git file mode: 0o100644, 0o100755, 0o120000 (symlink), 0o160000 (gitlink: a submodule). */
  mode: number;
}

export const GITLINK_MODE = 0o160000;

/**
 * Reads the paths tracked in the git index (versions 2, 3 and 4), as `git ls-files --cached` lists them:
 * tracked files count even when an ignore rule matches them. Paths use '/' and are relative to the work tree.
 */
export function readGitIndex(gitDir: string): IndexEntry[] {
  const file = join(gitDir, 'index');
  if (!existsSync(file)) return [];
  const data = readFileSync(file);
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'DIRC') throw new Error(`${file} is not a git index`);
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) throw new Error(`${file}: unsupported git index version ${version}`);
  const count = data.readUInt32BE(8);
  const entries: IndexEntry[] = [];
  let offset = 12;
  let previousPath: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = offset;
    const mode = data.readUInt32BE(start + 24);
    const flags = data.readUInt16BE(start + 60);
    offset = start + 62;
    if (version >= 3 && (flags & 0x4000) !== 0) offset += 2;
    let path: Buffer;
    if (version === 4) {
      // Prefix compression: strip N bytes from the previous path, append the NUL-terminated suffix.
      let byte = data[offset++]!;
      let strip = byte & 0x7f;
      while (byte & 0x80) {
        byte = data[offset++]!;
        strip = ((strip + 1) << 7) | (byte & 0x7f);
      }
      const end = data.indexOf(0, offset);
      path = Buffer.concat([previousPath.subarray(0, previousPath.length - strip), data.subarray(offset, end)]);
      offset = end + 1;
    } else {
      const end = data.indexOf(0, offset);
      path = data.subarray(offset, end);
      // Entries are NUL-padded to a multiple of 8 bytes (1 to 8 NULs).
      offset = start + Math.ceil((end - start + 1) / 8) * 8;
    }
    previousPath = path;
    const stage = (flags >> 12) & 0x3;
    if (stage > 1) continue; // merge conflict stages 2 and 3 repeat stage 1's path
    entries.push({ path: path.toString('utf8'), mode });
  }
  return entries;
}

/** A minimal git config reader: the value of `section.key` (last one wins), or undefined. */
export function readGitConfigValue(file: string, section: string, key: string): string | undefined {
  if (!existsSync(file)) return undefined;
  let current = '';
  let value: string | undefined;
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#') || line.startsWith(';') || line === '') continue;
    const header = /^\[\s*([^\s\]"]+)(?:\s+"[^"]*")?\s*\]/.exec(line);
    if (header) { current = header[1]!.toLowerCase(); continue; }
    const pair = /^([A-Za-z0-9-]+)\s*(?:=\s*(.*))?$/.exec(line);
    if (pair && current === section.toLowerCase() && pair[1]!.toLowerCase() === key.toLowerCase()) {
      value = unquote(pair[2] ?? 'true');
    }
  }
  return value;
}

function unquote(value: string): string {
  const withoutComment = value.replace(/\s+[#;].*$/, '');
  return withoutComment.startsWith('"') && withoutComment.endsWith('"') ? withoutComment.slice(1, -1) : withoutComment;
}

export interface GitEnvironment {
  home?: string;
  xdgConfigHome?: string;
}

function expandHome(path: string, home: string): string {
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** The user's global excludes file, as git finds it: core.excludesFile, else $XDG_CONFIG_HOME/git/ignore. */
export function globalExcludesFile(repo: GitRepo | undefined, env: GitEnvironment = {}): string | undefined {
  const home = env.home ?? process.env.HOME ?? homedir();
  const xdg = env.xdgConfigHome ?? process.env.XDG_CONFIG_HOME ?? join(home, '.config');
  const configs = [join(xdg, 'git', 'config'), join(home, '.gitconfig')];
  if (repo) configs.push(join(repo.commonDir, 'config'));
  let excludes: string | undefined;
  for (const config of configs) excludes = readGitConfigValue(config, 'core', 'excludesFile') ?? excludes;
  if (excludes !== undefined) {
    const expanded = expandHome(excludes, home);
    return isAbsolute(expanded) ? expanded : repo ? join(repo.workTree, expanded) : resolve(expanded);
  }
  return join(xdg, 'git', 'ignore');
}

/** core.ignoreCase of the repository (git's default is false on case-sensitive file systems). */
export function gitIgnoreCase(repo: GitRepo | undefined): boolean {
  const value = repo ? readGitConfigValue(join(repo.commonDir, 'config'), 'core', 'ignoreCase') : undefined;
  return value === 'true';
}

/** `path` relative to `root` with '/' separators. */
export function toPosixRelative(root: string, path: string): string {
  const rel = relative(root, path);
  return sep === '/' ? rel : rel.split(sep).join('/');
}
