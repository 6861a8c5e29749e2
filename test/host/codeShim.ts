/**
 * Stands in for the `code` executable that @vscode/test-electron's runTests() launches: it takes the same
 * arguments (`--extensionDevelopmentPath=`, `--extensionTestsPath=`, the folder to open, and flags it ignores),
 * runs the tests in the VS Code server from code-server (harness.ts), prints their lines and exits with their code.
 */
import { resolve } from 'node:path';
import { runInExtensionHost } from './harness';

function option(args: string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

async function main(args: string[]): Promise<number> {
  const extensionPath = option(args, 'extensionDevelopmentPath');
  const testsPath = option(args, 'extensionTestsPath');
  const folder = args.find((arg) => !arg.startsWith('--'));
  if (!extensionPath || !testsPath || !folder) {
    console.error('code-shim: needs --extensionDevelopmentPath=, --extensionTestsPath= and a folder to open');
    return 2;
  }
  const run = await runInExtensionHost({ extensionPath: resolve(extensionPath), testsPath: resolve(testsPath), workspace: resolve(folder), timeoutMs: 180_000 });
  for (const line of run.output) console.log(line);
  return run.code;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  process.exit(1);
});
