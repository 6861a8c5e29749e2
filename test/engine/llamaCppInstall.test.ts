// `prolong runtime install` (engine/runtime/llamacpp/install.ts) against a local npm registry this test serves on
// 127.0.0.1: two tiny packages with the real names and version (node-llama-cpp and its linux-x64 binary package),
// packed by npm, so the install runs the real npm end to end and never touches the network. Failures (no registry,
// no npm, a cancel) must give the user a hint with the manual command and leave nothing that looks installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CancelledError, UserError } from '../../engine/errors';
import { availableBinaries, installedRuntime, installLlamaCpp, manualInstallCommand, packagesFor } from '../../engine/runtime/llamacpp/install';
import { findLlamaCpp, LLAMA_CPP_VERSION } from '../../engine/runtime/llamacpp/locate';

const VERSION = '3.22.1';
const BINARY = '@node-llama-cpp/linux-x64';

let work: string;
let server: Server;
let registry: string;
/** Every request path the registry saw, in order. */
const requests: string[] = [];
/** Packages whose tarball the registry holds back (answered after 2 s), and what to call when one is asked for. */
const slowTarballs = new Set<string>();
let onSlowTarball: (() => void) | undefined;
const timers = new Set<NodeJS.Timeout>();

interface Packed { name: string; file: string; bytes: Buffer }
const packed = new Map<string, Packed>();

