/**
 * Installs the llama.cpp runtime into a folder of its own: node-llama-cpp and the one prebuilt binary package this
 * machine needs, by npm from the user's npm registry (package names only; npm's own configuration says where).
 * It is not in the VSIX: its GPU binaries are larger than the whole extension (Vulkan 24 MB, CUDA 143 MB + 177 MB),
 * and a user picks the one that matches the GPU. Install scripts are not run: the prebuilt binaries need none, and
 * node-llama-cpp's would try to download or build llama.cpp where they do not match.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted, UserError } from '../../errors';
import { findLlamaCppIn, LLAMA_CPP_PACKAGE, LLAMA_CPP_VERSION, localBuilds } from './locate';
import { runWithOutput, ToolFailedError } from './processOutput';

export type LlamaCppBinary = 'cpu' | 'vulkan' | 'cuda' | 'metal';

/** Prebuilt binary packages per platform and binary (node-llama-cpp's names). */
const binaryPackages: Record<string, Partial<Record<LlamaCppBinary, string[]>>> = {
  'linux-x64': { cpu: ['linux-x64'], vulkan: ['linux-x64-vulkan'], cuda: ['linux-x64-cuda', 'linux-x64-cuda-ext'] },
  'linux-arm64': { cpu: ['linux-arm64'] },
  'win32-x64': { cpu: ['win-x64'], vulkan: ['win-x64-vulkan'], cuda: ['win-x64-cuda', 'win-x64-cuda-ext'] },
  'win32-arm64': { cpu: ['win-arm64'] },
  'darwin-arm64': { metal: ['mac-arm64-metal'] },
  'darwin-x64': { cpu: ['mac-x64'] },
};

/** What the user chooses from, with the download it costs (npm tarball sizes of 3.22.1). */
export const binaryDescriptions: Record<LlamaCppBinary, string> = {
  cpu: 'CPU only (about 11 MB)',
  vulkan: 'Vulkan: NVIDIA, AMD and Intel GPUs (about 24 MB)',
  cuda: 'CUDA: NVIDIA GPUs, with the CUDA runtime (about 320 MB; needs a driver for CUDA 13)',
  metal: 'Metal: Apple silicon',
};

export function platformKey(platform: string = process.platform, arch: string = process.arch): string {
  return `${platform}-${arch}`;
}

/** The binaries there are for this platform, the best first (a GPU one where there is one). */
export function availableBinaries(platform: string = platformKey()): LlamaCppBinary[] {
  const order: LlamaCppBinary[] = ['metal', 'vulkan', 'cuda', 'cpu'];
  const table = binaryPackages[platform] ?? {};
  return order.filter((b) => table[b] !== undefined);
}

/** npm package specs for `binary` on `platform`, or a UserError naming what this platform has. */
export function packagesFor(binary: LlamaCppBinary, platform: string = platformKey()): string[] {
  const names = binaryPackages[platform]?.[binary];
  if (!names) {
    const there = availableBinaries(platform);
    throw new UserError(`There is no ${binary} build of llama.cpp for ${platform}.`,
      there.length > 0 ? `Choose one of: ${there.join(', ')}.` : 'Use the onnxruntime engine on this platform (it needs no install).');
  }
  return [`${LLAMA_CPP_PACKAGE}@${LLAMA_CPP_VERSION}`, ...names.map((n) => `@node-llama-cpp/${n}@${LLAMA_CPP_VERSION}`)];
}

export interface InstallOptions {
  /** The npm executable (default: npm on PATH). */
  npm?: string;
  /** A registry URL for npm (tests: a local fixture registry); default: npm's own configuration. */
  registry?: string;
  /** npm's output, line by line, for a progress view. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  platform?: string;
}

export interface InstalledRuntime {
  dir: string;
  version: string;
  /** The binary packages in the folder, then the builds made here, as `NAME (built here)`. */
  binaries: string[];
  /** node-llama-cpp's folder names of the builds made here (`prolong runtime build`). */
  builtHere: string[];
}

/** What is installed in `dir` (undefined: nothing). */
export function installedRuntime(dir: string): InstalledRuntime | undefined {
  const found = findLlamaCppIn(dir);
  if (!found) return undefined;
  const scope = join(dir, 'node_modules', '@node-llama-cpp');
  // prebuilt binary packages, then what `prolong runtime build` compiled here (node-llama-cpp loads those first)
  const builtHere = localBuilds(join(found.packageJson, '..'));
  const binaries = [...(existsSync(scope) ? readdirSync(scope).sort() : []), ...builtHere.map((name) => `${name} (built here)`)];
  return { dir, version: found.version, binaries, builtHere };
}

/** True when `dir` holds the llama.cpp runtime with a GPU build (Vulkan, CUDA or Metal). */
export function hasGpuLlamaCpp(dir: string): boolean {
  return installedRuntime(dir)?.binaries.some((name) => /vulkan|cuda|metal/.test(name)) ?? false;
}

/** The command a user can run by hand when the install cannot run here. */
export function manualInstallCommand(dir: string, binary: LlamaCppBinary, platform?: string): string {
  return `cd "${dir}" && npm install --ignore-scripts --omit=optional ${packagesFor(binary, platform).join(' ')}`;
}

export async function installLlamaCpp(dir: string, binary: LlamaCppBinary, options: InstallOptions = {}): Promise<InstalledRuntime> {
  throwIfAborted(options.signal, 'llama.cpp install');
  const packages = packagesFor(binary, options.platform);
  // a runtime installed before stays when this install fails (npm rolls back what it began)
  const hadRuntime = findLlamaCppIn(dir) !== undefined;
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(manifest, JSON.stringify({ name: 'prolong-llama-cpp-runtime', private: true, description: 'The llama.cpp runtime of the ProLong engine (prolong runtime install).' }, null, 2) + '\n');
  }
  // another binary installed before stays (a user may switch back); npm replaces node-llama-cpp at this version
  const args = ['install', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund', '--save-exact', ...packages];
  if (options.registry) args.push('--registry', options.registry);
  const npm = options.npm ?? (process.platform === 'win32' ? 'npm.cmd' : 'npm');
  await runWithOutput(npm, args, {
    cwd: dir, what: 'llama.cpp install', onOutput: options.onOutput, signal: options.signal, shell: process.platform === 'win32',
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true', npm_config_update_notifier: 'false' },
  }).catch((error: unknown) => {
    // a cancelled or failed install must not leave a half-written node-llama-cpp that later looks installed
    if (!hadRuntime) rmSync(join(dir, 'node_modules', LLAMA_CPP_PACKAGE), { recursive: true, force: true });
    if (!(error instanceof ToolFailedError)) throw error;
    throw error.notFound
      ? new UserError(`npm (${npm}) was not found, so the llama.cpp runtime cannot be installed.`, `Install Node.js (it comes with npm), or run by hand: ${manualInstallCommand(dir, binary, options.platform)}`)
      : new UserError(`npm could not install the llama.cpp runtime into ${dir} (exit code ${error.exitCode}): ${error.lastLines}`,
        `Check that npm reaches its registry (\`npm config get registry\`), then try again; or run by hand: ${manualInstallCommand(dir, binary, options.platform)}`);
  });
  const installed = installedRuntime(dir);
  if (!installed) throw new UserError(`npm finished, but ${dir} has no ${LLAMA_CPP_PACKAGE}.`, `Run by hand: ${manualInstallCommand(dir, binary, options.platform)}`);
  return installed;
}
