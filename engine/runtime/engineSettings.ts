/**
 * The `prolong.engine.*` settings (package.json) read into the backend factory's fields, for the extension:
 * `createBackend({ ...readEngineSettings((name) => config.get(name)), prefixCacheDir })` with
 * `config = vscode.workspace.getConfiguration('prolong.engine')`. Values of the wrong type fall back to the
 * defaults and are reported as warnings naming the setting.
 */
import type { BackendChoice } from '../backends/factory';

export const ENGINE_SECTION = 'prolong.engine';

export type EngineSettings = Required<Pick<BackendChoice, 'modelDir' | 'executionProvider' | 'contextTokens' | 'prefillChunkTokens' | 'runtime'>>
  & Pick<BackendChoice, 'deviceMemoryGiB'> & {
    /** prolong.engine.llamaCppPath: the llama.cpp runtime's folder; empty: the extension's own install folder. */
    llamaCppDir: string;
  };

export function readEngineSettings(get: (name: string) => unknown): { settings: EngineSettings; warnings: string[] } {
  const warnings: string[] = [];
  const number = (name: string, fallback: number, minimum: number, whole = true): number => {
    const value = get(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
      warnings.push(`${ENGINE_SECTION}.${name} must be a number of at least ${minimum}; using ${fallback}.`);
      return fallback;
    }
    return whole ? Math.floor(value) : value;
  };
  const provider = get('executionProvider') ?? 'auto';
  const executionProvider = provider === 'auto' || provider === 'webgpu' || provider === 'cpu' ? provider : 'auto';
  if (executionProvider !== provider) warnings.push(`${ENGINE_SECTION}.executionProvider must be "auto", "webgpu" or "cpu"; using "auto".`);
  const modelPath = get('modelPath');
  const runtimeValue = get('runtime') ?? 'auto';
  const runtime = runtimeValue === 'auto' || runtimeValue === 'onnx' || runtimeValue === 'llama.cpp' ? runtimeValue : 'auto';
  if (runtime !== runtimeValue) warnings.push(`${ENGINE_SECTION}.runtime must be "auto", "onnx" or "llama.cpp"; using "auto".`);
  const llamaCppPath = get('llamaCppPath');
  // GiB may be fractional (7.5); rounding down would turn 0.5 into 0, which means "detect"
  // prolong.engine.deviceMemory (in GiB); the old name deviceMemoryGiB is still read when the new one is not set
  let memory = number('deviceMemory', 0, 0, false);
  const old = get('deviceMemoryGiB');
  if (typeof old === 'number' && old > 0) {
    if (memory > 0) warnings.push(`${ENGINE_SECTION}.deviceMemoryGiB is deprecated and ignored: ${ENGINE_SECTION}.deviceMemory is set. Remove the old setting.`);
    else {
      memory = number('deviceMemoryGiB', 0, 0, false);
      warnings.push(`${ENGINE_SECTION}.deviceMemoryGiB is deprecated: it is used for now; rename it to ${ENGINE_SECTION}.deviceMemory.`);
    }
  }
  return {
    settings: {
      modelDir: typeof modelPath === 'string' ? modelPath.trim() : '',
      executionProvider,
      runtime,
      llamaCppDir: typeof llamaCppPath === 'string' ? llamaCppPath.trim() : '',
      contextTokens: number('contextTokens', 0, 0),
      prefillChunkTokens: number('prefillChunkTokens', 2048, 1),
      deviceMemoryGiB: memory > 0 ? memory : undefined,
    },
    warnings,
  };
}
