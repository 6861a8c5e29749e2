/**
 * Finds and loads the llama.cpp runtime (the npm package node-llama-cpp with one prebuilt binary package) from
 * the folder it was installed into, else from this program's own node_modules (a development checkout).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../../errors';
import type { SettingNames } from '../../settingNames';
import { userCacheDir } from '../../util/userCache';
import type { Llama, LlamaGpuType, NodeLlamaCppModule } from './api';

/** Where the CLI installs and finds the llama.cpp runtime: $PROLONG_LLAMA_CPP_DIR, else $XDG_CACHE_HOME/prolong/llama.cpp (the extension: its global storage). */
export function defaultLlamaCppDir(): string {
  return process.env.PROLONG_LLAMA_CPP_DIR || join(userCacheDir(), 'llama.cpp');
}

/** The version this project installs and tests; its prebuilt binary packages carry the same version. */
export const LLAMA_CPP_PACKAGE = 'node-llama-cpp';
export const LLAMA_CPP_VERSION = '3.22.1';

export interface LlamaCppRuntime {
  /** The installed package's folder. */
  packageDir: string;
  version: string;
  module: NodeLlamaCppModule;
}

type FoundRuntime = { packageJson: string; version: string };

function described(packageJson: string): FoundRuntime {
  return { packageJson, version: (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? 'unknown' };
}

/** node-llama-cpp in an install folder (dir/node_modules/node-llama-cpp), else undefined. */
export function findLlamaCppIn(dir: string): FoundRuntime | undefined {
  const candidate = resolve(dir, 'node_modules', LLAMA_CPP_PACKAGE, 'package.json');
  return existsSync(candidate) ? described(candidate) : undefined;
}

/** The folders of node-llama-cpp's local builds in `packageDir` (node-llama-cpp names them by platform and GPU). */
export function localBuilds(packageDir: string): string[] {
  const dir = join(packageDir, 'llama', 'localBuilds');
  if (!existsSync(dir)) return [];
  // node-llama-cpp writes buildDone.status last, and loads only a folder that has it
  return readdirSync(dir).filter((name) => existsSync(join(dir, name, 'buildDone.status'))).sort();
}

function ownPackageJson(): string | undefined {
  try { return createRequire(__filename).resolve(`${LLAMA_CPP_PACKAGE}/package.json`); } catch { return undefined; }
}

/** Where the runtime is, or undefined when it is not installed in `installDir` nor beside this program. */
export function findLlamaCpp(installDir: string | undefined): FoundRuntime | undefined {
  const installed = installDir ? findLlamaCppIn(installDir) : undefined;
  if (installed) return installed;
  const own = ownPackageJson();
  return own ? described(own) : undefined;
}

export function notInstalledError(installDir: string | undefined, names: SettingNames): UserError {
  return new UserError(`The llama.cpp runtime is not installed${installDir ? ` in ${installDir}` : ''}.`,
    `Install it with ${names.installLlamaCpp}, or set ${names.runtime} to onnx.`);
}

/** `found`: what findLlamaCpp already returned, when the caller looked first. */
export async function loadLlamaCpp(installDir: string | undefined, names: SettingNames, found = findLlamaCpp(installDir)): Promise<LlamaCppRuntime> {
  if (!found) throw notInstalledError(installDir, names);
  const packageDir = join(found.packageJson, '..');
  // node-llama-cpp is an ES module: import() by file URL, from wherever it was installed
  const entry = createRequire(found.packageJson).resolve(LLAMA_CPP_PACKAGE);
  let module: NodeLlamaCppModule;
  try {
    module = await import(pathToFileURL(entry).href) as NodeLlamaCppModule;
  } catch (error) {
    throw new UserError(`The llama.cpp runtime in ${packageDir} does not load: ${(error as Error).message}.`, `Install it again with ${names.installLlamaCpp}.`, { cause: error });
  }
  return { packageDir, version: found.version, module };
}

/**
 * llama.cpp with the GPU backend its installed binary has (`auto`: CUDA, Vulkan or Metal where the binary and the
 * machine have one), else the CPU. Never builds from source and never downloads.
 */
export async function startLlama(runtime: LlamaCppRuntime, gpu: 'auto' | LlamaGpuType, names: SettingNames, exclude: LlamaGpuType[] = []): Promise<Llama> {
  const messages: string[] = [];
  const start = (which: 'auto' | LlamaGpuType) => runtime.module.getLlama({
    gpu: which === 'auto' && exclude.length > 0 ? { type: 'auto', exclude } : which, build: 'never', skipDownload: true, progressLogs: false, logLevel: 'error',
    // llama.cpp's errors (a CUDA error before an abort, say) go to the engine's stderr, the extension's log
    logger: (level, message) => {
      if (level !== 'error' && level !== 'fatal') return;
      messages.push(message.trim());
      process.stderr.write(`llama.cpp: ${message.trim()}\n`);
    },
  });
  try {
    const llama = await start(gpu);
    if (gpu !== 'auto' || llama.gpu === false) return llama;
    // A Vulkan loader with only a software device (lavapipe, as on GPU-less CI machines) lists no GPU: that is the CPU
    const devices = await llama.getGpuDeviceNames().catch(() => [] as string[]);
    if (devices.length > 0) return llama;
    await llama.dispose();
    return await start(false);
  } catch (error) {
    const detail = [(error as Error).message, ...messages].filter(Boolean).join('; ');
    throw new UserError(`The llama.cpp runtime in ${runtime.packageDir} cannot start${gpu === 'auto' || gpu === false ? '' : ` with ${gpu}`}: ${detail}.`,
      `Install the binary for this machine with ${names.installLlamaCpp}, or set ${names.runtime} to onnx.`, { cause: error });
  }
}
