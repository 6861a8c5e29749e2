import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runTests } from '@vscode/test-electron';
import { hostUnavailable } from './harness';
import { tempDir, writeTree } from '../packer/fixtures';

const root = resolve(__dirname, '..', '..');
const testsBundle = join(root, 'out', 'test-host.js');
const unavailable = hostUnavailable() ?? (existsSync(testsBundle) ? undefined : 'out/test-host.js is missing: run `npm run build`');
if (unavailable) console.log(`# skipping the extension-host tests: ${unavailable}`);

test('the extension works inside a real VS Code extension host', { skip: unavailable, timeout: 300_000 } /* above the server's 60 s start plus the shim's 180 s run */, async () => {
  const workspace = tempDir('prolong-workspace-');
  writeTree(workspace, {
    '.gitignore': '*.log\n',
    'src/main.ts': "import { twice } from './lib/util';\nconsole.log(twice(21));\n",
    'src/lib/util.ts': 'export const twice = (x: number) => 2 * x;\n',
    'docs/guide.md': '# Guide\n',
    'debug.log': 'noise\n',
    'logo.bin': Buffer.from([0, 1, 2, 3, 0, 0, 0]),
  });
  execFileSync('git', ['init', '-q'], { cwd: workspace });
  // The usual @vscode/test-electron entry point; here its executable is the code-server shim (code-shim), so
  // nothing is downloaded. On a desktop, VSCODE_EXECUTABLE may name a real VS Code to run the same suite.
  const code = await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || join(__dirname, 'code-shim'),
    extensionDevelopmentPath: root,
    extensionTestsPath: testsBundle,
    launchArgs: [workspace],
  });
  assert.equal(code, 0);
});
