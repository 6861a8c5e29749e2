// `prolong runtime build` (engine/runtime/llamacpp/build.ts) on a runtime folder made here: node-llama-cpp's layout
// with a real git bundle of a tiny source tree and its patches, and a stand-in for node-llama-cpp's CLI that records
// how it was called and writes a local build (the real one compiles llama.cpp for minutes: see the last test). Real
// git clones the bundle and applies the patches. Checked: missing tools are named before anything starts, the source
// is cloned and patched (a patch already in the source is skipped), the build's lines reach the progress view, the
// result lists the local build, a failed build says what the build printed and where its log is, and a failed or
// cancelled rebuild (node-llama-cpp empties the build's folder first) leaves the working build in place; a cancel
// stops the build's whole process group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CancelledError, UserError } from '../../engine/errors';
import { buildLlamaCpp, checkBuildTools, findCMake } from '../../engine/runtime/llamacpp/build';
import { installedRuntime } from '../../engine/runtime/llamacpp/install';
import { localBuilds } from '../../engine/runtime/llamacpp/locate';
import { tempDir } from '../tempDirs';

const unix = process.platform !== 'win32';

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** A folder of stand-in tools (cmake, a compiler, nvcc) and the real git, to be the whole PATH. */
function toolsDir(names: string[]): string {
  const dir = tempDir('prolong-build-tools-');
  for (const name of names) {
    if (name === 'git') { symlinkSync(spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim(), join(dir, 'git')); continue; }
    writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const FAKE_CLI = `
const { mkdirSync, writeFileSync, existsSync, readFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const { join, resolve } = require('node:path');
const pkg = resolve(__dirname, '..', '..');
const source = join(pkg, 'llama', 'llama.cpp');
writeFileSync(join(pkg, 'build-call.json'), JSON.stringify({
  args: process.argv.slice(2), cwd: process.cwd(), skipDownload: process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD,
  cloned: existsSync(join(source, '.git')), text: readFileSync(join(source, 'src.txt'), 'utf8'),
}));
const mode = process.env.FAKE_BUILD_MODE;
// as node-llama-cpp does: the build's folder is emptied first, then CMake builds in it
const folder = join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda');
require('node:fs').rmSync(folder, { recursive: true, force: true });
mkdirSync(join(folder, 'Release'), { recursive: true });
writeFileSync(join(folder, 'Release', 'half-built.o'), '');
console.log('-- Using CMAKE_CUDA_ARCHITECTURES=90-real');
if (mode === 'fail') { console.error('CMake Error at ggml/CMakeLists.txt:12: no CUDA compiler'); process.exit(1); }
if (mode === 'hang') {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  writeFileSync(join(pkg, 'compiler.pid'), String(child.pid));
  console.log('[1/297] Building CUDA object');
  setInterval(() => {}, 1000);
} else {
  require('node:fs').rmSync(join(folder, 'Release', 'half-built.o'));
  writeFileSync(join(folder, 'Release', 'llama-addon.node'), 'built ' + Date.now());
  writeFileSync(join(folder, 'buildDone.status'), '');
  console.log('[297/297] Linking CXX shared library Release/llama-addon.node');
}
`;

/** Whether `pid` runs (a zombie, left unreaped by a container's init, does not). */
function running(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  const stat = `/proc/${pid}/stat`;
  return !(existsSync(stat) && / Z /.test(readFileSync(stat, 'utf8')));
}

/** A runtime folder as `prolong runtime install` leaves it, with node-llama-cpp's source bundle and patches. */
function runtimeDir(): { dir: string; pkg: string } {
  const dir = tempDir('prolong-build-rt-');
  const pkg = join(dir, 'node_modules', 'node-llama-cpp');
  mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(pkg, 'llama', 'patches'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'node-llama-cpp', version: '3.22.1' }));
  writeFileSync(join(pkg, 'dist', 'cli', 'cli.js'), FAKE_CLI);
  const repo = tempDir('prolong-build-src-');
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'src.txt'), 'one\nfixed\n');
  writeFileSync(join(repo, 'other.txt'), 'fixed\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'release');
  git(repo, 'bundle', 'create', '-q', join(pkg, 'llama', 'gitRelease.bundle'), 'HEAD', 'main');
  // one patch to apply, one already in the release
  writeFileSync(join(repo, 'src.txt'), 'two\nfixed\n');
  writeFileSync(join(pkg, 'llama', 'patches', 'a-change.diff'), git(repo, 'diff'));
  git(repo, 'checkout', '-q', '--', 'src.txt');
  writeFileSync(join(pkg, 'llama', 'patches', 'b-merged.diff'), [
    'diff --git a/other.txt b/other.txt', '--- a/other.txt', '+++ b/other.txt', '@@ -1 +1 @@', '-broken', '+fixed', '',
  ].join('\n'));
  return { dir, pkg };
}

