import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user's own cache directory for ProLong: $XDG_CACHE_HOME/prolong, else ~/.cache/prolong (never shared). */
export function userCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'prolong');
}
