/**
 * How a local model wants its repository packed: a model trained on packs with the definitions index
 * (`prolong convert --definitions-index` writes `"pack": { "definitionsIndex": true }` in its prolong_model.json)
 * reads the index it learned; every other model gets the plain pack. The user's setting or flag, when given, wins.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readSidecar, sidecarFileName } from '../../kernels/sidecar';
import { demoModelDir } from './demoModel';

/**
 * True when the local model at `modelDir` (empty or undefined: the bundled demo model) was trained with the
 * definitions index. False for a GGUF file or a folder without a readable sidecar: loading it reports that, not this.
 */
export function modelWantsDefinitionsIndex(modelDir: string | undefined): boolean {
  const dir = modelDir?.trim() || demoModelDir();
  try {
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, sidecarFileName))) return false;
    return readSidecar(dir).pack?.definitionsIndex === true;
  } catch {
    return false;
  }
}

/** The index or not: what the user said (a setting or flag) when they said it, else what the local model wants (false for a server). */
export function resolveDefinitionsIndex(explicit: boolean | undefined, localModelDir: string | undefined, local: boolean): boolean {
  if (explicit !== undefined) return explicit;
  return local && modelWantsDefinitionsIndex(localModelDir);
}