/** A package folder packed with `npm pack` into `into`; its npm cache is the test's own. */
function pack(dir: string, into: string, cache: string): string {
  const result = spawnSync('npm', ['pack', '--pack-destination', into, '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_cache: cache } });
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as { filename: string }[])[0]!.filename;
}

function makePackage(dir: string, manifest: Record<string, unknown>, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function packument(p: Packed, port: number) {
  return {
    name: p.name,
    'dist-tags': { latest: VERSION },
    versions: {
      [VERSION]: {
        name: p.name, version: VERSION,
        dist: {
          tarball: `http://127.0.0.1:${port}/tarballs/${p.file}`,
          integrity: `sha512-${createHash('sha512').update(p.bytes).digest('base64')}`,
          shasum: createHash('sha1').update(p.bytes).digest('hex'),
        },
      },
    },
  };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'llama-cpp-install-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packCache = join(work, 'pack-cache');
  makePackage(join(work, 'src', 'node-llama-cpp'), { name: 'node-llama-cpp', version: VERSION, type: 'module', main: 'index.js' },
    { 'index.js': 'export const fake = true;\n' });
  makePackage(join(work, 'src', 'linux-x64'), { name: BINARY, version: VERSION }, { 'bins/linux-x64/README': 'a fake prebuilt binary package\n' });
  for (const [name, dir] of [['node-llama-cpp', 'node-llama-cpp'], [BINARY, 'linux-x64']] as const) {
    const file = pack(join(work, 'src', dir), tarballs, packCache);
    packed.set(name, { name, file, bytes: readFileSync(join(tarballs, file)) });
  }

  server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push(path);
    const port = (server.address() as AddressInfo).port;
    const notFound = () => { response.writeHead(404, { 'content-type': 'application/json' }); response.end(JSON.stringify({ error: 'not found' })); };
    if (path.startsWith('/tarballs/')) {
      const p = [...packed.values()].find((x) => `/tarballs/${x.file}` === path);
      if (!p) { notFound(); return; }
      const answer = () => { if (!response.destroyed) { response.writeHead(200, { 'content-type': 'application/octet-stream' }); response.end(p.bytes); } };
      if (!slowTarballs.has(p.name)) { answer(); return; }
      onSlowTarball?.();
      const timer = setTimeout(() => { timers.delete(timer); answer(); }, 2000);
      timers.add(timer);
      return;
    }
    // scoped names come as /@scope%2fname; accept %2F and the plain slash too
    let name: string;
    try { name = decodeURIComponent(path.slice(1)); } catch { notFound(); return; }
    const p = packed.get(name);
    if (!p || request.method !== 'GET') { notFound(); return; }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(packument(p, port)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(async () => {
  for (const timer of timers) clearTimeout(timer);
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  rmSync(work, { recursive: true, force: true });
});

const npmVariables = ['npm_config_cache', 'npm_config_fetch_retries', 'npm_config_fetch_retry_mintimeout', 'npm_config_fetch_retry_maxtimeout', 'npm_config_fetch_timeout'];

/** Runs `body` with npm on a cache of its own (nothing from the user's cache, nothing left in it) and no retries. */
async function withIsolatedNpm<T>(name: string, body: () => Promise<T>): Promise<T> {
  const saved = npmVariables.map((v) => [v, process.env[v]] as const);
  Object.assign(process.env, {
    npm_config_cache: join(work, `npm-cache-${name}`), npm_config_fetch_retries: '0',
    npm_config_fetch_retry_mintimeout: '10', npm_config_fetch_retry_maxtimeout: '100', npm_config_fetch_timeout: '10000',
  });
  try {
    return await body();
  } finally {
    for (const [v, value] of saved) { if (value === undefined) delete process.env[v]; else process.env[v] = value; }
  }
}

test('packagesFor and availableBinaries: the pinned version, one binary package per choice, a hint naming what there is', () => {
  assert.equal(LLAMA_CPP_VERSION, VERSION, 'the fixture packages carry the version the installer asks for');
  assert.deepEqual(packagesFor('cpu', 'linux-x64'), ['node-llama-cpp@3.22.1', '@node-llama-cpp/linux-x64@3.22.1']);
  assert.deepEqual(packagesFor('vulkan', 'linux-x64'), ['node-llama-cpp@3.22.1', '@node-llama-cpp/linux-x64-vulkan@3.22.1']);
  assert.equal(availableBinaries('linux-x64')[0], 'vulkan');
  assert.deepEqual(availableBinaries('darwin-arm64'), ['metal']);
  assert.throws(() => packagesFor('cuda', 'darwin-arm64'),
    (e: unknown) => e instanceof UserError && /no cuda build/.test(e.message) && /darwin-arm64/.test(e.message) && /metal/.test(e.hint ?? ''));
  assert.throws(() => packagesFor('cpu', 'plan9-mips'), (e: unknown) => e instanceof UserError && /onnxruntime/.test(e.hint ?? ''));
});

test('installs node-llama-cpp and the linux-x64 binary package from the given registry, pinned in the folder\'s package.json', async () => {
  const dir = join(work, 'runtime-ok');
  const lines: string[] = [];
  const before = requests.length;
  const installed = await withIsolatedNpm('ok', () => installLlamaCpp(dir, 'cpu', { registry, platform: 'linux-x64', onOutput: (line) => lines.push(line) }));

  assert.deepEqual(installed, { dir, version: VERSION, binaries: ['linux-x64'], builtHere: [] });
  assert.deepEqual(installedRuntime(dir), { dir, version: VERSION, binaries: ['linux-x64'], builtHere: [] });
  assert.ok(existsSync(join(dir, 'node_modules', '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64', 'README')), 'the binary package\'s files are unpacked');
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { private?: boolean; dependencies?: Record<string, string> };
  assert.equal(manifest.private, true);
  assert.deepEqual(manifest.dependencies, { 'node-llama-cpp': VERSION, [BINARY]: VERSION }, 'exact versions (--save-exact), both packages');
  assert.deepEqual(findLlamaCpp(dir), { packageJson: resolve(dir, 'node_modules', 'node-llama-cpp', 'package.json'), version: VERSION });
  assert.ok(lines.length > 0, 'npm\'s output reached onOutput');

  // the registry option was used: this server answered both packuments and both tarballs
  const seen = requests.slice(before);
  assert.ok(seen.includes('/node-llama-cpp'), `packument requests: ${seen.join(', ')}`);
  assert.ok(seen.some((p) => decodeURIComponent(p) === `/${BINARY}`), `packument requests: ${seen.join(', ')}`);
  for (const p of packed.values()) assert.ok(seen.includes(`/tarballs/${p.file}`), `${p.file} was downloaded`);
});

test('a registry that does not answer: a UserError naming npm\'s failure, the registry check and the manual command; nothing left installed', async () => {
  // a port that was just listened on and closed: connections are refused at once
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));

  const dir = join(work, 'runtime-no-registry');
  await assert.rejects(withIsolatedNpm('closed', () => installLlamaCpp(dir, 'cpu', { registry: `http://127.0.0.1:${port}/`, platform: 'linux-x64' })), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /npm could not install the llama\.cpp runtime/);
    assert.ok(e.message.includes(dir));
    assert.match(e.hint ?? '', /`npm config get registry`/);
    assert.ok((e.hint ?? '').includes(manualInstallCommand(dir, 'cpu', 'linux-x64')), e.hint);
    assert.ok((e.hint ?? '').includes('npm install --ignore-scripts --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1'), e.hint);
    return true;
  });
  assert.ok(!existsSync(join(dir, 'node_modules', 'node-llama-cpp')));
  assert.equal(installedRuntime(dir), undefined);
});

