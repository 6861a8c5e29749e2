import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { homedir } from 'node:os';
import { UserError } from '../errors';

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
 * Reads the paths tracked in the git index (versions 2, 3 and 4, split or not), as `git ls-files --cached` lists
 * them: tracked files count even when an ignore rule matches them. Paths use '/' and are relative to the work tree.
 * A damaged index is a UserError: git itself refuses to work with one.
 */
export function readGitIndex(repo: GitRepo): IndexEntry[] {
  const file = join(repo.gitDir, 'index');
  if (!existsSync(file)) return [];
  const hashBytes = readGitConfigValue(join(repo.commonDir, 'config'), 'extensions', 'objectFormat')?.toLowerCase() === 'sha256' ? 32 : 20;
  let entries: RawEntry[];
  try {
    const index = parseIndex(readFileSync(file), hashBytes);
    entries = index.entries;
    if (index.link && !/^0+$/.test(index.link.sharedHash)) {
      // core.splitIndex: this file holds only the changes to a shared index, kept beside it.
      const sharedFile = join(repo.gitDir, `sharedindex.${index.link.sharedHash}`);
      if (!existsSync(sharedFile)) throw new IndexFormatError(`its shared index ${sharedFile} is missing`);
      entries = mergeSplitIndex(parseIndex(readFileSync(sharedFile), hashBytes).entries, index.entries, index.link);
    }
  } catch (error) {
    if (!(error instanceof IndexFormatError)) throw error;
    throw new UserError(`Cannot read the git index ${file}: ${error.message}.`,
      `Run \`git status\` in the repository: if git also reports the index as corrupt, delete ${file} and run \`git reset\` to rebuild it.`);
  }
  const result: IndexEntry[] = [];
  for (const entry of entries) {
    if (entry.stage > 1) continue; // merge conflict stages 2 and 3 repeat stage 1's path
    result.push({ path: entry.path, mode: entry.mode });
  }
  return result;
}

/** Why an index file cannot be read, in words for the UserError. */
class IndexFormatError extends Error {}

interface RawEntry {
  path: string;
  mode: number;
  stage: number;
}

/** The `link` extension of a split index: the shared index's hash and which of its entries changed. */
interface SplitLink {
  sharedHash: string;
  deleted: number[];
  replaced: number[];
}

function parseIndex(data: Buffer, hashBytes: number): { entries: RawEntry[]; link?: SplitLink } {
  const end = data.length - hashBytes; // the checksum closes the file
  if (end < 12 || data.toString('latin1', 0, 4) !== 'DIRC') throw new IndexFormatError('not a git index');
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) throw new IndexFormatError(`unsupported index version ${version}`);
  const count = data.readUInt32BE(8);
  const truncated = (): never => { throw new IndexFormatError('the file is truncated'); };
  const entries: RawEntry[] = [];
  let offset = 12;
  let previousPath: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = offset;
    // 40 bytes of stat data, the object hash (20 bytes in SHA-1 repositories, 32 in SHA-256 ones), 2 of flags
    const flagsAt = start + 40 + hashBytes;
    if (flagsAt + 2 > end) truncated();
    const mode = data.readUInt32BE(start + 24);
    const flags = data.readUInt16BE(flagsAt);
    offset = flagsAt + 2;
    if (version >= 3 && (flags & 0x4000) !== 0) offset += 2;
    let path: Buffer;
    if (version === 4) {
      // Prefix compression: strip N bytes from the previous path, append the NUL-terminated suffix.
      let byte = data[offset++] ?? truncated();
      let strip = byte & 0x7f;
      while (byte & 0x80) {
        byte = data[offset++] ?? truncated();
        strip = ((strip + 1) << 7) | (byte & 0x7f);
      }
      const nul = data.indexOf(0, offset);
      if (nul === -1 || nul >= end || strip > previousPath.length) truncated();
      path = Buffer.concat([previousPath.subarray(0, previousPath.length - strip), data.subarray(offset, nul)]);
      offset = nul + 1;
    } else {
      const nul = data.indexOf(0, offset);
      if (nul === -1 || nul >= end) truncated();
      path = data.subarray(offset, nul);
      // Entries are NUL-padded to a multiple of 8 bytes (1 to 8 NULs).
      offset = start + Math.ceil((nul - start + 1) / 8) * 8;
    }
    previousPath = path;
    entries.push({ path: path.toString('utf8'), mode, stage: (flags >> 12) & 0x3 });
  }
  // Extensions: a 4-byte signature, a 4-byte size, the data. Only `link` (split index) changes the entries.
  let link: SplitLink | undefined;
  while (offset + 8 <= end) {
    const signature = data.toString('latin1', offset, offset + 4);
    const body = offset + 8;
    offset = body + data.readUInt32BE(offset + 4);
    if (offset > end) truncated();
    if (signature === 'link') link = parseLink(data.subarray(body, offset), hashBytes);
  }
  return { entries, link };
}

