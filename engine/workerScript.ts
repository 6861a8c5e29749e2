import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread. Bundled builds put each worker next to the bundle that starts it
 * (out/<bundledName>.js); tests and scripts running TypeScript through tsx start the source file, through tsx's
 * CommonJS hook (Node 20 does not carry tsx's --import hooks into worker threads).
 */
export function startWorker(callerDir: string, bundledName: string, sourceFile: string, options: WorkerOptions = {}): Worker {
  const bundled = join(callerDir, `${bundledName}.js`);
  if (existsSync(bundled)) return new Worker(bundled, options);
  const source = join(callerDir, sourceFile);
  if (!existsSync(source)) {
    throw new Error(`worker script not found: neither ${bundled} nor ${source} exists (was the extension built with \`npm run build\`?)`);
  }
  // resolved here, beside the sources: an eval'd worker resolves modules from the current folder, which may be any
  const tsxApi = require.resolve('tsx/cjs/api', { paths: [callerDir] });
  const bootstrap = `require(${JSON.stringify(tsxApi)}).register(); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
