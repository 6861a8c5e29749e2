// One VSIX per platform. onnxruntime-node ships its native binaries for five platforms (about 290 MB in all);
// each VSIX keeps only its own, with the matching `vsce package --target`.
//   node packageVsix.mjs                      every target, into dist/
//   node packageVsix.mjs --target linux-x64   one (repeatable)
//   node packageVsix.mjs --list ...           print the files each VSIX would hold, build nothing
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** VS Code target -> onnxruntime-node's binary folder (bin/napi-v6/<platform>/<arch>). */
export const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

const ALL_BINARIES = '!node_modules/onnxruntime-node/bin/napi-v6/**';

/** .vscodeignore for one target: its binaries instead of every platform's. */
export function ignoreFileFor(target, base = readFileSync('.vscodeignore', 'utf8')) {
  const folder = TARGETS[target];
  if (!folder) throw new Error(`unknown target '${target}': one of ${Object.keys(TARGETS).join(', ')}`);
  const lines = base.split(/\r?\n/); // a Windows checkout may have CRLF line ends
  if (!lines.includes(ALL_BINARIES)) throw new Error(`.vscodeignore has no line '${ALL_BINARIES}' to narrow`);
  return lines.map((line) => (line === ALL_BINARIES ? `!node_modules/onnxruntime-node/bin/napi-v6/${folder}/**` : line)).join('\n');
}

function vsce(args) {
  const result = spawnSync(process.execPath, [join('node_modules', '@vscode', 'vsce', 'vsce'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`vsce ${args[0]} failed (exit ${result.status})`);
  return result.stdout;
}

function main() {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, list: { type: 'boolean' } } });
  const targets = values.target ?? Object.keys(TARGETS);
  for (const target of targets) if (!TARGETS[target]) throw new Error(`unknown target '${target}': one of ${Object.keys(TARGETS).join(', ')}`);
  const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
  // --list shows what the current build would ship: without one it would leave out the extension itself
  if (values.list && !existsSync(join('out', 'extension.js'))) throw new Error('out/extension.js is missing: run `npm run build` first');
  if (!values.list) {
    const build = spawnSync(process.execPath, ['build.mjs', '--production'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the build failed');
    mkdirSync('dist', { recursive: true });
  }
  const scratch = mkdtempSync(join(tmpdir(), 'prolong-vsix-'));
  try {
    for (const target of targets) {
      const ignoreFile = join(scratch, `${target}.vscodeignore`);
      writeFileSync(ignoreFile, ignoreFileFor(target));
      if (values.list) {
        process.stdout.write(`# ${target}\n${vsce(['ls', '--ignoreFile', ignoreFile])}`);
      } else {
        const out = join('dist', `prolong-vscode-${target}-${version}.vsix`);
        // README links stay relative: VS Code shows a VSIX's README from the installed folder, where media/ and
        // licenses/ ship (without a repository URL vsce would refuse to rewrite the screenshots' links).
        vsce(['package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out]);
        process.stdout.write(`${out}\n`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try { main(); } catch (error) { process.stderr.write(`packageVsix: ${error.message}\n`); process.exit(1); }
}
