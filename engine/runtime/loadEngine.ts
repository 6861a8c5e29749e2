/**
 * Which runtime runs the local model, and loading it. `onnx`: onnxruntime on the ONNX model (WebGPU or CPU).
 * `llama.cpp`: node-llama-cpp on the model's GGUF (CUDA, Vulkan, Metal or CPU, as its installed binary has).
 * `auto` takes llama.cpp when the model has a GGUF, the llama.cpp runtime is installed and it has a GPU backend on
 * this machine (much faster than onnxruntime's WebGPU on the same GPU); otherwise onnxruntime, which is the faster of
 * the two on the CPU (BENCHMARKS.md). The choice and its reason go to the user in EngineInfo.
 */
import { UserError } from '../errors';
import { CLI_SETTINGS } from '../settingNames';
import { Engine } from './engine';
import { ggufSource, LlamaCppEngine } from './llamacpp/llamaCppEngine';
import { findLlamaCpp, loadLlamaCpp, notInstalledError, startLlama } from './llamacpp/locate';
import type { LoadOptions } from './protocol';

/** What the engine process serves requests with. */
export type LoadedEngine = Engine | LlamaCppEngine;

export async function loadEngine(options: LoadOptions): Promise<LoadedEngine> {
  const names = options.settingNames ?? CLI_SETTINGS;
  const setting = options.runtime ?? 'auto';
  const isGgufFile = options.modelDir.toLowerCase().endsWith('.gguf');
  const onnx = async (reason: string): Promise<Engine> => {
    if (isGgufFile) throw new UserError(`${options.modelDir} is a GGUF file, which only the llama.cpp runtime runs.`, `Set ${names.runtime} to auto or llama.cpp, or give a converted model folder.`);
    const engine = await Engine.load(options);
    engine.info.runtimeReason = reason;
    return engine;
  };
  if (setting === 'onnx') return onnx(`onnxruntime, as ${names.runtime} asks`);

  const source = ggufSource(options.modelDir);
  if (!source) {
    if (setting === 'llama.cpp') {
      throw new UserError(`The model folder ${options.modelDir} has no model.gguf for the llama.cpp runtime.`,
        `Convert it again with --gguf q4_0 (prolong convert HF_DIR OUT_DIR --dtype int4 --gguf q4_0), or set ${names.runtime} to onnx.`);
    }
    return onnx('onnxruntime (the model has no GGUF)');
  }
  const found = findLlamaCpp(options.llamaCppDir);
  if (!found) {
    if (setting === 'llama.cpp' || isGgufFile) throw notInstalledError(options.llamaCppDir, names);
    return onnx(`onnxruntime: the llama.cpp runtime is not installed (${names.installLlamaCpp} installs it)`);
  }
  // the CPU asked for: onnxruntime is the faster there, no need to start llama.cpp to find that out
  if (setting === 'auto' && options.executionProvider === 'cpu' && !isGgufFile) return onnx('onnxruntime: on the CPU it is faster than llama.cpp');
  const runtime = await loadLlamaCpp(options.llamaCppDir, names, found);
  const excluded = options.llamaCppExcludeGpus ?? [];
  const llama = await startLlama(runtime, options.executionProvider === 'cpu' ? false : 'auto', names, excluded);
  const left = excluded.length > 0 ? `; left out: llama.cpp's ${excluded.join(', ')} backend, which stopped the engine process earlier (a prebuilt binary this driver cannot run: ${names.buildLlamaCpp} compiles one for this machine, ${excluded.join(' or ')})` : '';
  if (setting === 'auto' && llama.gpu === false && !isGgufFile) {
    await llama.dispose();
    return onnx(`onnxruntime: the installed llama.cpp runtime has no GPU backend on this machine, and on the CPU onnxruntime is faster${left}`);
  }
  const reason = setting === 'llama.cpp' || isGgufFile
    ? `llama.cpp${setting === 'llama.cpp' ? `, as ${names.runtime} asks` : ': the model is a GGUF file'}`
    : `llama.cpp: the model has a GGUF and the installed llama.cpp runtime has a GPU backend (${llama.gpu}), faster than onnxruntime's WebGPU`;
  try {
    return await LlamaCppEngine.load(options, source, runtime, llama, reason + left);
  } catch (error) {
    await llama.dispose().catch(() => undefined);
    throw error;
  }
}
