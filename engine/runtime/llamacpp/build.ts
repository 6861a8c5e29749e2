/**
 * Builds the llama.cpp runtime's binary on this machine, from the llama.cpp source node-llama-cpp ships (a git
 * bundle in its package: nothing is downloaded), with node-llama-cpp's own build (`source build`: CMake through
 * cmake-js, GGML_NATIVE, so CUDA code is compiled for the GPUs this machine has).
 *
 * Why: a prebuilt binary can fail where a local build works. node-llama-cpp's prebuilt CUDA build carries PTX from a
 * newer toolkit than some drivers accept ("the provided PTX was compiled with an unsupported toolchain", measured on
 * an H200 with driver 580 / CUDA 13.0); built here with the machine's own CUDA toolkit, it runs llama.cpp's CUDA
 * kernels. It needs CMake, git, a C++ compiler and, for CUDA, the CUDA toolkit (nvcc); each is checked first and a
 * missing one is named.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { throwIfAborted, UserError } from '../../errors';
import { installedRuntime, installLlamaCpp, type InstalledRuntime, type LlamaCppBinary } from './install';
import { findLlamaCppIn, localBuilds } from './locate';
import { runWithOutput } from './processOutput';

export interface BuildOptions {
  /** The build's output (git, CMake, the compiler), line by line, for a progress view. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  /** The environment the tools are looked up in and run with (tests: a PATH without them). */
  env?: NodeJS.ProcessEnv;
  /** Passed to the npm install of node-llama-cpp when it is not in `dir` yet (tests: a local registry). */
  registry?: string;
}

/** How long a build takes, for the user who decides whether to start one (measured: see BENCHMARKS.md). */
export const buildDurations = 'about 5 minutes on 16 cores for CUDA, longer on fewer';

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const names = process.platform === 'win32' ? [`${command}.exe`, `${command}.cmd`] : [command];
  for (const folder of (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (existsSync(join(folder, name))) return join(folder, name);
  }
  return undefined;
}

/** nvcc from PATH, $CUDA_PATH or $CUDA_HOME, or the toolkit's usual place. */
function findNvcc(env: NodeJS.ProcessEnv): string | undefined {
  const found = onPath('nvcc', env);
  if (found) return found;
  const roots = [env.CUDA_PATH, env.CUDA_HOME, process.platform === 'win32' ? undefined : '/usr/local/cuda'].filter((r): r is string => Boolean(r));
  for (const root of roots) {
    const nvcc = join(root, 'bin', process.platform === 'win32' ? 'nvcc.exe' : 'nvcc');
    if (existsSync(nvcc)) return nvcc;
  }
  return undefined;
}

/**
 * The tools a build for `gpu` needs, checked before anything starts; returns the environment to build in (nvcc's
 * folder put on PATH when it was found outside it), or throws a UserError naming every missing tool.
 */
export function checkBuildTools(gpu: LlamaCppBinary, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const missing: string[] = [];
  if (!onPath('cmake', env)) missing.push('CMake (cmake)');
  if (!onPath('git', env)) missing.push('git');
  if (process.platform !== 'win32' && !['c++', 'g++', 'clang++'].some((c) => onPath(c, env))) missing.push('a C++ compiler (g++ or clang++)');
  let buildEnv = env;
  if (gpu === 'cuda') {
    const nvcc = findNvcc(env);
    if (!nvcc) missing.push('the CUDA toolkit (nvcc; set CUDA_PATH to where it is installed)');
    else if (!onPath('nvcc', env)) buildEnv = { ...env, PATH: `${dirname(nvcc)}${delimiter}${env.PATH ?? ''}` };
  }
  if (gpu === 'vulkan' && !onPath('glslc', env)) missing.push('the Vulkan SDK (glslc)');
  if (missing.length > 0) {
    throw new UserError(`Building llama.cpp (${gpu}) on this machine needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not on PATH.`,
      'Install them (on Debian or Ubuntu: apt-get install cmake git g++; the CUDA toolkit from NVIDIA), then build again; or install a prebuilt binary instead.');
  }
  return buildEnv;
}

