/** What the extension's activate() returns: read-only views other extensions (and our host tests) may use. */
import type { LastPack } from './pack';

export interface ProlongExtensionApi {
  /** The latest successful pack of this window, if any. */
  lastPack(): LastPack | undefined;
}
