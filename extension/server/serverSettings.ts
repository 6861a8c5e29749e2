/**
 * The server settings and how they become backend options, without the `vscode` module (so tests can run it):
 * prolong.server.url, .model, .requestTimeoutSeconds, .extraHeaders, .api. The API key is not a setting: it lives
 * in SecretStorage under a name tied to the server's origin, so a key is never sent to another server.
 */
import { EXTENSION_SETTINGS } from '../../engine/backends/remote/problems';
import type { BackendChoice } from '../../engine/backends/factory';

export const SERVER_SECTION = 'prolong.server';

export interface ServerSettings {
  url: string;
  model: string;
  requestTimeoutSeconds: number;
  extraHeaders: Record<string, string>;
  api: 'chat' | 'completions';
}

/** Reads the settings through `get(name)` (a WorkspaceConfiguration for section prolong.server); warnings for values that were dropped. */
export function readServerSettings(get: (name: string) => unknown): { settings: ServerSettings; warnings: string[] } {
  const warnings: string[] = [];
  const timeout = get('requestTimeoutSeconds');
  const headers: Record<string, string> = {};
  const raw = get('extraHeaders');
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (name.toLowerCase() === 'authorization') {
        warnings.push('prolong.server.extraHeaders has an Authorization header; it is ignored. Run "ProLong: Configure Server" to keep the API key in VS Code\'s secret storage instead.');
      } else if (typeof value === 'string') {
        headers[name.toLowerCase()] = value;
      } else {
        warnings.push(`prolong.server.extraHeaders["${name}"] is not a string; it is ignored.`);
      }
    }
  }
  return {
    settings: {
      url: typeof get('url') === 'string' ? (get('url') as string).trim() : '',
      model: typeof get('model') === 'string' ? (get('model') as string).trim() : '',
      requestTimeoutSeconds: typeof timeout === 'number' && timeout > 0 ? timeout : 600,
      extraHeaders: headers,
      api: get('api') === 'completions' ? 'completions' : 'chat',
    },
    warnings,
  };
}

/** Where a setting's value comes from: the user's own settings, or the workspace (a folder anyone could ship). */
export interface SettingSources {
  /** prolong.server.url as the user's settings have it (undefined when not set there). */
  userUrl?: string;
  /** Whether prolong.server.url comes from the workspace (its settings or a folder's). */
  urlFromWorkspace: boolean;
  /** Whether prolong.server.extraHeaders comes from the workspace. */
  headersFromWorkspace: boolean;
}

/**
 * Extra headers often carry gateway credentials (x-api-key, cf-access-client-secret). Those set in the user's own
 * settings are for the user's server: a workspace that points prolong.server.url at another origin does not get them
 * (the API key is scoped the same way, by origin). Returns the warning to show when they were held back.
 */
export function guardExtraHeaders(settings: ServerSettings, sources: SettingSources): string | undefined {
  if (Object.keys(settings.extraHeaders).length === 0 || !sources.urlFromWorkspace || sources.headersFromWorkspace) return undefined;
  if (sources.userUrl !== undefined && originOf(sources.userUrl) === originOf(settings.url)) return undefined;
  settings.extraHeaders = {};
  return `This workspace sets prolong.server.url to ${originOf(settings.url)}; the extra headers from your user settings (prolong.server.extraHeaders) `
    + 'are not sent to it. Set them in this workspace\'s settings if that server should get them.';
}

/** A server URL to show (messages, titles, the output channel): without a user name or password in it. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url.trim());
    if (!parsed.username && !parsed.password) return url.trim();
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return url.trim();
  }
}

function originOf(url: string): string {
  try {
    return new URL(url.trim()).origin;
  } catch {
    return url.trim();
  }
}

/** SecretStorage name of the API key for a server: one per origin (scheme, host and port). */
export function apiKeySecretName(url: string): string {
  return `prolong.server.apiKey:${originOf(url)}`;
}

export function backendChoice(settings: ServerSettings, apiKey: string | undefined, tokenizerPath?: string): BackendChoice {
  return {
    server: settings.url,
    model: settings.model || undefined,
    apiKey: apiKey || undefined,
    headers: settings.extraHeaders,
    requestTimeoutMs: settings.requestTimeoutSeconds * 1000,
    api: settings.api,
    tokenizerPath: tokenizerPath || undefined,
    settingNames: EXTENSION_SETTINGS,
  };
}