/**
 * llama.cpp's source beside node-llama-cpp (llama/llama.cpp), cloned from the git bundle in its package, with the
 * package's patches applied as its own download command applies them; left as it is when it is already there.
 */
async function ensureSource(packageDir: string, options: BuildOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const llamaDir = join(packageDir, 'llama');
  const source = join(llamaDir, 'llama.cpp');
  if (existsSync(join(source, '.git'))) return;
  const bundle = join(llamaDir, 'gitRelease.bundle');
  if (!existsSync(bundle)) {
    throw new UserError(`${packageDir} has no llama.cpp source (llama/gitRelease.bundle) to build from.`, 'Install the runtime again (prolong runtime install), then build.');
  }
  rmSync(source, { recursive: true, force: true });
  try {
    await runWithOutput('git', ['clone', '--quiet', bundle, source], { cwd: llamaDir, env, onOutput: options.onOutput, signal: options.signal, what: 'git (cloning the llama.cpp source bundle)' });
    const patches = join(llamaDir, 'patches');
    for (const patch of existsSync(patches) ? readdirSync(patches).filter((name) => name.endsWith('.diff')).sort() : []) {
      // a patch already in this release does not apply: check first, as node-llama-cpp skips merged patches
      const check = spawnSync('git', ['apply', '--check', join(patches, patch)], { cwd: source, env, windowsHide: true });
      if (check.status !== 0) { options.onOutput?.(`patch ${patch}: already in this release, skipped`); continue; }
      await runWithOutput('git', ['apply', join(patches, patch)], { cwd: source, env, onOutput: options.onOutput, signal: options.signal, what: `git apply ${patch}` });
      options.onOutput?.(`patch ${patch}: applied`);
    }
  } catch (error) {
    rmSync(source, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Builds llama.cpp for `gpu` into the runtime in `dir` (installing node-llama-cpp there first when it is missing)
 * and returns what is installed, the local build listed among the binaries. A cancelled or failed build leaves the
 * runtime as it was: node-llama-cpp writes a local build's folder only when its build has finished.
 */
export async function buildLlamaCpp(dir: string, gpu: LlamaCppBinary, options: BuildOptions = {}): Promise<InstalledRuntime> {
  throwIfAborted(options.signal, 'llama.cpp build');
  const env = checkBuildTools(gpu, options.env ?? process.env);
  if (!findLlamaCppIn(dir)) {
    // the CPU binary comes with it: a fallback while the build runs, and when it fails
    await installLlamaCpp(dir, 'cpu', { signal: options.signal, registry: options.registry, onOutput: (line) => options.onOutput?.(`npm: ${line}`) });
  }
  const found = findLlamaCppIn(dir)!;
  const packageDir = dirname(found.packageJson);
  await ensureSource(packageDir, options, env);
  const cli = join(packageDir, 'dist', 'cli', 'cli.js');
  const before = new Set(localBuilds(packageDir));
  await runWithOutput(process.execPath, [cli, 'source', 'build', '--gpu', gpu === 'cpu' ? 'false' : gpu, '--noUsageExample'], {
    cwd: dir, onOutput: options.onOutput, signal: options.signal, what: `node-llama-cpp's build (${gpu})`, processGroup: true,
    // no download of anything while building (node-llama-cpp would fetch CMake or prebuilt binaries otherwise)
    env: { ...env, ELECTRON_RUN_AS_NODE: '1', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  const built = localBuilds(packageDir).filter((name) => !before.has(name) || name.includes(gpu === 'cpu' ? 'cpu' : gpu));
  if (built.length === 0) {
    throw new UserError(`node-llama-cpp's build finished, but ${join(packageDir, 'llama', 'localBuilds')} has no ${gpu} build.`,
      'See the build output above for what CMake did; build again after fixing it.');
  }
  return installedRuntime(dir)!;
}
