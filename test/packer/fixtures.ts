import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** A temporary directory for one test, removed when the test process exits. */
export { tempDir } from '../tempDirs';

/** Writes files (path -> content) under root, creating directories. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Runs git in `cwd` with an isolated home (no user config leaks into tests). */
export function git(cwd: string, home: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

/** `git ls-files --cached --others --exclude-standard`, as a sorted list. */
export function gitListFiles(cwd: string, home: string): string[] {
  const out = git(cwd, home, '-c', 'core.quotepath=off', 'ls-files', '-z', '--cached', '--others', '--exclude-standard');
  return [...new Set(out.split('\0').filter((p) => p.length > 0))].sort();
}

/**
 * Sets every file's mtime under root an hour back: files written moments before a pack are "racily clean" and
 * always read again, so tests counting re-reads start from settled files.
 */
export function backdate(root: string, ms = Date.now() - 3_600_000): void {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), new Date(ms), new Date(ms));
  }
}
