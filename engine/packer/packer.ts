import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveTokenizerPath } from '../tokenizer';
import { CancelledError, UserError } from '../errors';
import { IncludeOverrides } from './classify';
import { applyTokenBudget, type FileKind } from './budget';
import { defaultCacheFile, emptyCache, readCache, sameStats, writeCache, RACY_MS, type CachedFile, type PackCacheData } from './cache';
import { documentHeader, fileChunk } from './format';
import { INDEX_END, INDEX_TITLE, indexBlock, fileIndexLines } from './definitions';
import { sortByDependencies, sortByPath, sortEditAware, type PackOrder } from './order';
import { compareNames, walkRepository, type Candidate, type SkippedFile } from './walk';
import { DirectoryListingCache } from './listingCache';
import { PackWorkerPool } from './workerPool';
import type { FileJob, FileOutcome } from './workerProtocol';

const CACHE_WRITE_DELAY_MS = 5000;
/** The version of the file header line (format.ts) that cached token counts were made with. */
const HEADER_FORMAT = 'h2';

export interface PackRequest {
  root: string;
  order?: PackOrder;
  /** Most tokens the whole document may have; 0 or undefined for no budget. */
  budget?: number;
  maxFileBytes?: number;
  exclude?: readonly string[];
  include?: readonly string[];
  /** Name in the document header; the directory's name by default. */
  repositoryName?: string;
  /** Repository-relative paths the budget never drops (files open in editors, the selection's file). */
  pinned?: readonly string[];
  /**
   * The file the document is written to (`prolong pack --out`): never packed, even when it lies inside `root`
   * (else each pack would hold the previous one). Compared by real path; it need not exist yet.
   */
  outputFile?: string;
  /**
   * A definitions index after the last file (definitions.ts): a line per name a packed file defines, with its path.
   * A file's lines count toward its tokens for the budget (a dropped file takes its lines along).
   */
  definitionsIndex?: boolean;
}

/** Why the output file is not in its own document (the report's skip reason). */
export const OUTPUT_FILE_REASON = 'the output file of this pack (never packed)';

/** The output file's path relative to `root` ('/' separators) when it lies inside it, else undefined. */
export function outputPathInRoot(root: string, outputFile: string): string | undefined {
  const real = (path: string): string => {
    try {
      return realpathSync(path);
    } catch {
      const parent = dirname(path);
      return parent === path ? path : join(real(parent), basename(path)); // not there yet: its folder's real path
    }
  };
  const relativePath = relative(real(resolve(root)), real(resolve(outputFile)));
  if (relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath)) return undefined;
  return relativePath.split(sep).join('/');
}

export interface PackedFile {
  path: string;
  bytes: number;
  /** The file's tokens in the document, its path header included. */
  tokens: number;
}

export interface DroppedFile extends PackedFile {
  kind: FileKind;
}

export interface PackResult {
  /**
   * The document in pieces: the header, then one chunk per packed file (format.ts), then the definitions index when
   * asked for and any file defines a name (definitions.ts). Write or send them in order; a file's chunk's token count
   * is its `tokens`, exactly.
   */
  chunks: readonly string[];
  /** The whole document (joined from `chunks` on first use: tens of MB for a large repository). */
  readonly document: string;
  /** Packed files in document order. */
  files: PackedFile[];
  skipped: SkippedFile[];
  /** Files dropped to meet the token budget (also listed in `skipped`), in drop order, each with its kind (budget.ts). */
  dropped: DroppedFile[];
  /** Files whose bytes were not valid UTF-8 (decoded with U+FFFD replacements). */
  invalidUtf8: string[];
  /** Tokens of the whole document as the model reads it. */
  totalTokens: number;
  /** The definitions index's names (a line each) and tokens, when the document has one. */
  definitionsIndex?: { names: number; tokens: number };
  /** Bytes of the packed files' contents. */
  totalBytes: number;
  order: PackOrder;
  tokenizer: string;
  /** Files read from disk in this pack, and files (re)counted by the tokenizer. */
  filesRead: number;
  filesTokenized: number;
  ms: number;
}

