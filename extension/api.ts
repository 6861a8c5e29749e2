/** What the extension's activate() returns: read-only views other extensions (and our host tests) may use. */
import type { LastPack } from './pack';
import type { Backend, BackendInfo } from '../engine/backends/types';

export interface ProlongExtensionApi {
  /** The latest successful pack of this window, if any. */
  lastPack(): LastPack | undefined;
  /** For tests: the panels use `backend` instead of the one the settings describe (undefined: the settings' again). */
  overrideBackend(backend: Backend | undefined): void;
  /** What the panels' backend says of itself (for a local engine this loads the model): kind, model, runtime detail. */
  backendInfo(): Promise<BackendInfo>;
  /** Which of the chat participant, language-model tools and MCP server definition this host offered. */
  chat: { participant: boolean; tools: boolean; mcp: boolean };
}