test('an npm that does not exist: a UserError saying so, with the manual command', async () => {
  const dir = join(work, 'runtime-no-npm');
  const npm = join(work, 'no-such-npm');
  await assert.rejects(installLlamaCpp(dir, 'cpu', { npm, registry, platform: 'linux-x64' }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /was not found/);
    assert.ok(e.message.includes(npm));
    assert.ok((e.hint ?? '').includes(manualInstallCommand(dir, 'cpu', 'linux-x64')), e.hint);
    return true;
  });
  assert.equal(installedRuntime(dir), undefined);
});

/** Installs into `dir`, cancelling 200 ms after npm asks for the binary package's tarball, which is held for 2 s. */
async function cancelledInstall(dir: string, cache: string): Promise<{ asked: boolean; stopMs: number }> {
  const controller = new AbortController();
  // node-llama-cpp's tarball comes at once (npm may unpack it); the binary package's is held, so the cancel lands
  // in the middle of the install
  slowTarballs.add(BINARY);
  let asked = false;
  onSlowTarball = () => { if (asked) return; asked = true; const t = setTimeout(() => { timers.delete(t); controller.abort(); }, 200); timers.add(t); };
  let abortedAt = 0;
  controller.signal.addEventListener('abort', () => { abortedAt = performance.now(); });
  try {
    await assert.rejects(withIsolatedNpm(cache, () => installLlamaCpp(dir, 'cpu', { registry, platform: 'linux-x64', signal: controller.signal })),
      (e: unknown) => e instanceof CancelledError);
  } finally {
    slowTarballs.clear();
    onSlowTarball = undefined;
  }
  return { asked, stopMs: performance.now() - abortedAt };
}

test('a cancel while npm downloads: CancelledError, no node-llama-cpp left behind', async (t) => {
  const dir = join(work, 'runtime-cancel');
  const { asked, stopMs } = await cancelledInstall(dir, 'cancel');
  assert.ok(asked, 'npm reached the held tarball before the cancel');
  // npm (arborist) answers the first SIGTERM by finishing its current step, then rolling back: here the held download
  t.diagnostic(`npm stopped ${Math.round(stopMs)} ms after the cancel`);
  assert.ok(!existsSync(join(dir, 'node_modules', 'node-llama-cpp')));
  assert.equal(installedRuntime(dir), undefined);
});

test('a cancel stops npm promptly, not after the download in flight', async () => {
  const { stopMs } = await cancelledInstall(join(work, 'runtime-cancel-prompt'), 'cancel-prompt');
  assert.ok(stopMs < 1500, `npm stopped ${Math.round(stopMs)} ms after the cancel (the held tarball is answered after 2 s)`);
});

test('a signal aborted before the call starts nothing', async () => {
  const dir = join(work, 'runtime-pre-aborted');
  const before = requests.length;
  await assert.rejects(withIsolatedNpm('pre-aborted', () => installLlamaCpp(dir, 'cpu', { registry, platform: 'linux-x64', signal: AbortSignal.abort() })),
    (e: unknown) => e instanceof CancelledError);
  assert.deepEqual(requests.slice(before), [], 'npm asked the registry for nothing');
  assert.ok(!existsSync(join(dir, 'node_modules')), 'nothing was installed');
});

test('a failed install over a working one leaves the working one in place', async () => {
  const dir = join(work, 'runtime-reinstall');
  await withIsolatedNpm('reinstall-ok', () => installLlamaCpp(dir, 'cpu', { registry, platform: 'linux-x64' }));
  assert.equal(installedRuntime(dir)?.version, VERSION);
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));
  // npm fails before it touches node_modules (no registry), so the runtime installed before is still whole
  await assert.rejects(withIsolatedNpm('reinstall-fail', () => installLlamaCpp(dir, 'cpu', { registry: `http://127.0.0.1:${port}/`, platform: 'linux-x64' })), UserError);
  assert.deepEqual(installedRuntime(dir), { dir, version: VERSION, binaries: ['linux-x64'], builtHere: [] });
});

