/**
 * Host side of the engine process: starts it (a child process, so a native crash or an out-of-memory kill in
 * onnxruntime never takes the extension host down), sends typed requests, routes events back, and notices
 * when the process dies: every request in flight is rejected with a UserError and the next request starts a
 * fresh process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateEvent } from '../backends/types';
import { CancelledError, UserError } from '../errors';
import { forwardEngineOutput, removeOnnxruntimeDebugLog } from './engineOutput';
import type { EngineMessage, EngineReplies, EngineRequest, SerializedError } from './protocol';

type RequestOf<T extends EngineRequest['type']> = Extract<EngineRequest, { type: T }>;
/** A request as the caller writes it: the client assigns the id. */
export type EngineCall<T extends EngineRequest['type']> = Omit<RequestOf<T>, 'id'>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onEvent?: (event: GenerateEvent) => void;
}

/** Where the engine's entry point is: beside this file when bundled (out/engine-worker.js), the source under tsx. */
export function engineEntryPoint(): { file: string; execArgv: string[] } {
  if (__filename.endsWith('.ts')) return { file: join(__dirname, 'worker.ts'), execArgv: ['--import', 'tsx'] };
  const bundled = join(__dirname, 'engine-worker.js');
  if (!existsSync(bundled)) throw new Error(`engine entry ${bundled} is missing: run \`node build.mjs\``);
  return { file: bundled, execArgv: [] };
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** How many times the engine process has ended without being asked to. */
  crashes = 0;

  /** Called after the process ends unexpectedly (the owner reloads the model on the next request). */
  onCrash: ((reason: string) => void) | undefined;

  /** Process id of the running engine, if any (for reports and tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the engine process if it is not running. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const entry = engineEntryPoint();
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      // The engine's own output (onnxruntime and Dawn warnings) goes to stderr, without Dawn's notes on its own
      // limits (engineOutput.ts): the CLI's stdout carries the answer.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // VS Code's extension host runs Electron as Node; the child inherits ELECTRON_RUN_AS_NODE from it.
      env: process.env,
    });
    this.child = child;
    forwardEngineOutput(child.stdout!, process.stderr);
    forwardEngineOutput(child.stderr!, process.stderr);
    this.ready = new Promise<void>((resolve, reject) => {
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new UserError(`The local engine process could not start (${describeExit(code, signal)}).`,
          'Check the output above; reinstall the extension if its files are damaged.'));
      child.once('exit', onEarlyExit);
      child.on('message', (message: EngineMessage) => {
        if (message.type === 'ready') { child.off('exit', onEarlyExit); resolve(); return; }
        this.route(message);
      });
    });
    child.on('exit', (code, signal) => {
      removeOnnxruntimeDebugLog(child.pid);
      this.handleExit(child, code, signal);
    });
    child.on('error', () => { /* 'exit' follows and reports it */ });
    return this.ready;
  }

  /**
   * Sends a request and resolves with its reply; `onEvent` receives generation events. When `signal` fires the
   * engine is asked to stop the request (within one decode step); a generate request then resolves normally
   * with finishReason 'cancelled'.
   */
  async request<T extends EngineRequest['type']>(call: EngineCall<T>, onEvent?: (event: GenerateEvent) => void,
    signal?: AbortSignal): Promise<EngineReplies[T]> {
    await this.start();
    const child = this.child;
    if (!child) throw new UserError('The local engine process stopped before the request was sent.', 'Try again.');
    const id = this.nextId++;
    const message = { ...call, id } as EngineRequest;
    const onAbort = () => this.cancel(id);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<EngineReplies[T]>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onEvent });
        child.send(message, (error) => {
          if (error && this.pending.delete(id)) reject(new UserError(`Could not reach the local engine process: ${error.message}.`, 'Try again.'));
        });
        if (signal?.aborted) onAbort();
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Asks the engine to stop request `target`; it stops within one decode step. */
  private cancel(target: number): void {
    if (!this.child || !this.pending.has(target)) return;
    this.child.send({ id: this.nextId++, type: 'cancel', target } satisfies EngineRequest, () => { /* gone: exit handles it */ });
  }

  /** Ends the engine process; waits for it to exit (killed if it does not within `graceMs`). */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.ready = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ id: this.nextId++, type: 'unload' } satisfies EngineRequest, () => child.disconnect?.());
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.failAll(new UserError('The local engine was stopped.', 'Ask again to restart it.'));
  }

  private route(message: EngineMessage): void {
    if (message.type === 'ready') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'event') { pending.onEvent?.(message.event); return; }
    this.pending.delete(message.id);
    if (message.type === 'done') pending.resolve(message.value);
    else pending.reject(deserializeError(message.error));
  }

  private handleExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // stopped on purpose
    this.child = undefined;
    this.ready = undefined;
    this.crashes++;
    const reason = describeExit(code, signal);
    this.failAll(new UserError(`The local engine process stopped unexpectedly (${reason}).`,
      'It restarts on the next request. If it keeps stopping, lower prolong.engine.contextTokens or set prolong.engine.executionProvider to "cpu".'));
    this.onCrash?.(reason);
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reject(error);
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}${signal === 'SIGKILL' ? ', possibly out of memory' : ''}`;
  return `exit code ${code ?? 'unknown'}`;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof CancelledError) return { kind: 'cancelled', message: error.message };
  if (error instanceof UserError) return { kind: 'user', message: error.message, hint: error.hint };
  return { kind: 'internal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

export function deserializeError(error: SerializedError): Error {
  if (error.kind === 'cancelled') return new CancelledError();
  if (error.kind === 'user') return new UserError(error.message, error.hint);
  return new UserError(`The local engine failed: ${error.message}`, 'This is a bug; please report it with the message above.');
}
