/**
 * Runs a tool (npm, git, a build) to its end, handing its output to a progress view line by line, stopping it on
 * cancel, and failing with the last lines it printed: what the runtime's install and build both need.
 */
import { spawn, spawnSync } from 'node:child_process';
import { CancelledError, UserError } from '../../errors';

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  /** What runs, for messages ("npm", "git apply x.diff"). */
  what: string;
  /**
   * Stop the whole process tree on cancel, and when this process exits first (a build's compilers are
   * grandchildren): a process group on Unix, taskkill /T on Windows.
   */
  processGroup?: boolean;
  /** Run through the shell (Windows: npm is npm.cmd). */
  shell?: boolean;
}

/** A tool that was not found, or that exited with an error; `tail` holds its last lines. */
export class ToolFailedError extends UserError {
  constructor(readonly what: string, readonly exitCode: number | undefined, readonly tail: string[], readonly notFound = false) {
    super(notFound ? `${what} was not found.` : `${what} failed (exit code ${exitCode}): ${lastLines(tail)}`,
      notFound ? 'Install it and try again.' : 'Its last lines are in the message.');
    this.name = 'ToolFailedError';
  }

  /** Its last few lines, for a one-line message. */
  get lastLines(): string {
    return lastLines(this.tail);
  }
}

function lastLines(tail: string[]): string {
  return tail.slice(-4).join(' / ');
}

export function runWithOutput(command: string, args: string[], options: RunOptions): Promise<void> {
  const tail: string[] = [];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd, env: options.env ?? process.env, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'],
      shell: options.shell ?? false, detached: options.processGroup === true && process.platform !== 'win32',
    });
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n|\r/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 12) tail.shift();
        options.onOutput?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (options.processGroup && child.pid !== undefined && process.platform === 'win32') spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true });
        else if (options.processGroup && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch { /* already gone */ }
    };
    // a detached build outlives this process otherwise (a closed terminal, a reloaded window)
    const onExit = () => kill('SIGKILL');
    if (options.processGroup) process.on('exit', onExit);
    // npm finishes the download in flight on the first signal; a second one, a moment later, stops it at once
    let force: NodeJS.Timeout | undefined;
    const abort = () => { kill('SIGTERM'); force = setTimeout(() => kill('SIGKILL'), 300); force.unref(); };
    options.signal?.addEventListener('abort', abort, { once: true });
    const done = () => {
      process.removeListener('exit', onExit);
      clearTimeout(force);
      options.signal?.removeEventListener('abort', abort);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(error.code === 'ENOENT' ? new ToolFailedError(options.what, undefined, tail, true) : error);
    });
    child.on('close', (code) => {
      done();
      if (options.signal?.aborted) { reject(new CancelledError(options.what)); return; }
      if (code === 0) { resolve(); return; }
      reject(new ToolFailedError(options.what, code ?? undefined, tail));
    });
  });
}
