// --runtime and --llama-cpp, shared by the commands that run the local engine (ask, probe).
import { resolve } from 'node:path';
import { UserError } from '../errors';
import { defaultLlamaCppDir } from '../runtime/llamacpp/locate';
import type { RuntimeSetting } from '../runtime/protocol';

export function runtimeFlags(values: { runtime?: string; 'llama-cpp'?: string }): { runtime: RuntimeSetting; llamaCppDir: string } {
  const runtime = values.runtime ?? 'auto';
  if (runtime !== 'auto' && runtime !== 'onnx' && runtime !== 'llama.cpp') throw new UserError(`--runtime must be auto, onnx or llama.cpp, not '${runtime}'.`, 'auto takes llama.cpp where it is installed (prolong runtime install) and has a GPU.');
  return { runtime, llamaCppDir: resolve(values['llama-cpp'] ?? defaultLlamaCppDir()) };
}