test('missing build tools are named before anything starts', { skip: !unix }, () => {
  const empty = tempDir('prolong-build-none-');
  const error = (() => { try { checkBuildTools('cuda', { PATH: empty, CUDA_PATH: join(empty, 'nowhere') }); } catch (e) { return e; } })();
  assert.ok(error instanceof UserError, String(error));
  assert.match(error.message, /CMake \(cmake\).*git.*a C\+\+ compiler/);
  if (!existsSync('/usr/local/cuda/bin/nvcc')) assert.match(error.message, /the CUDA toolkit \(nvcc; set CUDA_PATH/);
  assert.match(error.hint ?? '', /apt-get install cmake git g\+\+/);
  // Vulkan needs the SDK's shader compiler
  assert.throws(() => checkBuildTools('vulkan', { PATH: toolsDir(['cmake', 'git', 'g++']) }), /the Vulkan SDK \(glslc\)/);
  // nvcc outside PATH, under CUDA_PATH, is found and put on the build's PATH
  const tools = toolsDir(['cmake', 'git', 'c++']);
  const cuda = tempDir('prolong-build-cuda-');
  mkdirSync(join(cuda, 'bin'));
  writeFileSync(join(cuda, 'bin', 'nvcc'), '#!/bin/sh\n');
  const env = checkBuildTools('cuda', { PATH: tools, CUDA_PATH: cuda });
  assert.equal(env.PATH, `${join(cuda, 'bin')}${delimiter}${tools}`);
});

test('on Windows, CMake from Visual Studio or its own installer, off PATH, is found and put on the build\'s PATH', { skip: !unix }, () => {
  const tools = tempDir('prolong-build-wintools-');
  writeFileSync(join(tools, 'git.exe'), '');
  const vsCMake = (root: string) => join(root, 'Common7', 'IDE', 'CommonExtensions', 'Microsoft', 'CMake', 'CMake', 'bin');
  // Build Tools in the usual folder
  const programFiles = tempDir('prolong-build-pf-');
  const bin = vsCMake(join(programFiles, 'Microsoft Visual Studio', '2022', 'BuildTools'));
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'cmake.exe'), '');
  assert.equal(findCMake({ PATH: tools, 'ProgramFiles(x86)': programFiles }, 'win32'), join(bin, 'cmake.exe'));
  const env = checkBuildTools('cpu', { Path: tools, 'ProgramFiles(x86)': programFiles }, 'win32');
  assert.equal(env.PATH, `${bin}${delimiter}${tools}`);
  // an installation elsewhere, as vswhere lists it
  const elsewhere = tempDir('prolong-build-vs-');
  mkdirSync(vsCMake(elsewhere), { recursive: true });
  writeFileSync(join(vsCMake(elsewhere), 'cmake.exe'), '');
  const withInstaller = tempDir('prolong-build-pf2-');
  mkdirSync(join(withInstaller, 'Microsoft Visual Studio', 'Installer'), { recursive: true });
  const vswhere = join(withInstaller, 'Microsoft Visual Studio', 'Installer', 'vswhere.exe');
  writeFileSync(vswhere, `#!/bin/sh\n[ "$*" = "-all -products * -property installationPath" ] && echo '${elsewhere}'\n`);
  chmodSync(vswhere, 0o755);
  assert.equal(findCMake({ PATH: tools, 'ProgramFiles(x86)': withInstaller }, 'win32'), join(vsCMake(elsewhere), 'cmake.exe'));
  // CMake's own installer's folder
  const cmakeInstalled = tempDir('prolong-build-pf3-');
  mkdirSync(join(cmakeInstalled, 'CMake', 'bin'), { recursive: true });
  writeFileSync(join(cmakeInstalled, 'CMake', 'bin', 'cmake.exe'), '');
  assert.equal(findCMake({ PATH: tools, ProgramFiles: cmakeInstalled }, 'win32'), join(cmakeInstalled, 'CMake', 'bin', 'cmake.exe'));
  // none of them: CMake is named, with Windows' hint; on Linux those folders are not looked in
  assert.throws(() => checkBuildTools('cpu', { PATH: tools }, 'win32'), (error: unknown) => error instanceof UserError && /CMake \(cmake\)/.test(error.message) && /Visual Studio Build Tools/.test(error.hint ?? ''));
  assert.equal(findCMake({ PATH: tools, 'ProgramFiles(x86)': programFiles }, 'linux'), undefined);
});

