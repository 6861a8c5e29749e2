import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { userCacheDir } from '../util/userCache';

/** What the packer remembers of a file between packs. */
export interface CachedFile {
  size: number;
  mtimeMs: number;
  /** Absent in caches written before it was kept: such entries are read again once. */
  ctimeMs?: number;
  /**
   * The file changed within RACY_MS of being read: a change in the same clock tick would leave size and times
   * equal, so the stats prove nothing and the next pack reads it again (its hash still spares the count).
   */
  racy?: boolean;
  /** sha1 of the raw bytes. */
  hash: string;
  /** Tokens of the file's chunk in the document, when it is packed as text. */
  tokens?: number;
  /** Why it was skipped by content (binary, generated, minified), so an unchanged file is not read again. */
  skipReason?: string;
  invalidUtf8?: boolean;
  /** The pack generation in which its content last changed (edit-aware order). */
  changed: number;
}

export interface PackCacheData {
  version: 1;
  /** Identity of the tokenizer the counts belong to; another tokenizer starts a fresh cache. */
  tokenizer: string;
  generation: number;
  files: Record<string, CachedFile>;
}

/** Files modified this close (ms) to being read are racily clean (git's term): see CachedFile.racy. */
export const RACY_MS = 2000;

/**
 * Whether a remembered entry (the cache file's, or the packer's memory) still describes the file: same size, mtime
 * and ctime (ctime catches `cp -p`, `rsync -t`), and not racily clean.
 */
export function sameStats(known: Pick<CachedFile, 'size' | 'mtimeMs' | 'ctimeMs' | 'racy'>, stats: { size: number; mtimeMs: number; ctimeMs: number }): boolean {
  return !known.racy && known.size === stats.size && known.mtimeMs === stats.mtimeMs && known.ctimeMs === stats.ctimeMs;
}

export function emptyCache(tokenizer: string): PackCacheData {
  return { version: 1, tokenizer, generation: 0, files: {} };
}

/** Default place of a directory's cache: $XDG_CACHE_HOME/prolong/packs/<hash of the directory>.json. */
export function defaultCacheFile(root: string): string {
  return join(userCacheDir(), 'packs', `${createHash('sha1').update(root).digest('hex').slice(0, 16)}.json`);
}

/** Reads a cache file; a missing, corrupt or foreign one gives an empty cache (it is only an accelerator). */
export function readCache(file: string, tokenizer: string): PackCacheData {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as PackCacheData;
    if (data.version === 1 && data.tokenizer === tokenizer && data.files && typeof data.generation === 'number') return data;
  } catch {
    // fall through
  }
  return emptyCache(tokenizer);
}

/** Writes atomically (temporary file, then rename), so a crash never leaves half a cache. */
export function writeCache(file: string, data: PackCacheData): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(data));
  renameSync(temporary, file);
}
