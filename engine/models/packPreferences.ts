/**
 * How a local model wants its repository packed: a model trained on packs with the definitions index
 * (`prolong convert --definitions-index` writes `"pack": { "definitionsIndex": true }` in its prolong_model.json)
 * reads the index it learned; every other model gets the plain pack. The user's setting or flag, when given, wins.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSidecar, sidecarFileName } from '../../kernels/sidecar';
import { demoModelDir } from './demoModel';

/**
 * True when the local model at `modelDir` (empty or undefined: the bundled demo model) was trained with the
 * definitions index. A GGUF file goes by the sidecar beside it when that sidecar names it; a folder or file without a
 * readable sidecar wants nothing (loading the model reports that, not this).
 */
export function modelWantsDefinitionsIndex(modelDir: string | undefined): boolean {
  const path = modelDir?.trim() || demoModelDir();
  try {
    if (statSync(path).isDirectory()) return existsSync(join(path, sidecarFileName)) && readSidecar(path).pack?.definitionsIndex === true;
    // a GGUF file that `prolong convert --gguf` wrote beside its ONNX model: that folder's sidecar names it
    const sidecar = existsSync(join(dirname(path), sidecarFileName)) ? readSidecar(dirname(path)) : undefined;
    return sidecar?.gguf?.file === basename(path) && sidecar.pack?.definitionsIndex === true;
  } catch {
    return false;
  }
}

/** The index or not: what the user said (a setting or flag) when they said it, else what the local model wants (false for a server). */
export function resolveDefinitionsIndex(explicit: boolean | undefined, localModelDir: string | undefined, local: boolean): boolean {
  if (explicit !== undefined) return explicit;
  return local && modelWantsDefinitionsIndex(localModelDir);
}