function parseLink(data: Buffer, hashBytes: number): SplitLink {
  if (data.length < hashBytes) throw new IndexFormatError('its link extension is truncated');
  const sharedHash = data.toString('hex', 0, hashBytes);
  if (data.length === hashBytes) return { sharedHash, deleted: [], replaced: [] };
  const deleted = readEwahBits(data, hashBytes);
  const replaced = readEwahBits(data, deleted.next);
  return { sharedHash, deleted: deleted.bits, replaced: replaced.bits };
}

/**
 * The set bits of an EWAH-compressed bitmap (git's ewah/ewah_io.c): bit count, word count, the 64-bit words, the
 * position of the last marker word. Words are markers (bit 0: the run's bit; bits 1-32: run length in words;
 * bits 33-63: how many literal words follow) and literal words (bit c is position 64 * word + c).
 */
function readEwahBits(data: Buffer, offset: number): { bits: number[]; next: number } {
  if (offset + 8 > data.length) throw new IndexFormatError('its link extension is truncated');
  const words = data.readUInt32BE(offset + 4);
  const first = offset + 8;
  const next = first + words * 8 + 4;
  if (next > data.length) throw new IndexFormatError('its link extension is truncated');
  const high = (word: number): number => data.readUInt32BE(first + word * 8);
  const low = (word: number): number => data.readUInt32BE(first + word * 8 + 4);
  const bits: number[] = [];
  let position = 0;
  for (let word = 0; word < words;) {
    const run = ((low(word) >>> 1) | ((high(word) & 1) << 31)) >>> 0;
    const literals = high(word) >>> 1;
    if (low(word) & 1) {
      if (run * 64 > 1 << 26) throw new IndexFormatError('its link extension is corrupt');
      for (let k = 0; k < run * 64; k++) bits.push(position + k);
    }
    position += run * 64;
    word++;
    if (word + literals > words) throw new IndexFormatError('its link extension is corrupt');
    for (let k = 0; k < literals; k++, word++, position += 64) {
      for (let c = 0; c < 32; c++) {
        if ((low(word) >>> c) & 1) bits.push(position + c);
        if ((high(word) >>> c) & 1) bits.push(position + 32 + c);
      }
    }
  }
  return { bits, next };
}

/**
 * The entries of a split index, as git's merge_base_index builds them: the shared entries at the replace bitmap's
 * positions take the data of the split index's first entries (which have empty paths), those at the delete
 * bitmap's positions go, and the split index's other entries are added (replacing same-path ones).
 */
function mergeSplitIndex(shared: RawEntry[], split: RawEntry[], link: SplitLink): RawEntry[] {
  const corrupt = (): never => { throw new IndexFormatError('its link extension does not match its shared index'); };
  const merged: (RawEntry | undefined)[] = shared.slice();
  let replacements = 0;
  for (const position of link.replaced) {
    const base = merged[position] ?? corrupt();
    const replacement = split[replacements++] ?? corrupt();
    if (replacement.path !== '') corrupt();
    merged[position] = { ...replacement, path: base.path };
  }
  for (const position of link.deleted) {
    if (position >= merged.length) corrupt();
    merged[position] = undefined;
  }
  const added = split.slice(replacements);
  if (added.some((entry) => entry.path === '')) corrupt();
  return [...merged.filter((entry): entry is RawEntry => entry !== undefined), ...added];
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
  // An empty XDG_CONFIG_HOME counts as unset, as in git.
  const xdg = env.xdgConfigHome || process.env.XDG_CONFIG_HOME || join(home, '.config');
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
