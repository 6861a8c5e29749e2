// The Hugging Face Hub side of "get a model": where the HF cache is, which checkpoints it already holds, and a
// download into it that Python's huggingface_hub would recognise (models--ORG--NAME/{blobs,snapshots/COMMIT,refs}).
// Metadata comes through @huggingface/hub; file bytes are fetched here so that a cut download resumes (Range into
// blobs/ETAG.incomplete), LFS files are checked against their sha256, and progress and cancel reach the caller.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { getRepoFolderName, listFiles, modelInfo, HubApiError } from '@huggingface/hub';
import { CancelledError, UserError } from '../errors';
import { parseDecoderConfig } from '../../kernels/hfConfig';
import { safetensorsIndexName } from '../../kernels/checkpoint';

export const defaultEndpoint = 'https://huggingface.co';

export interface HubSettings {
  endpoint: string;
  cacheDir: string;
  token?: string;
  /** Where the token came from, for messages ("HF_TOKEN", a file path, "the stored token"). */
  tokenSource?: string;
  offline: boolean;
}

/** Reads the settings Python's huggingface_hub reads: HF_ENDPOINT, HF_HUB_CACHE / HF_HOME, HF_TOKEN / the token file, HF_HUB_OFFLINE. */
export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const hfHome = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  const cacheDir = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome, 'hub');
  let token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
  let tokenSource = token ? (env.HF_TOKEN ? 'HF_TOKEN' : 'HUGGING_FACE_HUB_TOKEN') : undefined;
  if (!token) {
    const file = env.HF_TOKEN_PATH || join(hfHome, 'token');
    try {
      const text = readFileSync(file, 'utf8').trim();
      if (text) { token = text; tokenSource = file; }
    } catch { /* no token file: anonymous */ }
  }
  const offline = ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase());
  return { endpoint: (env.HF_ENDPOINT || defaultEndpoint).replace(/\/+$/, ''), cacheDir, token, tokenSource, offline };
}

/** `ORG/NAME`, or a UserError saying what a repository id looks like. */
export function checkRepoId(repo: string): string {
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repo) || repo.includes('..')) {
    throw new UserError(`'${repo}' is not a Hugging Face model id.`, 'Give it as ORG/NAME, e.g. princeton-nlp/Llama-3-8B-ProLong-64k-Instruct.');
  }
  return repo;
}

export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ name: repo, type: 'model' }));
}

/** The files the converter reads; nothing else is downloaded. */
export function isWantedFile(path: string): boolean {
  if (path.includes('/')) return false;
  return ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', safetensorsIndexName].includes(path) || path.endsWith('.safetensors');
}

export interface CachedCheckpoint {
  repo: string;
  commit: string;
  /** The refs naming this commit ("main"), if any. */
  refs: string[];
  dir: string;
  /** Bytes of the snapshot's files (their blobs). */
  bytes: number;
}

/** A snapshot folder holds a whole checkpoint: config.json, and every safetensors shard its index names. */
export function isCompleteSnapshot(dir: string): boolean {
  if (!existsSync(join(dir, 'config.json'))) return false;
  const index = join(dir, safetensorsIndexName);
  if (existsSync(index)) {
    try {
      const shards = new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map));
      return [...shards].every((s) => existsSync(join(dir, s)));
    } catch { return false; }
  }
  return existsSync(join(dir, 'model.safetensors'));
}

