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
import { appendFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { throwIfAborted, UserError } from '../../errors';
import { availableBinaries, installedRuntime, installLlamaCpp, type InstalledRuntime, type LlamaCppBinary } from './install';
import { findLlamaCppIn, localBuilds } from './locate';
import { runWithOutput, ToolFailedError } from './processOutput';

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

function onPath(command: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  const names = platform === 'win32' ? [`${command}.exe`, `${command}.cmd`] : [command];
  for (const folder of (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (existsSync(join(folder, name))) return join(folder, name);
  }
  return undefined;
}

/**
 * CMake from PATH or, on Windows, where Visual Studio puts it (its "C++ CMake tools", in every edition and in the
 * Build Tools; on PATH only inside a developer prompt, where cmake-js finds it too) or CMake's own installer does.
 */
export function findCMake(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  const found = onPath('cmake', env, platform);
  if (found || platform !== 'win32') return found;
  const inVisualStudio = visualStudioInstallations(env).map((root) => join(root, 'Common7', 'IDE', 'CommonExtensions', 'Microsoft', 'CMake', 'CMake', 'bin', 'cmake.exe'));
  const installed = programFilesFolders(env).map((root) => join(root, 'CMake', 'bin', 'cmake.exe'));
  return [...inVisualStudio, ...installed].find((path) => existsSync(path));
}

function programFilesFolders(env: NodeJS.ProcessEnv): string[] {
  return [...new Set([env.ProgramFiles, env['ProgramFiles(x86)'], env.ProgramW6432].filter((p): p is string => Boolean(p)))];
}

/** Visual Studio's installations: as vswhere (installed with every one since 2017) lists them, else its usual folders. */
function visualStudioInstallations(env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const root of programFilesFolders(env)) {
    const vswhere = join(root, 'Microsoft Visual Studio', 'Installer', 'vswhere.exe');
    if (!existsSync(vswhere)) continue;
    const listed = spawnSync(vswhere, ['-all', '-products', '*', '-property', 'installationPath'], { encoding: 'utf8', windowsHide: true });
    if (listed.status === 0) found.push(...listed.stdout.split(/\r?\n/).map((line) => line.trim()).filter(Boolean));
  }
  for (const root of programFilesFolders(env)) {
    const base = join(root, 'Microsoft Visual Studio');
    for (const version of folderNames(base).filter((name) => /^\d+$/.test(name)).sort().reverse()) {
      for (const edition of folderNames(join(base, version))) found.push(join(base, version, edition));
    }
  }
  return [...new Set(found)];
}

/** The names in a folder; none when it is missing or unreadable (a lookup, not an error). */
function folderNames(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

/** nvcc from PATH, $CUDA_PATH or $CUDA_HOME, or the toolkit's usual place. */
function findNvcc(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const found = onPath('nvcc', env, platform);
  if (found) return found;
  const roots = [env.CUDA_PATH, env.CUDA_HOME, platform === 'win32' ? undefined : '/usr/local/cuda'].filter((r): r is string => Boolean(r));
  for (const root of roots) {
    const nvcc = join(root, 'bin', platform === 'win32' ? 'nvcc.exe' : 'nvcc');
    if (existsSync(nvcc)) return nvcc;
  }
  return undefined;
}

/** How to get the build tools on this platform. */
function toolsHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'xcode-select --install, then brew install cmake';
  if (platform === 'win32') return 'Visual Studio Build Tools with "Desktop development with C++" (it has CMake), git, and the CUDA toolkit from NVIDIA for CUDA';
  return 'on Debian or Ubuntu: apt-get install cmake git g++; the CUDA toolkit from NVIDIA for CUDA';
}

/**
 * The tools a build for `gpu` needs, checked before anything starts; returns the environment to build in (the folders
 * of CMake and nvcc put on PATH when they were found outside it), or throws a UserError naming every missing tool.
 */
export function checkBuildTools(gpu: LlamaCppBinary, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv {
  const missing: string[] = [];
  let buildEnv = env;
  // a tool found outside PATH goes first on the build's PATH (cmake-js and CMake look there)
  const addToPath = (tool: string) => { buildEnv = { ...buildEnv, PATH: `${dirname(tool)}${delimiter}${buildEnv.PATH ?? buildEnv.Path ?? ''}` }; };
  const cmake = findCMake(env, platform);
  if (!cmake) missing.push('CMake (cmake)');
  else if (!onPath('cmake', env, platform)) addToPath(cmake);
  if (!onPath('git', env, platform)) missing.push('git');
  if (platform !== 'win32' && !['c++', 'g++', 'clang++'].some((c) => onPath(c, env, platform))) missing.push('a C++ compiler (g++ or clang++)');
  if (gpu === 'cuda') {
    const nvcc = findNvcc(env, platform);
    if (!nvcc) missing.push('the CUDA toolkit (nvcc; set CUDA_PATH to where it is installed)');
    else if (!onPath('nvcc', env, platform)) addToPath(nvcc);
  }
  if (gpu === 'vulkan' && !onPath('glslc', env, platform)) missing.push('the Vulkan SDK (glslc)');
  if (missing.length > 0) {
    throw new UserError(`Building llama.cpp (${gpu}) on this machine needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not on PATH.`,
      `Install them (${toolsHint(platform)}), then build again; or install a prebuilt binary instead.`);
  }
  return buildEnv;
}

/**
 * llama.cpp's source beside node-llama-cpp (llama/llama.cpp), cloned from the git bundle in its package, with the
 * package's patches applied as its own download command applies them; left as it is when it is already there. It is
 * cloned and patched in a folder beside and renamed into place last, so an interrupted clone is never taken for one.
 */
async function ensureSource(packageDir: string, options: BuildOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const llamaDir = join(packageDir, 'llama');
  const source = join(llamaDir, 'llama.cpp');
  if (existsSync(join(source, '.git'))) return;
  const bundle = join(llamaDir, 'gitRelease.bundle');
  if (!existsSync(bundle)) {
    throw new UserError(`${packageDir} has no llama.cpp source (llama/gitRelease.bundle) to build from.`, 'Install the runtime again (prolong runtime install), then build.');
  }
  const staging = join(llamaDir, 'llama.cpp.prolong-clone');
  rmSync(staging, { recursive: true, force: true });
  const run = (args: string[], cwd: string, what: string) => runWithOutput('git', args, { cwd, env, onOutput: options.onOutput, signal: options.signal, what });
  try {
    // the source as the bundle holds it, whatever git's line-ending settings (patches must apply to it)
    await run(['-c', 'core.autocrlf=false', '-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, staging], llamaDir, 'git (cloning the llama.cpp source bundle)');
    const patches = join(llamaDir, 'patches');
    for (const patch of existsSync(patches) ? readdirSync(patches).filter((name) => name.endsWith('.diff')).sort() : []) {
      // a patch that reverses cleanly is already in this release (node-llama-cpp skips merged patches too)
      const merged = spawnSync('git', ['apply', '--reverse', '--check', '--ignore-whitespace', join(patches, patch)], { cwd: staging, env, windowsHide: true });
      if (merged.status === 0) { options.onOutput?.(`patch ${patch}: already in this release, skipped`); continue; }
      await run(['apply', '--ignore-whitespace', join(patches, patch)], staging, `git apply ${patch}`);
      options.onOutput?.(`patch ${patch}: applied`);
    }
    rmSync(source, { recursive: true, force: true });
    renameSync(staging, source);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Where the builds there were before a build wait until it ends (node-llama-cpp deletes a build's folder first). */
function previousBuildsDir(packageDir: string): string {
  return join(packageDir, 'llama', 'localBuilds.prolong-previous');
}

/** Moves the finished local builds aside; returns their names (a folder that cannot move, in use on Windows, stays). */
function setBuildsAside(packageDir: string): string[] {
  const aside = previousBuildsDir(packageDir);
  rmSync(aside, { recursive: true, force: true });
  mkdirSync(aside, { recursive: true });
  const moved: string[] = [];
  for (const name of localBuilds(packageDir)) {
    try { renameSync(join(packageDir, 'llama', 'localBuilds', name), join(aside, name)); moved.push(name); } catch { /* stays where it is */ }
  }
  return moved;
}

/**
 * After a build: a folder the build did not finish is deleted, and each build set aside comes back unless the build
 * made a new one of that name (a failed or cancelled rebuild leaves the working build in place).
 */
function restoreBuilds(packageDir: string, moved: string[]): void {
  const builds = join(packageDir, 'llama', 'localBuilds');
  const finished = new Set(localBuilds(packageDir));
  if (existsSync(builds)) {
    for (const name of readdirSync(builds)) if (!finished.has(name)) rmSync(join(builds, name), { recursive: true, force: true });
  }
  for (const name of moved) {
    if (finished.has(name)) continue;
    mkdirSync(builds, { recursive: true });
    renameSync(join(previousBuildsDir(packageDir), name), join(builds, name));
  }
  rmSync(previousBuildsDir(packageDir), { recursive: true, force: true });
}

/** A prebuilt binary to install with node-llama-cpp when the folder has none: the CPU one where there is one. */
function fallbackBinary(gpu: LlamaCppBinary): LlamaCppBinary {
  const prebuilt = availableBinaries();
  return prebuilt.includes('cpu') ? 'cpu' : prebuilt.includes(gpu) ? gpu : prebuilt[0] ?? 'cpu';
}

/**
 * Builds llama.cpp for `gpu` into the runtime in `dir` (installing node-llama-cpp there first when it is missing)
 * and returns what is installed, the local build listed among the binaries. The whole output goes to
 * `dir/build-GPU.log`. A cancelled or failed build leaves the runtime's builds as they were.
 */
export async function buildLlamaCpp(dir: string, gpu: LlamaCppBinary, options: BuildOptions = {}): Promise<InstalledRuntime> {
  throwIfAborted(options.signal, 'llama.cpp build');
  const env = checkBuildTools(gpu, options.env ?? process.env);
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, `build-${gpu}.log`);
  writeFileSync(logPath, `prolong runtime build --gpu ${gpu}, ${new Date().toISOString()}\n`);
  const onOutput = (line: string) => { appendFileSync(logPath, line + '\n'); options.onOutput?.(line); };
  try {
    if (!findLlamaCppIn(dir)) {
      // a prebuilt binary comes with it: a fallback while the build runs, and when it fails
      await installLlamaCpp(dir, fallbackBinary(gpu), { signal: options.signal, registry: options.registry, onOutput: (line) => onOutput(`npm: ${line}`) });
    }
    const packageDir = dirname(findLlamaCppIn(dir)!.packageJson);
    await ensureSource(packageDir, { ...options, onOutput }, env);
    const cli = join(packageDir, 'dist', 'cli', 'cli.js');
    const started = Date.now();
    const moved = setBuildsAside(packageDir);
    try {
      await runWithOutput(process.execPath, [cli, 'source', 'build', '--gpu', gpu === 'cpu' ? 'false' : gpu, '--noUsageExample'], {
        cwd: dir, onOutput, signal: options.signal, what: `node-llama-cpp's build (${gpu})`, processGroup: true,
        // no download of anything while building (node-llama-cpp would fetch CMake or prebuilt binaries otherwise)
        env: { ...env, ELECTRON_RUN_AS_NODE: '1', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
      });
    } finally {
      restoreBuilds(packageDir, moved);
    }
    // the build this run finished: its folder's done marker is newer than the start
    const built = localBuilds(packageDir).filter((name) => statSync(join(packageDir, 'llama', 'localBuilds', name, 'buildDone.status')).mtimeMs >= started - 2000);
    if (built.length === 0) {
      throw new UserError(`node-llama-cpp's build finished, but ${join(packageDir, 'llama', 'localBuilds')} has no new ${gpu} build.`,
        `${logPath} has what the build printed; build again after fixing what it says.`);
    }
    return installedRuntime(dir)!;
  } catch (error) {
    if (error instanceof ToolFailedError && !error.notFound) {
      throw new UserError(`${error.message}.`, `${logPath} has the whole output; fix what it says (${toolsHint()}), then build again.`, { cause: error });
    }
    throw error;
  }
}
