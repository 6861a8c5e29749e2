import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
  assert.ok(ignore.includes('!out/**') && manifest.main.startsWith('./out/'), 'the extension bundle ships');
  assert.ok(ignore.includes('out/test-host.js'), 'test bundles stay out');
});