/** Checkpoints in the HF cache that the converter can read (complete snapshots with config.json and safetensors). */
export function listCachedCheckpoints(cacheDir: string): CachedCheckpoint[] {
  if (!existsSync(cacheDir)) return [];
  const found: CachedCheckpoint[] = [];
  for (const folder of readdirSync(cacheDir).sort()) {
    if (!folder.startsWith('models--')) continue;
    const repo = folder.slice('models--'.length).split('--').join('/');
    const root = join(cacheDir, folder);
    const refs = new Map<string, string[]>();
    try {
      for (const ref of readdirSync(join(root, 'refs'))) {
        const commit = readFileSync(join(root, 'refs', ref), 'utf8').trim();
        refs.set(commit, [...(refs.get(commit) ?? []), ref]);
      }
    } catch { /* no refs: snapshots by commit only */ }
    let snapshots: string[] = [];
    try { snapshots = readdirSync(join(root, 'snapshots')); } catch { continue; }
    for (const commit of snapshots.sort()) {
      const dir = join(root, 'snapshots', commit);
      if (!isCompleteSnapshot(dir)) continue;
      const bytes = readdirSync(dir).reduce((n, name) => { try { return n + statSync(join(dir, name)).size; } catch { return n; } }, 0);
      found.push({ repo, commit, refs: refs.get(commit) ?? [], dir, bytes });
    }
  }
  return found;
}

export interface DownloadProgress {
  file: string;
  /** Bytes of all wanted files already on disk (resumed bytes included). */
  doneBytes: number;
  totalBytes: number;
  /** Bytes per second over this run. */
  rate: number;
  /** Seconds left at that rate; undefined before the rate is known. */
  etaSeconds?: number;
}

export interface PullCheckpointOptions {
  repo: string;
  revision?: string;
  settings: HubSettings;
  onProgress?: (progress: DownloadProgress) => void;
  /** Before the weights are fetched: config.json is read (the architecture check happens here). */
  onConfig?: (config: Record<string, unknown>) => void;
  signal?: AbortSignal;
  /** Retries after a 429 or a cut connection (default 4), and the first wait in ms (default 1000, doubling). */
  retries?: number;
  retryDelayMs?: number;
}

export interface PulledCheckpoint {
  repo: string;
  commit: string;
  dir: string;
  downloadedBytes: number;
  /** Bytes that were already in the cache (whole blobs or resumed parts). */
  reusedBytes: number;
}

interface RemoteFile { path: string; size: number; etag: string; sha256?: string }

const commitPattern = /^[0-9a-f]{40}$/;

/** Downloads what the converter needs of ORG/NAME into the HF cache (or finds it there) and returns the snapshot folder. */
export async function pullCheckpoint(options: PullCheckpointOptions): Promise<PulledCheckpoint> {
  const { settings, signal } = options;
  const repo = checkRepoId(options.repo);
  const revision = options.revision ?? 'main';
  const root = repoFolder(settings.cacheDir, repo);
  const cached = cachedSnapshot(root, revision);
  if (settings.offline) {
    if (cached) return { repo, commit: cached.commit, dir: cached.dir, downloadedBytes: 0, reusedBytes: 0 };
    throw new UserError(`HF_HUB_OFFLINE is set and ${repo} (${revision}) is not in the Hugging Face cache ${settings.cacheDir}.`, 'Unset HF_HUB_OFFLINE to download it, or pick a model already in the cache.');
  }
  const hub = { repo, settings, signal, retries: options.retries ?? 4, retryDelayMs: options.retryDelayMs ?? 1000 };
  const info = await withRetries(hub, 'model info', () => modelInfo({
    name: repo, revision, hubUrl: settings.endpoint, accessToken: settings.token, additionalFields: ['sha'], fetch: abortable(signal),
  }));
  const commit = typeof info.sha === 'string' && commitPattern.test(info.sha) ? info.sha : undefined;
  if (!commit) throw new UserError(`${settings.endpoint} gave no commit for ${repo} at ${revision}.`, 'Check HF_ENDPOINT points at a Hugging Face Hub or mirror.');
  const files: RemoteFile[] = [];
  await withRetries(hub, 'file list', async () => {
    files.length = 0;
    for await (const entry of listFiles({ repo: { type: 'model', name: repo }, revision: commit, hubUrl: settings.endpoint, accessToken: settings.token, fetch: abortable(signal) })) {
      const etag = entry.lfs?.oid ?? entry.oid;
      if (entry.type !== 'file' || !isWantedFile(entry.path) || !etag) continue;
      files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, etag, sha256: entry.lfs?.oid });
    }
  });
  const page = `${settings.endpoint}/${repo}`;
  if (!files.some((f) => f.path === 'config.json')) throw new UserError(`${repo} has no config.json at ${revision}.`, `It is not a transformers checkpoint; see ${page}.`);
  if (!files.some((f) => f.path.endsWith('.safetensors'))) {
    throw new UserError(`${repo} has no *.safetensors weights at ${revision} (only the converter's format is read).`, `Pick a checkpoint published in safetensors; see ${page}.`);
  }
  const snapshot = join(root, 'snapshots', commit);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const state = { done: 0, downloaded: 0, reused: 0, started: performance.now(), totalBytes };
  const present = (f: RemoteFile) => existsSync(join(root, 'blobs', f.etag));
  // config.json first: an architecture the converter cannot read is named before any weight is fetched
  const config = files.find((f) => f.path === 'config.json')!;
  await fetchFile(hub, root, snapshot, revision, config, state, options.onProgress);
  const configJson = JSON.parse(readFileSync(join(snapshot, 'config.json'), 'utf8')) as Record<string, unknown>;
  parseDecoderConfig(configJson, `${page}/blob/${commit}/config.json`);
  options.onConfig?.(configJson);
  const missing = files.filter((f) => !present(f)).reduce((n, f) => n + f.size - partialBytes(root, f), 0);
  checkDiskSpace(settings.cacheDir, missing, repo);
  for (const f of files) if (f !== config) await fetchFile(hub, root, snapshot, revision, f, state, options.onProgress);
  if (!commitPattern.test(revision)) {
    mkdirSync(join(root, 'refs'), { recursive: true });
    writeFileSync(join(root, 'refs', revision), commit);
  }
  return { repo, commit, dir: snapshot, downloadedBytes: state.downloaded, reusedBytes: state.reused };
}

