/**
 * One HTTP exchange with a model server over node:http/https (not fetch: fetch hides the connection's error codes
 * behind "fetch failed" and has fixed 300 s header/body timeouts, too short for a 512K-token prefill, and
 * VS Code's proxy support hooks node:http). The caller's AbortSignal and an idle timer both end the exchange.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CancelledError } from '../../errors';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** JSON text for POST. */
  body?: string;
  /** Longest silence allowed: before the response headers, and between body chunks while reading it. */
  idleTimeoutMs: number;
  /** Longest wait for a new connection to be established (TCP, and the TLS handshake for https). */
  connectTimeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body's bytes as they arrive; ends cleanly, or throws a ConnectionError/IdleTimeoutError/CancelledError. */
  chunks(): AsyncGenerator<Uint8Array>;
  /** The whole body as text (for JSON answers and error bodies), at most `limitBytes` (default 64 MiB: a /tokenize answer for 512K tokens is about 4 MB). */
  text(limitBytes?: number): Promise<string>;
  /** Drops the connection (used when the rest of the body is not wanted). */
  destroy(): void;
}

/**
 * The network failed before or during the exchange; `code` is Node's error code (ENOTFOUND, ECONNREFUSED...), or
 * CONNECT_TIMEOUT when a new connection (or its TLS handshake) did not complete in time.
 */
export class ConnectionError extends Error {
  constructor(readonly code: string, message: string, readonly duringBody: boolean) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** The server stayed silent longer than the idle timeout. */
export class IdleTimeoutError extends Error {
  constructor(readonly idleMs: number, readonly duringBody: boolean) {
    super(`no data for ${formatSeconds(idleMs)}`);
    this.name = 'IdleTimeoutError';
  }
}

/** "0.3 s", "15 s": timeouts as people read them. */
export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms / 1000)} s`;
}

export function sendRequest(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
  if (signal?.aborted) return Promise.reject(new CancelledError('request'));
  const transport = request.url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(request.body));
  }

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let bodyFailure: Error | undefined;
    const req = transport.request(request.url, { method: request.method, headers });

    const armTimer = (duringBody: boolean) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new IdleTimeoutError(request.idleTimeoutMs, duringBody)), request.idleTimeoutMs);
    };
    let connectTimer: NodeJS.Timeout | undefined;
    const onAbort = () => fail(new CancelledError('request'));
    const cleanup = () => { clearTimeout(timer); clearTimeout(connectTimer); signal?.removeEventListener('abort', onAbort); };
    const fail = (error: Error) => {
      cleanup();
      if (!settled) { settled = true; reject(error); }
      else bodyFailure ??= error;
      req.destroy(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    armTimer(false);
    // A new connection gets a short deadline of its own: a server that accepts TCP but never answers a TLS handshake
    // (plain HTTP behind an https:// URL) must not look like a long prefill. Reused keep-alive sockets skip this.
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const tls = request.url.protocol === 'https:';
      connectTimer = setTimeout(() => fail(new ConnectionError('CONNECT_TIMEOUT',
        `${tls ? 'the TLS handshake' : 'the connection'} did not complete in ${formatSeconds(request.connectTimeoutMs)}`, false)), request.connectTimeoutMs);
      socket.once(tls ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });

    req.on('error', (error: NodeJS.ErrnoException) => {
      if (settled && bodyFailure) return;
      fail(toConnectionError(error, settled));
    });
    req.on('response', (res) => {
      settled = true;
      armTimer(true);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        chunks: () => readChunks(res, () => armTimer(true), cleanup, () => bodyFailure),
        text: async (limitBytes = 64 * 1024 * 1024) => {
          const parts: Uint8Array[] = [];
          let size = 0;
          for await (const chunk of readChunks(res, () => armTimer(true), cleanup, () => bodyFailure)) {
            size += chunk.length;
            if (size > limitBytes) { res.destroy(); break; }
            parts.push(chunk);
          }
          return Buffer.concat(parts).toString('utf8');
        },
        destroy: () => { cleanup(); res.destroy(); req.destroy(); },
      });
    });
    req.end(request.body);
  });
}

async function* readChunks(
  res: http.IncomingMessage, onProgress: () => void, cleanup: () => void, failure: () => Error | undefined,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res) {
      onProgress();
      yield chunk as Buffer;
    }
    // A connection closed before the end of a chunked or sized body surfaces here (Node marks it aborted).
    if (!res.complete) throw new ConnectionError('ECONNRESET', 'the connection closed before the response ended', true);
  } catch (error) {
    const known = failure();
    if (known) throw known;
    if (error instanceof ConnectionError) throw error;
    throw toConnectionError(error as NodeJS.ErrnoException, true);
  } finally {
    cleanup();
  }
}

function toConnectionError(error: NodeJS.ErrnoException, duringBody: boolean): Error {
  if (error instanceof CancelledError || error instanceof IdleTimeoutError || error instanceof ConnectionError) return error;
  return new ConnectionError(error.code ?? 'UNKNOWN', error.message, duringBody);
}
