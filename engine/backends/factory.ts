/**
 * Creates the Backend that CLI options or extension settings ask for. Today: a remote OpenAI-compatible server.
 * (The local engine adds its branch here.)
 */
import { UserError } from '../errors';
import type { Backend } from './types';
import { CLI_SETTINGS, type SettingNames } from './remote/problems';
import { RemoteBackend, type RemoteBackendOptions } from './remote/remoteBackend';

export interface BackendChoice {
  /** Server root URL (http://host:port); selects the remote backend. */
  server?: string;
  /** Model id on the server; empty: its only model. */
  model?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Longest silence allowed from the server, in ms. */
  requestTimeoutMs?: number;
  /** tokenizer.json for local counts; empty: the bundled Llama 3 one. */
  tokenizerPath?: string;
  api?: 'chat' | 'completions';
  /** How error hints name the settings; default: CLI flags. */
  settingNames?: SettingNames;
}

export function createBackend(choice: BackendChoice): Backend {
  if (choice.server && choice.server.trim()) return new RemoteBackend(remoteBackendOptions(choice));
  throw new UserError('No model backend is configured.', `Give a ProLong server with ${(choice.settingNames ?? CLI_SETTINGS).url}.`);
}

/** The remote backend's options for a choice with a server (also what its health check takes). */
export function remoteBackendOptions(choice: BackendChoice): RemoteBackendOptions {
  return {
    url: choice.server ?? '',
    model: choice.model,
    apiKey: choice.apiKey,
    headers: choice.headers,
    requestTimeoutMs: choice.requestTimeoutMs,
    tokenizerPath: choice.tokenizerPath,
    api: choice.api,
    settingNames: choice.settingNames ?? CLI_SETTINGS,
  };
}