/** config.json of ORG/NAME at a revision (from the cache when it is there), for the fit and architecture check before a download. */
export async function fetchConfig(repo: string, settings: HubSettings, revision = 'main', signal?: AbortSignal): Promise<Record<string, unknown>> {
  checkRepoId(repo);
  const cached = cachedSnapshot(repoFolder(settings.cacheDir, repo), revision);
  if (cached) return JSON.parse(readFileSync(join(cached.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  if (settings.offline) throw new UserError(`HF_HUB_OFFLINE is set and ${repo} is not in the Hugging Face cache ${settings.cacheDir}.`, 'Unset HF_HUB_OFFLINE to download it.');
  const hub = { repo, settings, signal, retries: 2, retryDelayMs: 1000 };
  const url = `${settings.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/config.json`;
  return withRetries(hub, 'config.json', async () => {
    const response = await fetch(url, { headers: settings.token ? { Authorization: `Bearer ${settings.token}` } : {}, signal });
    if (!response.ok) { await response.body?.cancel(); throw new HubApiError(url, response.status, undefined, `HTTP ${response.status}`); }
    return await response.json() as Record<string, unknown>;
  });
}

function cachedSnapshot(root: string, revision: string): { commit: string; dir: string } | undefined {
  let commit = revision;
  if (!commitPattern.test(revision)) {
    try { commit = readFileSync(join(root, 'refs', revision), 'utf8').trim(); } catch { return undefined; }
  }
  const dir = join(root, 'snapshots', commit);
  return isCompleteSnapshot(dir) ? { commit, dir } : undefined;
}

function partialBytes(root: string, f: RemoteFile): number {
  try { return Math.min(f.size, statSync(join(root, 'blobs', `${f.etag}.incomplete`)).size); } catch { return 0; }
}

/** Free bytes on the cache's disk against what is still to download; a UserError with the size needed. */
export function checkDiskSpace(cacheDir: string, neededBytes: number, repo: string): void {
  let dir = cacheDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (neededBytes > free) {
    throw new UserError(`${repo} needs ${gb(neededBytes)} more in the Hugging Face cache ${cacheDir}, but its disk has ${gb(free)} free.`,
      'Free space there, or set HF_HUB_CACHE to a folder on a larger disk.');
  }
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

interface HubContext { repo: string; settings: HubSettings; signal?: AbortSignal; retries: number; retryDelayMs: number }
interface PullState { done: number; downloaded: number; reused: number; started: number; totalBytes: number }

/** A transient failure worth another try: a 429, a 5xx, a connection cut or refused mid-way. */
class Transient extends Error {
  constructor(message: string, readonly retryAfterMs?: number) { super(message); }
}

async function withRetries<T>(hub: HubContext, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (hub.signal?.aborted) throw new CancelledError('download');
      const problem = explain(error, hub, what);
      if (!(problem instanceof Transient)) throw problem;
      if (tries >= hub.retries) {
        throw new UserError(`${hub.settings.endpoint} kept failing for ${hub.repo} (${what}): ${problem.message}.`, 'Try again later; a download resumes where it stopped.', { cause: error });
      }
      await sleep(problem.retryAfterMs ?? hub.retryDelayMs * 2 ** tries, hub.signal);
    }
  }
}

/** A Hub or network failure in one line with what to do, or a Transient to retry. */
function explain(error: unknown, hub: HubContext, what: string): Error {
  const page = `${hub.settings.endpoint}/${hub.repo}`;
  if (error instanceof UserError || error instanceof CancelledError || error instanceof Transient) return error;
  const status = error instanceof HubApiError ? error.statusCode : undefined;
  if (status === 401 || status === 403) {
    return hub.settings.token
      ? new UserError(`${hub.repo} is gated and the token from ${hub.settings.tokenSource ?? 'your settings'} has no access (HTTP ${status}).`, `Accept the license at ${page} with that account, or set another token (ProLong: Set Hugging Face Token, or HF_TOKEN).`)
      : new UserError(`${hub.repo} is gated or private (HTTP ${status}).`, `Accept the license at ${page} and set a token (ProLong: Set Hugging Face Token, or HF_TOKEN).`);
  }
  if (status === 404) return new UserError(`${hub.repo} was not found on ${hub.settings.endpoint} (${what}: HTTP 404).`, `Check the name and revision at ${page}.`);
  if (status === 429) return new Transient('HTTP 429 (rate limited)');
  if (status !== undefined && status >= 500) return new Transient(`HTTP ${status}`);
  if (status !== undefined) return new UserError(`${hub.settings.endpoint} answered HTTP ${status} for ${hub.repo} (${what}).`, `Check ${page}.`, { cause: error });
  const code = networkCode(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(`Cannot resolve ${new URL(hub.settings.endpoint).host} (${code}): no network or DNS.`, 'Check your connection (or HF_ENDPOINT), then try again; a download resumes where it stopped.');
  }
  if (code === 'ECONNREFUSED') return new UserError(`${hub.settings.endpoint} refused the connection.`, 'Check your connection or HF_ENDPOINT, then try again.');
  if (code) return new Transient(`connection failed (${code})`);
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    return new UserError(`Could not reach ${hub.settings.endpoint}: ${cause instanceof Error ? cause.message : 'fetch failed'}.`, 'Check your connection or HF_ENDPOINT, then try again.', { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e instanceof TypeError && /fetch failed|terminated/.test(e.message) && !(e as { cause?: unknown }).cause) return 'ECONNRESET';
  }
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(new CancelledError('download')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortable(signal?: AbortSignal): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal });
}

/** One file into blobs/ETAG (resuming blobs/ETAG.incomplete), checked, then linked from the snapshot as Python does. */
async function fetchFile(hub: HubContext, root: string, snapshot: string, revision: string, f: RemoteFile, state: PullState, onProgress?: (p: DownloadProgress) => void): Promise<void> {
  const blob = join(root, 'blobs', f.etag);
  const link = join(snapshot, f.path);
  mkdirSync(dirname(blob), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  const report = () => {
    const seconds = (performance.now() - state.started) / 1000;
    const rate = seconds > 0 ? state.downloaded / seconds : 0;
    onProgress?.({ file: f.path, doneBytes: state.done, totalBytes: state.totalBytes, rate, etaSeconds: rate > 0 ? (state.totalBytes - state.done) / rate : undefined });
  };
  if (!existsSync(blob)) {
    const incomplete = `${blob}.incomplete`;
    state.reused += partialBytes(root, f);
    const base = state.done;
    await withRetries(hub, f.path, () => downloadInto(hub, revision, f, incomplete, (bytes) => { state.done = base + bytes; report(); }, (n) => { state.downloaded += n; }));
    if (f.sha256) {
      const actual = await sha256Of(incomplete);
      if (actual !== f.sha256) {
        rmSync(incomplete, { force: true });
        throw new UserError(`${f.path} of ${hub.repo} did not match the Hub's sha256 (expected ${f.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…); the corrupt download was deleted.`, 'Download again; if it repeats, the mirror (HF_ENDPOINT) serves a bad file.');
      }
    }
    renameSync(incomplete, blob);
  } else {
    state.reused += f.size;
    state.done += f.size;
  }
  if (!existsSync(link)) {
    rmSync(link, { force: true });
    symlinkSync(join('..', '..', 'blobs', f.etag), link);
  }
  report();
}

/** GET with Range from what `incomplete` holds; a 200 (no range support) starts over. Calls onBytes with the file's bytes so far. */
async function downloadInto(hub: HubContext, revision: string, f: RemoteFile, incomplete: string, onBytes: (bytes: number) => void, onNew: (n: number) => void): Promise<void> {
  let offset = existsSync(incomplete) ? statSync(incomplete).size : 0;
  if (offset > f.size) { rmSync(incomplete); offset = 0; }
  if (offset === f.size && f.size > 0) { onBytes(offset); return; }
  const url = `${hub.settings.endpoint}/${hub.repo}/resolve/${encodeURIComponent(revision)}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
  const headers: Record<string, string> = {};
  if (hub.settings.token) headers.Authorization = `Bearer ${hub.settings.token}`;
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  const response = await fetch(url, { headers, signal: hub.signal, redirect: 'follow' });
  if (response.status === 416) { offset = 0; rmSync(incomplete, { force: true }); throw new Transient('HTTP 416 (range not satisfiable)', 0); }
  if (!response.ok) {
    await response.body?.cancel();
    throw new HubApiError(url, response.status, response.headers.get('x-request-id') ?? undefined, `HTTP ${response.status}`);
  }
  if (response.status === 200 && offset > 0) offset = 0; // the server sent the whole file
  const handle = await open(incomplete, offset === 0 ? 'w' : 'a');
  let bytes = offset;
  onBytes(bytes);
  try {
    if (!response.body) throw new Transient('empty response body');
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      bytes += chunk.length;
      onNew(chunk.length);
      onBytes(bytes);
    }
  } catch (error) {
    if (hub.signal?.aborted) throw new CancelledError('download');
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new UserError(`The disk under ${hub.settings.cacheDir} filled up after ${gb(bytes)} of ${f.path} (${code}); the partial file is kept.`, 'Free space there and download again: it resumes where it stopped.', { cause: error });
    }
    throw new Transient(`the connection was cut after ${bytes} of ${f.size} bytes of ${f.path}`, 0);
  } finally {
    await handle.close();
  }
  if (bytes < f.size) throw new Transient(`the connection was cut after ${bytes} of ${f.size} bytes of ${f.path}`, 0);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Deletes a repository's folder from the HF cache (blobs, snapshots, refs). */
export function removeCachedRepo(cacheDir: string, repo: string): void {
  rmSync(repoFolder(cacheDir, checkRepoId(repo)), { recursive: true, force: true });
}

/** The blob a snapshot file links to (for sizes), or the file itself. */
export function blobOf(path: string): string {
  try { return join(dirname(path), readlinkSync(path)); } catch { return path; }
}