export type PackProgress = { phase: 'walk' } | { phase: 'read'; done: number; total: number } | { phase: 'assemble' };

export interface PackerOptions {
  /** A tokenizer.json; the bundled Llama 3 tokenizer by default. */
  tokenizerPath?: string;
  /** Where the cache between processes lives; `false` for none. Default: under $XDG_CACHE_HOME/prolong. */
  cacheFile?: string | false;
  /** Worker threads for reading and counting. */
  workers?: number;
}

interface MemoryEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  text: string;
  imports?: string[];
  /** Packed only because an include pattern forced it past the content heuristics. */
  forced: boolean;
  /** The file's definitions index lines and their tokens, made on the first pack that asks for an index. */
  index?: { lines: string; tokens: number };
}

/**
 * Packs directories into documents, remembering what it read: a long-lived Packer (the extension's) re-reads and
 * re-counts only files whose size, mtime or ctime changed (or that changed just before they were read), and with a
 * cache file so does a new process (it re-reads the text but counts only changed content).
 */
export class Packer {
  private readonly tokenizerPath: string;
  private readonly tokenizerId: string;
  private readonly pool: PackWorkerPool;
  private readonly memory = new Map<string, Map<string, MemoryEntry>>();
  private readonly caches = new Map<string, PackCacheData>();
  private readonly listings = new Map<string, DirectoryListingCache>();
  private pendingCache: { file: string; data: PackCacheData } | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private cacheWrites = 0;
  /** Token counts in flight (dispose waits for them). */
  private readonly counts = new Set<Promise<number>>();
  /** The last pack queued; the next one starts after it. */
  private packs: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PackerOptions = {}) {
    this.tokenizerPath = resolve(resolveTokenizerPath(options.tokenizerPath));
    let stats;
    try {
      stats = statSync(this.tokenizerPath);
    } catch (error) {
      throw new UserError(`Cannot read the tokenizer ${this.tokenizerPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
        'Point --tokenizer or the setting prolong.tokenizer.path at a Hugging Face tokenizer.json.');
    }
    // The counts cover each file's header line too: a change to its format (quoted paths) must not reuse old counts.
    this.tokenizerId = `${this.tokenizerPath}:${stats.size}:${stats.mtimeMs}:${HEADER_FORMAT}`;
    this.pool = new PackWorkerPool(this.tokenizerPath, options.workers);
  }

  /**
   * Packs `request.root`. Calls run one at a time, in order: each pack reads and updates the caches the next one
   * starts from (a re-pack right after another is cheap).
   */
  pack(request: PackRequest, onProgress?: (progress: PackProgress) => void, signal?: AbortSignal): Promise<PackResult> {
    const run = this.packs.then(() => {
      if (signal?.aborted) throw new CancelledError('pack');
      return this.packNow(request, onProgress, signal);
    });
    this.packs = run.catch(() => undefined);
    return run;
  }

  private async packNow(request: PackRequest, onProgress?: (progress: PackProgress) => void, signal?: AbortSignal): Promise<PackResult> {
    const started = performance.now();
    const root = resolve(request.root);
    try {
      if (!statSync(root).isDirectory()) throw new UserError(`${root} is not a directory.`, 'Pack a directory.');
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Cannot pack ${root}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}.`);
    }
    const order = request.order ?? 'path';
    const maxFileBytes = request.maxFileBytes ?? 1 << 20;
    onProgress?.({ phase: 'walk' });
    let listing = this.listings.get(root);
    if (!listing) this.listings.set(root, (listing = new DirectoryListingCache()));
    const walk = walkRepository({ root, maxFileBytes, exclude: request.exclude, include: request.include, listDirectory: listing.list });
    const outputPath = request.outputFile === undefined ? undefined : outputPathInRoot(root, request.outputFile);
    if (outputPath !== undefined) {
      const at = walk.candidates.findIndex((c) => c.path === outputPath);
      if (at !== -1) {
        walk.candidates.splice(at, 1);
        walk.skipped.push({ path: outputPath, reason: OUTPUT_FILE_REASON });
      }
    }
    if (signal?.aborted) throw new CancelledError('pack');

    const cacheFile = this.options.cacheFile === false ? undefined : this.options.cacheFile ?? defaultCacheFile(root);
    const cache = this.caches.get(root) ?? (cacheFile ? readCache(cacheFile, this.tokenizerId) : emptyCache(this.tokenizerId));
    const memory = this.memory.get(root) ?? new Map<string, MemoryEntry>();
    const overrides = new IncludeOverrides(request.include ?? []);
    const generation = cache.generation + 1;
    const firstPack = cache.generation === 0;
    const wantImports = order === 'dependency';

    // Unchanged files (same size and times) come from memory; the rest go to the workers.
    const jobs: (FileJob & { size: number })[] = [];
    const unchanged = new Set<string>();
    for (const candidate of walk.candidates) {
      const known = cache.files[candidate.path];
      const same = known !== undefined && sameStats(known, candidate);
      if (same && known.skipReason !== undefined && !overrides.forced(candidate.path)) { unchanged.add(candidate.path); continue; }
      const inMemory = memory.get(candidate.path);
      const forced = overrides.forced(candidate.path);
      if (same && inMemory && sameStats(inMemory, candidate)
        && known.tokens !== undefined && inMemory.forced === forced && (!wantImports || inMemory.imports !== undefined)) { unchanged.add(candidate.path); continue; }
      jobs.push({ path: candidate.path, absolute: candidate.absolute, size: candidate.size, knownHash: known?.hash, knownTokens: known?.tokens, forced });
    }
    onProgress?.({ phase: 'read', done: 0, total: jobs.length });
    const outcomes: FileOutcome[] = jobs.length === 0 ? [] : await this.pool.processFiles(jobs, wantImports, (done) => onProgress?.({ phase: 'read', done, total: jobs.length }), signal);
    const readDone = Date.now();
    /**
     * The stats to remember for a file just read. Racy by mtime only: by ctime too, every file a test or tool
     * backdates (utimes sets ctime to now) would be read twice; a same-size `cp -p` within one ctime tick of a
     * read is the case left.
     */
    const statsOf = (candidate: Candidate): Pick<CachedFile, 'size' | 'mtimeMs' | 'ctimeMs' | 'racy'> => ({
      size: candidate.size, mtimeMs: candidate.mtimeMs, ctimeMs: candidate.ctimeMs, racy: readDone - candidate.mtimeMs < RACY_MS || undefined,
    });

    const nextFiles: Record<string, CachedFile> = {};
    const nextMemory = new Map<string, MemoryEntry>();
    const skipped: SkippedFile[] = [...walk.skipped];
    const texts = new Map<string, { text: string; tokens: number; bytes: number }>();
    const invalidUtf8: string[] = [];
    let filesTokenized = 0;
    const byPath = new Map(walk.candidates.map((c) => [c.path, c]));
    for (const path of unchanged) {
      const known = cache.files[path]!;
      nextFiles[path] = known;
      if (known.skipReason !== undefined) { skipped.push({ path, reason: known.skipReason }); continue; }
      const entry = memory.get(path)!;
      nextMemory.set(path, entry);
      texts.set(path, { text: entry.text, tokens: known.tokens!, bytes: known.size });
      if (known.invalidUtf8) invalidUtf8.push(path);
    }
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      const job = jobs[i]!; // outcomes come back in job order
      const candidate = byPath.get(outcome.path)!;
      const known = cache.files[outcome.path];
      const changed = known !== undefined && known.hash === outcome.hash ? known.changed : firstPack ? 0 : generation;
      if (outcome.kind === 'skipped') {
        skipped.push({ path: outcome.path, reason: outcome.reason });
        if (outcome.hash !== undefined) nextFiles[outcome.path] = { ...statsOf(candidate), hash: outcome.hash, skipReason: outcome.reason, changed };
        continue;
      }
      if (known?.hash !== outcome.hash || known.tokens === undefined) filesTokenized++;
      nextFiles[outcome.path] = { ...statsOf(candidate), hash: outcome.hash, tokens: outcome.tokens, invalidUtf8: outcome.invalidUtf8 || undefined, changed };
      nextMemory.set(outcome.path, { size: candidate.size, mtimeMs: candidate.mtimeMs, ctimeMs: candidate.ctimeMs, text: outcome.text, imports: outcome.imports, forced: job.forced });
      texts.set(outcome.path, { text: outcome.text, tokens: outcome.tokens, bytes: candidate.size });
      if (outcome.invalidUtf8) invalidUtf8.push(outcome.path);
    }
    if (signal?.aborted) throw new CancelledError('pack');
    onProgress?.({ phase: 'assemble' });

    const paths = [...texts.keys()];
    const ordered = order === 'path' ? sortByPath(paths)
      : order === 'edit-aware' ? sortEditAware(paths, (p) => nextFiles[p]!.changed)
      : sortByDependencies(paths, (p) => nextMemory.get(p)?.imports ?? []);

    const name = request.repositoryName ?? basename(root);
    const indexLines = request.definitionsIndex ? await this.indexLines(ordered, nextMemory) : undefined;
    let dropped: DroppedFile[] = [];
    let kept = ordered;
    if (request.budget && request.budget > 0) {
      const smallest = await this.pool.count(documentHeader(name, 0));
      if (request.budget < smallest) {
        throw new UserError(`The token budget ${request.budget} is too small for ${root}: the document's header alone takes ${smallest} tokens.`,
          `Use a budget of at least ${smallest} tokens (prolong.pack.tokenBudget, or --budget of prolong pack), or 0 for none.`);
      }
      // The header with the full file count is an upper bound: fewer files never need more digits. So is the index
      // counted file by file: where it ends, its last newline and the blank line take one token, not two.
      const headerBound = await this.pool.count(documentHeader(name, ordered.length))
        + (indexLines ? await this.pool.count(INDEX_TITLE) + await this.pool.count(INDEX_END) : 0);
      const tokensOf = (path: string): number => texts.get(path)!.tokens + (indexLines?.get(path)?.tokens ?? 0);
      const outcome = applyTokenBudget(ordered.map((path) => ({ path, tokens: tokensOf(path) })), request.budget - headerBound,
        { pinned: request.pinned });
      kept = ordered.filter((path) => outcome.kept.has(path));
      // the file's own tokens, as PackedFile.tokens (its index lines came with it in the budget)
      dropped = outcome.dropped.map((item) => ({ path: item.path, bytes: texts.get(item.path)!.bytes, tokens: texts.get(item.path)!.tokens, kind: item.kind }));
      for (const item of dropped) skipped.push({ path: item.path, reason: `over the token budget (${item.tokens} tokens)` });
    }
    const header = documentHeader(name, kept.length);
    const parts = [header];
    const files: PackedFile[] = [];
    let totalTokens = await this.pool.count(header);
    let totalBytes = 0;
    for (const path of kept) {
      const entry = texts.get(path)!;
      parts.push(fileChunk(path, entry.text));
      files.push({ path, bytes: entry.bytes, tokens: entry.tokens });
      totalTokens += entry.tokens;
      totalBytes += entry.bytes;
    }
    const indexLinesKept = indexLines ? kept.map((path) => indexLines.get(path)!.lines) : [];
    const index = indexBlock(indexLinesKept);
    let definitionsIndex: PackResult['definitionsIndex'];
    if (index !== '') {
      parts.push(index);
      const tokens = await this.pool.count(index); // the last chunk ends with a blank line: nothing merges across
      totalTokens += tokens;
      definitionsIndex = { names: indexLinesKept.reduce((sum, lines) => sum + (lines === '' ? 0 : lines.split('\n').length - 1), 0), tokens };
    }
    skipped.sort((a, b) => compareNames(a.path, b.path));
    invalidUtf8.sort();

    const nextCache: PackCacheData = { version: 1, tokenizer: this.tokenizerId, generation, files: nextFiles };
    this.caches.set(root, nextCache);
    this.memory.set(root, nextMemory);
    if (cacheFile) this.saveCache(cacheFile, nextCache);
    let document: string | undefined;
    return {
      chunks: parts,
      get document(): string {
        return (document ??= parts.join(''));
      },
      files, skipped, dropped, invalidUtf8, totalTokens, definitionsIndex, totalBytes, order,
      tokenizer: this.tokenizerPath, filesRead: jobs.length, filesTokenized, ms: performance.now() - started,
    };
  }

  /** Each path's definitions index lines and their tokens, from the memory entry when an earlier pack made them. */
  private async indexLines(paths: readonly string[], memory: Map<string, MemoryEntry>): Promise<Map<string, { lines: string; tokens: number }>> {
    const fresh = paths.filter((path) => memory.get(path)!.index === undefined);
    const lines = fresh.map((path) => fileIndexLines(path, memory.get(path)!.text));
    const tokens = await this.pool.countEach(lines.filter((text) => text !== ''));
    let counted = 0;
    fresh.forEach((path, i) => {
      memory.get(path)!.index = { lines: lines[i]!, tokens: lines[i] === '' ? 0 : tokens[counted++]! };
    });
    return new Map(paths.map((path) => [path, memory.get(path)!.index!]));
  }

  /**
   * Writes the cache file after the pack returns, at most once per CACHE_WRITE_DELAY_MS (a long-lived packer
   * keeps the cache in memory; the file is for the next process); dispose() writes what is pending.
   */
  private saveCache(file: string, data: PackCacheData): void {
    this.pendingCache = { file, data };
    if (this.cacheTimer) return;
    this.cacheTimer = setTimeout(() => this.flushCache(), this.cacheWrites === 0 ? 0 : CACHE_WRITE_DELAY_MS);
    this.cacheTimer.unref();
  }

  private flushCache(): void {
    if (this.cacheTimer) clearTimeout(this.cacheTimer);
    this.cacheTimer = undefined;
    const pending = this.pendingCache;
    this.pendingCache = undefined;
    if (!pending) return;
    this.cacheWrites++;
    try {
      writeCache(pending.file, pending.data);
    } catch {
      // The cache only speeds up the next process's pack; failing to write it loses nothing.
    }
  }

  /** Exact tokens of any text with the packer's tokenizer (used by tests and the budget display). */
  countTokens(text: string): Promise<number> {
    const counting = this.pool.count(text);
    this.counts.add(counting);
    const forget = (): void => { this.counts.delete(counting); };
    counting.then(forget, forget);
    return counting;
  }

  /** Test hook: crashes one worker thread, as a native fault would. */
  crashWorkerForTest(index = 0): Promise<number> {
    return this.pool.crashWorkerForTest(index);
  }

  /** Waits for the packs and counts already asked for, writes the cache file, and stops the worker threads. */
  async dispose(): Promise<void> {
    await this.packs;
    await Promise.allSettled([...this.counts]);
    this.flushCache();
    await this.pool.dispose();
  }
}

/** One pack with a fresh Packer (the CLI's way). */
export async function pack(request: PackRequest & PackerOptions, onProgress?: (progress: PackProgress) => void, signal?: AbortSignal): Promise<PackResult> {
  const packer = new Packer(request);
  try {
    return await packer.pack(request, onProgress, signal);
  } finally {
    await packer.dispose();
  }
}

