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

/** SecretStorage name of the API key for a server: one per origin (scheme, host and port). */
export function apiKeySecretName(url: string): string {
  let origin: string;
  try {
    origin = new URL(url.trim()).origin;
  } catch {
    origin = url.trim();
  }
  return `prolong.server.apiKey:${origin}`;
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
