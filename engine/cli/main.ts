// The `prolong` command line: one subcommand per module under engine/cli/.
import { errorMessage, UserError, CancelledError } from '../errors';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './subcommand';
import { COMMAND_SUMMARIES } from './summaries';

import type { Subcommand } from './subcommand';

/** Subcommands load lazily so `prolong pack` never pays for onnxruntime. */
const subcommands: Record<string, () => Promise<Subcommand>> = {
  pack: async () => (await import('./pack')).default,
  convert: async () => (await import('./convert')).default,
  probe: async () => (await import('./probe')).default,
  ask: async () => (await import('./ask')).default,
  mcp: async () => (await import('./mcp')).default,
  pull: async () => (await import('./pull')).default,
  models: async () => (await import('./models')).default,
  runtime: async () => (await import('./runtime')).default,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMAND_SUMMARIES).map((name) => name.length));
  return ['usage: prolong <command> [options]', '       prolong --version', '', 'commands:',
    ...Object.entries(COMMAND_SUMMARIES).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '', 'Run `prolong <command> --help` for its options.'].join('\n');
}

/** The version in package.json: beside out/ when bundled (out/cli.js, the VSIX), two folders up from source. */
function version(): string {
  for (const candidate of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'prolong-vscode' && manifest.version) return manifest.version;
    } catch {
      // not this one
    }
  }
  return 'unknown (package.json not found)';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`prolong ${version()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = subcommands[name];
  if (!load) {
    process.stderr.write(`prolong: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const command = await load();
  return command.run(rest, controller.signal);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof CancelledError) { process.stderr.write('prolong: cancelled\n'); process.exitCode = 130; return; }
    process.stderr.write(`prolong: ${errorMessage(error)}\n`);
    if (!(error instanceof UserError) && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
