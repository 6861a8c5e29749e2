/**
 * The demo model that ships with the product (media/demo-model, trained by training/, see its README): what the
 * local engine runs when nothing else is configured, so the first question gets a real answer with no download.
 * It is small (38M parameters): it finds needles in long text, but it does not reason about code and answers most
 * repository questions wrongly, so every surface that uses it says so and names the way to a real model.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readSidecar, sidecarFileName } from '../../kernels/sidecar';
import type { SettingNames } from '../settingNames';

/** The model's name as the engine reports it (its sidecar's source). */
export const DEMO_MODEL_NAME = 'prolong-demo-38m';

const RELATIVE_DIR = join('media', 'demo-model');

let found: string | undefined;

/**
 * The demo model's folder: media/demo-model in the extension or repository root, found upward from this file
 * (bundled: out/*.js; from source: engine/models/*.ts). Throws when the package lost it.
 */
export function demoModelDir(): string {
  if (found) return found;
  for (let dir = __dirname, i = 0; i < 5; dir = dirname(dir), i++) {
    const candidate = join(dir, RELATIVE_DIR);
    if (existsSync(join(candidate, sidecarFileName))) return (found = candidate);
  }
  throw new Error(`the bundled demo model (${RELATIVE_DIR}) is missing next to ${__dirname}: reinstall the extension or check out the repository again`);
}

let contextLength: number | undefined;

/** The demo model's context in tokens (from its sidecar, read once): known before the model loads. */
export function demoModelContextLength(): number {
  return (contextLength ??= readSidecar(demoModelDir()).model.contextLength);
}

/** True when `dir` is the bundled demo model's folder. */
export function isDemoModelDir(dir: string): boolean {
  try {
    return realpathSync(dir) === realpathSync(demoModelDir());
  } catch {
    return false;
  }
}

/** What the user reads wherever the demo model answers: what it can do, and how to get a real model. */
export function demoModelNotice(names: SettingNames): string {
  return `This is ProLong's small demo model (38M parameters, bundled, runs on this machine): it finds needles in up to 8K tokens of text, less often at 16K (try the probes), but it does not reason about code and its answers to questions about the repository are mostly wrong. For real answers use a real model: ${names.realModel}.`;
}
