/**
 * The HTTP side of a remote backend: base URL, auth and extra headers, JSON calls, streams, and the retry policy.
 * Retries happen only where repeating cannot do harm: on 429/503 (the server did no work) for any call, and on a
 * reset connection (a stale keep-alive socket) only for idempotent calls (listing models, tokenizing).
 */
import { CancelledError, UserError } from '../../errors';
import { ConnectionError, IdleTimeoutError, formatSeconds, sendRequest, type HttpResponse } from './http';
import { connectionProblem, httpProblem, type SettingNames } from './problems';
import { readErrorBody, type ServerErrorBody } from './wire';

export interface ServerConnection {
  /** Server root, e.g. http://gpu-box:8000 (a trailing /v1 is accepted and removed). */
  url: string;
  /** Sent as `Authorization: Bearer <key>`; never logged or put into messages. */
  apiKey?: string;
  /** Extra headers for every request (a gateway's routing header, say). */
  headers?: Record<string, string>;
  /** Longest silence allowed from the server, in ms (waiting for headers, and between streamed chunks). */
  requestTimeoutMs?: number;
  /** Longest wait for a new connection and its TLS handshake, in ms (default 15 s). */
  connectTimeoutMs?: number;
  /** Most attempts for a retryable failure (default 4), and the first backoff in ms (default 500, doubling). */
  maxAttempts?: number;
  retryBaseMs?: number;
  /** How hints name the settings (extension settings or CLI flags). */
  settingNames: SettingNames;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

/** Parses and checks a server URL; returns its root with no trailing slash or /v1. */
export function normalizeServerUrl(input: string, names: SettingNames): URL {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserError(`"${trimmed}" is not a URL.`, `Set ${names.url} to the server's address, e.g. http://gpu-box:8000.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`The server URL "${trimmed}" must start with http:// or https://.`, `Fix ${names.url}.`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export class ServerClient {
  readonly root: URL;
  readonly settingNames: SettingNames;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;

  constructor(private readonly connection: ServerConnection) {
    this.settingNames = connection.settingNames;
    this.root = normalizeServerUrl(connection.url, connection.settingNames);
    this.timeoutMs = connection.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = Math.min(connection.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, this.timeoutMs);
    this.maxAttempts = Math.max(1, connection.maxAttempts ?? 4);
    this.retryBaseMs = connection.retryBaseMs ?? 500;
  }

  /** "http://host:port", for messages. */
  get label(): string {
    return `${this.root.protocol}//${this.root.host}`;
  }

  endpoint(path: string): URL {
    const url = new URL(this.root.href);
    url.pathname = `${this.root.pathname.replace(/\/+$/, '')}${path}`;
    return url;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.connection.headers };
    if (this.connection.apiKey) headers.authorization = `Bearer ${this.connection.apiKey}`;
    return headers;
  }

  /**
   * Sends a request, retrying per the policy above; `warnings` gets a line per retry. Returns the response
   * whatever its status (the caller decides); throws UserError for network failures, CancelledError on abort.
   */
  async send(method: 'GET' | 'POST', path: string, body: unknown, options: { idempotent: boolean; warnings?: string[]; signal?: AbortSignal }): Promise<HttpResponse> {
    const url = this.endpoint(path);
    const text = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await sendRequest({ method, url, headers: this.headers(), body: text, idleTimeoutMs: this.timeoutMs, connectTimeoutMs: this.connectTimeoutMs }, options.signal);
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        if (error instanceof ConnectionError && options.idempotent && attempt < this.maxAttempts && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          const delay = this.backoff(attempt, undefined);
          options.warnings?.push(`${this.label} reset the connection on ${path}; retried after ${formatSeconds(delay)}.`);
          await sleep(delay, options.signal);
          continue;
        }
        if (error instanceof ConnectionError || error instanceof IdleTimeoutError) throw connectionProblem(error, url, this.settingNames);
        throw error;
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.maxAttempts) {
        response.destroy();
        const delay = this.backoff(attempt, response.headers['retry-after']);
        options.warnings?.push(`${this.label} answered HTTP ${response.status} (busy) on ${path}; retried after ${formatSeconds(delay)}.`);
        await sleep(delay, options.signal);
        continue;
      }
      return response;
    }
  }

  /** GET or POST with a JSON answer; a non-2xx status becomes a UserError unless `allow` lists it. */
  async json(method: 'GET' | 'POST', path: string, body: unknown, options: { idempotent: boolean; model?: string; allow?: number[]; warnings?: string[]; signal?: AbortSignal }): Promise<JsonAnswer> {
    const url = this.endpoint(path);
    const response = await this.send(method, path, body, options);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof IdleTimeoutError) throw connectionProblem(error, url, this.settingNames);
      throw error;
    }
    const parsed = parseJson(text);
    if (response.status >= 200 && response.status < 300) {
      if (parsed === undefined) throw new UserError(`${this.label} answered ${path} with something that is not JSON: "${preview(text)}".`, `Check that ${this.settingNames.url} points at an OpenAI-compatible server.`);
      return { status: response.status, body: parsed };
    }
    if (options.allow?.includes(response.status)) return { status: response.status, body: parsed };
    throw httpProblem(response.status, errorBodyOf(parsed, text), url, options.model, this.settingNames);
  }

  private backoff(attempt: number, retryAfter: string | string[] | undefined): number {
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 30_000);
    return this.retryBaseMs * 2 ** (attempt - 1);
  }
}

export function errorBodyOf(parsed: unknown, text: string): ServerErrorBody | undefined {
  return readErrorBody(parsed) ?? (text.trim() ? { message: preview(text) } : undefined);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function preview(text: string, length = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new CancelledError('request')); return; }
    const onAbort = () => { clearTimeout(timer); reject(new CancelledError('request')); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
