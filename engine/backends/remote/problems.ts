/**
 * Turns what went wrong talking to a server into a UserError that names the server and says what to do:
 * DNS, refused connection, TLS, timeouts, 401/403, a 404 path, a missing model, an oversized prompt.
 */
import { UserError } from '../../errors';
import { ConnectionError, IdleTimeoutError, formatSeconds } from './http';
import type { ServerErrorBody } from './wire';

// Where the settings live, named in hints; the CLI and the extension word it differently (engine/settingNames.ts).
import { CLI_SETTINGS, type SettingNames } from '../../settingNames';
export { CLI_SETTINGS, EXTENSION_SETTINGS, type SettingNames } from '../../settingNames';

/** The prompt does not fit the server's context; carries the numbers and the ways out. */
export class ContextTooLongError extends UserError {
  constructor(
    readonly server: string,
    readonly model: string,
    readonly promptTokens: number,
    readonly maxNewTokens: number,
    readonly contextLength: number,
    names: SettingNames = CLI_SETTINGS,
  ) {
    const over = promptTokens + maxNewTokens - contextLength;
    super(
      `The prompt is ${promptTokens.toLocaleString('en-US')} tokens and the answer may take ${maxNewTokens.toLocaleString('en-US')} more, ` +
      `but ${model} on ${server} holds ${contextLength.toLocaleString('en-US')} tokens in all (${over.toLocaleString('en-US')} too many).`,
      // the repository's share of the prompt is not known here, but it must shrink by `over` at least
      `Options: pack at least ${over.toLocaleString('en-US')} fewer tokens (${names.packBudget}: the packed repository's tokens minus ${over.toLocaleString('en-US')}, or less); ` +
      `exclude folders (${names.packExclude}); ask for fewer answer tokens (${names.maxTokens}); or restart the server with a longer context ` +
      `(vLLM --max-model-len, llama.cpp -c).`,
    );
    this.name = 'ContextTooLongError';
  }
}

export function connectionProblem(error: ConnectionError | IdleTimeoutError, url: URL, names: SettingNames): UserError {
  const where = `${url.protocol}//${url.host}`;
  if (error instanceof IdleTimeoutError) {
    return new UserError(`${where} sent nothing for ${formatSeconds(error.idleMs)}${error.duringBody ? ' in the middle of its answer' : ''}.`,
      `The server may be overloaded or stuck; raise ${names.timeout} if long prompts need more time to prefill.`, { cause: error });
  }
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new UserError(`Cannot find the host "${url.hostname}" of ${where}: DNS lookup failed (${error.code}).`,
        `Check the host name in ${names.url}, or your network/VPN.`, { cause: error });
    case 'ECONNREFUSED':
      return new UserError(`${where} refused the connection: nothing is listening on port ${url.port || defaultPort(url)}.`,
        `Start the server (e.g. \`vllm serve ... --port N\` or \`llama-server --port N\`), or fix the port in ${names.url}.`, { cause: error });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return new UserError(`Cannot reach ${where} (${error.code}).`, `Check ${names.url}, firewalls and your network/VPN.`, { cause: error });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return new UserError(`${where} closed the connection${error.duringBody ? ' in the middle of its answer' : ''} (${error.code}).`,
        'The server may have crashed or restarted; check its log.', { cause: error });
  }
  if (error.code === 'CONNECT_TIMEOUT') {
    return new UserError(`${where}: ${error.message}.`,
      url.protocol === 'https:'
        ? `If the server speaks plain HTTP, use http:// in ${names.url}; otherwise check the host, port and firewalls.`
        : `Check the host and port in ${names.url}, firewalls and your network/VPN.`, { cause: error });
  }
  if (isTlsCode(error.code)) {
    const plainHttp = error.code === 'EPROTO' || /wrong version number|packet length too long/i.test(error.message);
    return new UserError(`TLS handshake with ${where} failed: ${error.code} (${error.message}).`,
      plainHttp
        ? `The server speaks plain HTTP: use http:// in ${names.url}.`
        : 'The server\'s certificate is not trusted here: give its CA certificate through NODE_EXTRA_CA_CERTS, or fix the host name to match the certificate.',
      { cause: error });
  }
  return new UserError(`Cannot talk to ${where}: ${error.message} (${error.code}).`, `Check ${names.url}.`, { cause: error });
}

function defaultPort(url: URL): string {
  return url.protocol === 'https:' ? '443' : '80';
}

function isTlsCode(code: string): boolean {
  return code === 'EPROTO' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

/** Matches vLLM's "maximum context length is N tokens" and llama.cpp's exceed_context_size_error. */
export function isContextLengthError(body: ServerErrorBody | undefined): boolean {
  if (!body) return false;
  return body.type === 'exceed_context_size_error' || /maximum context length|exceeds the available context size|context length/i.test(body.message);
}

export function httpProblem(status: number, body: ServerErrorBody | undefined, url: URL, model: string | undefined, names: SettingNames): UserError {
  const where = `${url.protocol}//${url.host}`;
  const said = body ? `: ${body.message}` : '';
  if (status === 401 || status === 403) {
    return new UserError(`${where} rejected the request as unauthorized (HTTP ${status}${said}).`,
      `Set or correct ${names.apiKey}; vLLM checks it against --api-key, llama.cpp against --api-key.`);
  }
  if (status === 404) {
    const mentionsModel = body !== undefined && model !== undefined && body.message.includes(model);
    if (mentionsModel || /model .*(does not exist|not found)/i.test(body?.message ?? '')) {
      return new UserError(`${where} does not serve the model "${model ?? ''}" (HTTP 404${said}).`,
        `Pick one of the models it lists at /v1/models in ${names.model}.`);
    }
    return new UserError(`${where} has no endpoint ${url.pathname} (HTTP 404${said}).`,
      `Point ${names.url} at the server's root (e.g. http://host:8000), not at a page or sub-path; it must be an OpenAI-compatible server (vLLM, SGLang, llama-server).`);
  }
  if (status === 400 && isContextLengthError(body)) {
    return new UserError(`The prompt is longer than ${where} accepts (HTTP 400${said}).`,
      `Lower ${names.packBudget}, exclude folders (${names.packExclude}), or restart the server with a longer context (vLLM --max-model-len, llama.cpp -c).`);
  }
  if (status === 429 || status === 503) {
    return new UserError(`${where} is busy or still loading (HTTP ${status}${said}) and kept refusing after retries.`, 'Try again in a minute.');
  }
  if (status >= 500) {
    return new UserError(`${where} failed with HTTP ${status}${said}.`, 'This is a server-side error; its log says more.');
  }
  return new UserError(`${where} answered ${url.pathname} with HTTP ${status}${said}.`, `Check ${names.url} and ${names.model}.`);
}
