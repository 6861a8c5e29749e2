// The options `prolong ask` and `prolong probe` both take for a server: --api, --timeout and --header.
import { UserError } from '../errors';

export interface ServerOptions {
  api: 'chat' | 'completions';
  /** undefined: the client's default. */
  requestTimeoutMs?: number;
  headers: Record<string, string>;
}

/** Checks --api, --timeout and --header, each with a UserError naming it. */
export function parseServerOptions(values: { api?: string; timeout?: string; header?: string[] }): ServerOptions {
  const api = values.api ?? 'chat';
  if (api !== 'chat' && api !== 'completions') throw new UserError(`--api must be chat or completions, not '${api}'.`);
  let requestTimeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UserError(`--timeout expects seconds, not '${values.timeout}'.`);
    requestTimeoutMs = seconds * 1000;
  }
  return { api, requestTimeoutMs, headers: parseHeaders(values.header ?? []) };
}

/** "Name: value" pairs; the API key has its own channel and is refused here so it never sits in shell history. */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || /\s/.test(name)) throw new UserError(`--header expects "Name: value", not '${line}'.`);
    if (name.toLowerCase() === 'authorization') throw new UserError('Give the API key through the PROLONG_API_KEY environment variable, not --header.');
    headers[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
