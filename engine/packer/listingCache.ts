import { readdirSync, statSync, type Dirent } from 'node:fs';

interface Listing {
  mtimeMs: number;
  ctimeMs: number;
  entries: Dirent[];
}

/** Listings taken this close (ms) to the directory's last change are not trusted: a change in the same tick would be missed. */
const RACY_MS = 2000;

/**
 * Directory listings remembered between packs: adding, removing or renaming an entry changes the directory's
 * mtime, so an unchanged mtime means an unchanged listing and one stat replaces a readdir (as git's untracked
 * cache does). Content edits are found by the per-file stat in the walk, not here.
 */
export class DirectoryListingCache {
  private readonly listings = new Map<string, Listing>();

  readonly list = (path: string): Dirent[] => {
    const stats = statSync(path);
    const known = this.listings.get(path);
    if (known && known.mtimeMs === stats.mtimeMs && known.ctimeMs === stats.ctimeMs) return known.entries.slice();
    const entries = readdirSync(path, { withFileTypes: true });
    if (Date.now() - stats.mtimeMs > RACY_MS) this.listings.set(path, { mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, entries: entries.slice() });
    else this.listings.delete(path);
    return entries;
  };
}
