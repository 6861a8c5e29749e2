// The models a user has: converted ones under a models folder (each with its sidecar), and checkpoints in the HF
// cache not yet converted; plus `pullModel`, the one path from ORG/NAME to a converted model (CLI and extension).
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { convertCheckpoint, type ConvertProgress } from '../../kernels/convert';
import { resolveTokenizerPath } from '../tokenizer';
import { readSidecar, sidecarFileName, type ModelSidecar } from '../../kernels/sidecar';
import { userCacheDir } from '../util/userCache';
import { checkRepoId, listCachedCheckpoints, pullCheckpoint, type CachedCheckpoint, type DownloadProgress, type HubSettings } from './hub';
import { modelFit, type ModelFit, type PullDtype } from './modelFit';
import type { AvailableMemory } from '../runtime/memoryBudget';

/** Where the CLI keeps converted models: $XDG_CACHE_HOME/prolong/models. The extension uses its global storage. */
export function defaultModelsDir(): string {
  return join(userCacheDir(), 'models');
}

/** Folder name of a converted model: ORG--NAME--DTYPE (one folder per repository and dtype). */
export function modelFolderName(repo: string, dtype: PullDtype): string {
  return `${checkRepoId(repo).replace('/', '--')}--${dtype}`;
}

export interface LocalModel {
  kind: 'converted';
  dir: string;
  /** ORG/NAME when it came from the Hub, else the folder's name. */
  name: string;
  sidecar: ModelSidecar;
  bytes: number;
}

export interface CacheModel extends CachedCheckpoint { kind: 'checkpoint' }

export function listConvertedModels(modelsDir: string): LocalModel[] {
  if (!existsSync(modelsDir)) return [];
  const models: LocalModel[] = [];
  for (const name of readdirSync(modelsDir).sort()) {
    const dir = join(modelsDir, name);
    if (name.startsWith('.') || !existsSync(join(dir, sidecarFileName))) continue;
    try {
      const sidecar = readSidecar(dir);
      const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      const match = /^(.+?)--(.+)--(fp16|int4|fp32)$/.exec(name);
      models.push({ kind: 'converted', dir, name: match ? `${match[1]}/${match[2]}` : name, sidecar, bytes });
    } catch { /* a sidecar from another version: not listed */ }
  }
  return models;
}

/** HF-cache checkpoints the converter can read, with their fit; those of another architecture are left out. */
export function listCacheModels(cacheDir: string, available: AvailableMemory): (CacheModel & { fit: ModelFit })[] {
  const out: (CacheModel & { fit: ModelFit })[] = [];
  for (const c of listCachedCheckpoints(cacheDir)) {
    try {
      const config = JSON.parse(readFileSync(join(c.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      out.push({ ...c, kind: 'checkpoint', fit: modelFit(config, join(c.dir, 'config.json'), available) });
    } catch { /* not a Llama-family checkpoint */ }
  }
  return out;
}

export interface PullModelOptions {
  repo: string;
  revision?: string;
  /** auto: fp16 when it reaches the same context as int4 on this machine, else int4. */
  dtype: PullDtype | 'auto';
  /** The converted model's folder (default: modelsDir/ORG--NAME--DTYPE). */
  outDir?: string;
  modelsDir: string;
  settings: HubSettings;
  available: AvailableMemory;
  /** Longest context the converted graph will run (default: the trained context). */
  maxContext?: number;
  /** Also write model.gguf (Q4_0 for int4, F16 for fp16) for the engine's llama.cpp runtime. */
  gguf?: boolean;
  onDownload?: (progress: DownloadProgress) => void;
  onConvert?: (progress: ConvertProgress) => void;
  /** The fit and dtype chosen, before the weights are downloaded. */
  onPlan?: (plan: { fit: ModelFit; dtype: PullDtype }) => void;
  signal?: AbortSignal;
  retryDelayMs?: number;
}

export interface PulledModel {
  repo: string;
  commit: string;
  checkpointDir: string;
  modelDir: string;
  dtype: PullDtype;
  fit: ModelFit;
  downloadedBytes: number;
  reusedBytes: number;
  convertSeconds: number;
}

/** Downloads (or finds in the HF cache) ORG/NAME and converts it; the converted folder appears only when complete. */
export async function pullModel(options: PullModelOptions): Promise<PulledModel> {
  let plan: { fit: ModelFit; dtype: PullDtype } | undefined;
  const pulled = await pullCheckpoint({
    repo: options.repo, revision: options.revision, settings: options.settings, signal: options.signal, onProgress: options.onDownload,
    retryDelayMs: options.retryDelayMs,
    onConfig: (config) => {
      const fit = modelFit(config, `${options.repo}/config.json`, options.available);
      plan = { fit, dtype: options.dtype === 'auto' ? fit.suggestedDtype : options.dtype };
      options.onPlan?.(plan);
    },
  });
  if (!plan) {
    const config = JSON.parse(readFileSync(join(pulled.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const fit = modelFit(config, join(pulled.dir, 'config.json'), options.available);
    plan = { fit, dtype: options.dtype === 'auto' ? fit.suggestedDtype : options.dtype };
    options.onPlan?.(plan);
  }
  const modelDir = options.outDir ?? join(options.modelsDir, modelFolderName(pulled.repo, plan.dtype));
  const result = await convertCheckpoint(pulled.dir, modelDir, {
    dtype: plan.dtype, maxContext: options.maxContext,
    ...(options.gguf ? { gguf: plan.dtype === 'fp16' ? 'f16' as const : 'q4_0' as const, ggufTokenizerFallback: resolveTokenizerPath() } : {}),
  }, options.onConvert, options.signal);
  return {
    repo: pulled.repo, commit: pulled.commit, checkpointDir: pulled.dir, modelDir, dtype: plan.dtype, fit: plan.fit,
    downloadedBytes: pulled.downloadedBytes, reusedBytes: pulled.reusedBytes, convertSeconds: result.seconds,
  };
}

/** Deletes a converted model folder (only one with a sidecar: never an arbitrary folder). */
export function removeConvertedModel(dir: string): void {
  if (!existsSync(join(dir, sidecarFileName))) throw new UserError(`${dir} is not a converted ProLong model (no ${sidecarFileName}).`, 'Nothing was deleted.');
  rmSync(dir, { recursive: true, force: true });
}
