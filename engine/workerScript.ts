import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The file to start a worker thread from. Bundled builds put each worker next to the bundle that starts it
 * (out/<bundledName>.js); tests and scripts running TypeScript through tsx start the source file instead
 * (worker threads inherit tsx's --import flag).
 */
export function workerScript(callerDir: string, bundledName: string, sourceFile: string): string {
  const bundled = join(callerDir, `${bundledName}.js`);
  if (existsSync(bundled)) return bundled;
  const source = join(callerDir, sourceFile);
  if (existsSync(source)) return source;
  throw new Error(`worker script not found: neither ${bundled} nor ${source} exists (was the extension built with \`npm run build\`?)`);
}