test('a build clones the bundled source, applies its patches, runs node-llama-cpp\'s build and lists the local build', { skip: !unix }, async () => {
  const { dir, pkg } = runtimeDir();
  const lines: string[] = [];
  const installed = await buildLlamaCpp(dir, 'cuda', { env: { PATH: toolsDir(['cmake', 'git', 'g++', 'nvcc']) }, onOutput: (line) => lines.push(line) });
  const call = JSON.parse(readFileSync(join(pkg, 'build-call.json'), 'utf8')) as { args: string[]; cwd: string; skipDownload: string; cloned: boolean; text: string };
  assert.deepEqual(call.args, ['source', 'build', '--gpu', 'cuda', '--noUsageExample']);
  assert.equal(call.skipDownload, 'true');
  assert.equal(call.cloned, true);
  assert.equal(call.text, 'two\nfixed\n', 'the first patch applied');
  assert.ok(lines.includes('patch a-change.diff: applied'), lines.join('\n'));
  assert.ok(lines.includes('patch b-merged.diff: already in this release, skipped'), lines.join('\n'));
  assert.ok(lines.some((line) => line.includes('Linking CXX shared library')), lines.join('\n'));
  assert.deepEqual(localBuilds(pkg), ['linux-x64-cuda']);
  assert.ok(installed.binaries.includes('linux-x64-cuda (built here)'), installed.binaries.join(', '));
  assert.deepEqual(installedRuntime(dir)?.binaries, ['linux-x64-cuda (built here)']);
  assert.deepEqual(installedRuntime(dir)?.builtHere, ['linux-x64-cuda']);
  // a second build reuses the cloned source (the patched text stays)
  await buildLlamaCpp(dir, 'cuda', { env: { PATH: toolsDir(['cmake', 'git', 'g++', 'nvcc']) } });
  assert.equal((JSON.parse(readFileSync(join(pkg, 'build-call.json'), 'utf8')) as { text: string }).text, 'two\nfixed\n');
});

test('a failed build says what it printed and where its whole output is; a working build and the cloned source stay', { skip: !unix }, async () => {
  const { dir, pkg } = runtimeDir();
  const tools = toolsDir(['cmake', 'git', 'g++', 'nvcc']);
  // a first build that fails leaves no build at all (not its half-built folder)
  await assert.rejects(buildLlamaCpp(dir, 'cuda', { env: { PATH: tools, FAKE_BUILD_MODE: 'fail' } }), (error: Error) => error instanceof UserError
    && /node-llama-cpp's build \(cuda\) failed \(exit code 1\): .*CMake Error at ggml\/CMakeLists.txt:12: no CUDA compiler/.test(error.message)
    && error.hint!.includes(join(dir, 'build-cuda.log')));
  assert.match(readFileSync(join(dir, 'build-cuda.log'), 'utf8'), /patch a-change.diff: applied[\s\S]*CMake Error at ggml/);
  assert.deepEqual(localBuilds(pkg), []);
  assert.ok(!existsSync(join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda')), 'the half-built folder is gone');
  assert.ok(existsSync(join(pkg, 'llama', 'llama.cpp', '.git')));
  // a rebuild that fails leaves the working build as it was
  await buildLlamaCpp(dir, 'cuda', { env: { PATH: tools } });
  const addon = join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda', 'Release', 'llama-addon.node');
  const working = readFileSync(addon, 'utf8');
  await assert.rejects(buildLlamaCpp(dir, 'cuda', { env: { PATH: tools, FAKE_BUILD_MODE: 'fail' } }), UserError);
  assert.deepEqual(localBuilds(pkg), ['linux-x64-cuda']);
  assert.equal(readFileSync(addon, 'utf8'), working);
  assert.ok(!existsSync(join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda', 'Release', 'half-built.o')));
});

test('cancelling a rebuild stops its whole process group (the compilers too) and keeps the build from before', { skip: !unix }, async () => {
  const { dir, pkg } = runtimeDir();
  const tools = toolsDir(['cmake', 'git', 'g++', 'nvcc']);
  await buildLlamaCpp(dir, 'cuda', { env: { PATH: tools } });
  const working = readFileSync(join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda', 'Release', 'llama-addon.node'), 'utf8');
  const controller = new AbortController();
  const build = buildLlamaCpp(dir, 'cuda', {
    env: { PATH: tools, FAKE_BUILD_MODE: 'hang' }, signal: controller.signal,
    onOutput: (line) => { if (line.includes('Building CUDA object')) controller.abort(); },
  });
  await assert.rejects(build, (error: Error) => error instanceof CancelledError);
  const pid = Number(readFileSync(join(pkg, 'compiler.pid'), 'utf8'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(!running(pid), 'the compiler the build started was stopped');
  assert.deepEqual(localBuilds(pkg), ['linux-x64-cuda'], 'the build from before stays');
  assert.equal(readFileSync(join(pkg, 'llama', 'localBuilds', 'linux-x64-cuda', 'Release', 'llama-addon.node'), 'utf8'), working);
});

// The real thing: node-llama-cpp 3.22.1 compiles llama.cpp for the CPU here (minutes on 2 cores), then the engine's
// loader finds the local build. Run with PROLONG_TEST_LLAMA_BUILD=DIR, DIR a runtime folder from `prolong runtime install`
// (it is changed: the build is added to it).
test('a real CPU build from node-llama-cpp\'s bundled source loads', { skip: !process.env.PROLONG_TEST_LLAMA_BUILD, timeout: 40 * 60_000 }, async () => {
  const dir = process.env.PROLONG_TEST_LLAMA_BUILD!;
  const installed = await buildLlamaCpp(dir, 'cpu', { onOutput: (line) => process.stderr.write(`  ${line}\n`) });
  assert.ok(installed.binaries.some((name) => name.endsWith('(built here)')), installed.binaries.join(', '));
});
