// What the engine process prints on its own (onnxruntime's and Dawn's native logging), passed on line by line
// without the lines that only describe Dawn's internals and ask nothing of the user.
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Dawn's notes on adapter limits it lowered for itself, printed on every WebGPU start, e.g.
 * "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic
 * offset allocation limit." They change nothing the user can act on.
 */
const DAWN_NOISE: readonly RegExp[] = [
  /^Warning: max\w+ artificially reduced from \d+ to \d+\b/,
];

/** Whether a line of the engine's own output is Dawn noise (dropped unless PROLONG_ENGINE_VERBOSE is set). */
export function isEngineNoise(line: string): boolean {
  return DAWN_NOISE.some((pattern) => pattern.test(line));
}

/**
 * Copies `from` to `to` line by line, leaving out the noise; a last line without a newline is passed on when the
 * stream ends. With `verbose` every line is passed on.
 */
export function forwardEngineOutput(from: Readable, to: Writable, verbose = Boolean(process.env.PROLONG_ENGINE_VERBOSE)): void {
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    pending += chunk;
    let end = pending.indexOf('\n');
    let out = '';
    while (end !== -1) {
      const line = pending.slice(0, end + 1);
      pending = pending.slice(end + 1);
      if (verbose || !isEngineNoise(line)) out += line;
      end = pending.indexOf('\n');
    }
    if (out) to.write(out);
  });
  from.on('end', () => {
    if (pending && (verbose || !isEngineNoise(pending))) to.write(pending);
    pending = '';
  });
}

/**
 * onnxruntime-node 1.30 leaves an empty mat-debug-<pid>.log in the temporary folder of every process that loads
 * it: once the engine process has ended, its file goes (only when empty: one with content is someone's log).
 */
export function removeOnnxruntimeDebugLog(pid: number | undefined): void {
  if (pid === undefined) return;
  const file = join(tmpdir(), `mat-debug-${pid}.log`);
  try {
    if (statSync(file).size === 0) rmSync(file);
  } catch {
    // not there
  }
}
