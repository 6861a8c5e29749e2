/**
 * An error meant for the user: it names what it concerns (a file, setting or server) and what to do.
 * Everything that crosses into the extension or the CLI as a failure should be one of these; anything else
 * is a bug and is reported as such.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** What the user can do about it, shown after the message. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UserError';
  }

  override toString(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** Thrown when an AbortSignal fires; callers treat it as a clean stop, not a failure. */
export class CancelledError extends Error {
  constructor(what = 'operation') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

export function errorMessage(error: unknown): string {
  if (error instanceof UserError) return error.toString();
  if (error instanceof Error) return error.message;
  return String(error);
}
