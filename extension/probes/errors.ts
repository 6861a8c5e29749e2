/**
 * Errors across the worker boundary: a UserError stays one (with its hint), a cancellation stays one, and a
 * ContextTooLongError stays one (the probe runner skips the task at that length on it, and goes on).
 */
import { CancelledError, UserError } from '../../engine/errors';
import { ContextTooLongError, EXTENSION_SETTINGS } from '../../engine/backends/remote/problems';
import type { SerializedError } from './workerProtocol';

export function serializeError(error: unknown): SerializedError {
  if (error instanceof CancelledError) return { kind: 'cancelled', message: error.message };
  if (error instanceof ContextTooLongError) {
    const { server, model, promptTokens, maxNewTokens, contextLength } = error;
    return { kind: 'context-too-long', message: error.message, overflow: { server, model, promptTokens, maxNewTokens, contextLength } };
  }
  if (error instanceof UserError) return { kind: 'user', message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof Error) return { kind: 'bug', message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { kind: 'bug', message: String(error) };
}

export function deserializeError(error: SerializedError): Error {
  if (error.kind === 'cancelled') return new CancelledError('probe run');
  if (error.kind === 'user') return new UserError(error.message, error.hint);
  if (error.kind === 'context-too-long' && error.overflow) {
    const { server, model, promptTokens, maxNewTokens, contextLength } = error.overflow;
    return new ContextTooLongError(server, model, promptTokens, maxNewTokens, contextLength, EXTENSION_SETTINGS);
  }
  const bug = new Error(error.message);
  if (error.stack) bug.stack = error.stack;
  return bug;
}
