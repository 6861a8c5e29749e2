import { closeSync, openSync, writeSync } from 'node:fs';
import { packStats } from '../packer/stats';
import { resolve } from 'node:path';
import { pack, OUTPUT_FILE_REASON, PACK_ORDERS, type PackOrder, type PackProgress } from '../packer';
import { UserError } from '../errors';
import { COMMAND_SUMMARIES } from './summaries';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';

const usage = 'prolong pack [DIR] [--out FILE] [--budget N] [--order path|dependency|edit-aware] [--definitions-index] [--tokenizer PATH] [--json] [--max-file-bytes N] [--include GLOB]... [--no-cache]';

const command: Subcommand = {
  summary: COMMAND_SUMMARIES.pack,
  usage,
  async run(args, signal) {
    const { values, positionals } = parseCommandArgs(args, {
      out: { type: 'string', short: 'o' },
      budget: { type: 'string' },
      order: { type: 'string' },
      tokenizer: { type: 'string' },
      json: { type: 'boolean' },
      'max-file-bytes': { type: 'string' },
      include: { type: 'string', multiple: true },
      'no-cache': { type: 'boolean' },
      'definitions-index': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(`${usage}\n`); return 0; }
    if (positionals.length > 1) throw new UserError(`prolong pack takes one directory, got ${positionals.length}.`, `Usage: ${usage}`);
    const order = (values.order ?? 'path') as PackOrder;
    if (!PACK_ORDERS.includes(order)) throw new UserError(`--order must be one of ${PACK_ORDERS.join(', ')}, not '${values.order}'.`);
    const root = resolve(positionals[0] ?? '.');
    const showProgress = !values.quiet && process.stderr.isTTY;
    const onProgress = showProgress ? (p: PackProgress): void => {
      if (p.phase === 'read') process.stderr.write(`\rreading ${p.done}/${p.total} files`);
    } : undefined;
    const result = await pack({
      root, order,
      budget: values.budget ? parseCount(values.budget, 'budget') : undefined,
      maxFileBytes: values['max-file-bytes'] ? parseCount(values['max-file-bytes'], 'max-file-bytes') : undefined,
      include: values.include,
      outputFile: values.out,
      tokenizerPath: values.tokenizer,
      cacheFile: values['no-cache'] ? false : undefined,
      definitionsIndex: values['definitions-index'],
    }, onProgress, signal);
    if (showProgress) process.stderr.write('\r\x1b[K');
    if (values.out) writeChunks(values.out, result.chunks);
    if (values.json) {
      if (!(await writeToStdout([JSON.stringify(packStats(result), null, 2) + '\n']))) return 0;
    } else if (!values.out) {
      if (!(await writeToStdout(result.chunks))) return 0;
    }
    if (!values.quiet && (values.out || values.json)) {
      process.stderr.write(`packed ${result.files.length} files, ${result.totalBytes} bytes, ${result.totalTokens} tokens in ${Math.round(result.ms)} ms`
        + (result.definitionsIndex ? `, with a definitions index of ${result.definitionsIndex.names} name${result.definitionsIndex.names === 1 ? '' : 's'} (${result.definitionsIndex.tokens} tokens)` : '')
        + ` (${result.skipped.length} skipped${result.dropped.length ? `, ${result.dropped.length} over the budget` : ''})\n`);
      if (result.skipped.length > 0) process.stderr.write(`skipped: ${skipSummary(result.skipped)}${values.json ? '' : ' (--json lists each file with its reason)'}\n`);
    }
    if (!values.quiet && values.out && result.skipped.some((s) => s.reason === OUTPUT_FILE_REASON)) {
      process.stderr.write(`note: ${values.out} is inside the packed folder; it is never packed into its own document (write it outside the repository to keep the folder clean)\n`);
    }
    if (!values.quiet) {
      for (const path of result.invalidUtf8) process.stderr.write(`note: ${path} is not valid UTF-8; invalid bytes became U+FFFD\n`);
    }
    return 0;
  },
};

/** "3 binary, 2 lockfile, 1 too large": the skip reasons by kind, most frequent first. */
export function skipSummary(skipped: readonly { reason: string }[]): string {
  const counts = new Map<string, number>();
  for (const { reason } of skipped) {
    // the kind without its particulars: "too large (2,000,000 bytes; …)" -> "too large", "symlink to x, …" -> "symlink"
    const kind = reason.startsWith('symlink') ? 'symlink' : reason.replace(/ \(.*$/s, '').replace(/: .*$/s, '');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([kind, count]) => `${count} ${kind}`).join(', ');
}

/**
 * Writes the document to stdout, waiting for the pipe to drain. False when the reader went away (`| head`): EPIPE
 * is how a pipeline says it has read enough, so the rest is dropped quietly instead of crashing on the error.
 */
async function writeToStdout(chunks: readonly string[]): Promise<boolean> {
  let failure: NodeJS.ErrnoException | undefined;
  let wake: (() => void) | undefined;
  // Stays registered: an EPIPE can still come for data already queued when this returns.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    failure ??= error;
    wake?.();
  });
  for (const chunk of chunks) {
    if (failure || process.stdout.write(chunk)) continue;
    await new Promise<void>((resolve) => {
      wake = resolve;
      process.stdout.once('drain', resolve);
    });
    process.stdout.removeListener('drain', wake!);
  }
  if (failure && failure.code !== 'EPIPE') {
    throw new UserError(`Cannot write the document to stdout: ${failure.code ?? failure.message}.`, 'Write it to a file with --out FILE.');
  }
  return !failure;
}

/** Writes the document piece by piece: no second copy of a large document in memory. */
function writeChunks(path: string, chunks: readonly string[]): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new UserError(`Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Choose another --out file.');
  }
  try {
    for (const chunk of chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

export default command;
