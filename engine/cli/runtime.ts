// `prolong runtime`: the engine's llama.cpp runtime: install it (npm, into its own folder) and say what is there.
import { resolve } from 'node:path';
import { UserError } from '../errors';
import { CLI_SETTINGS } from '../settingNames';
import { availableBinaries, binaryDescriptions, installedRuntime, installLlamaCpp, type LlamaCppBinary } from '../runtime/llamacpp/install';
import { buildDurations, buildLlamaCpp } from '../runtime/llamacpp/build';
import { defaultLlamaCppDir, loadLlamaCpp, startLlama } from '../runtime/llamacpp/locate';
import { parseCommandArgs, type Subcommand } from './subcommand';
import { COMMAND_SUMMARIES } from './summaries';

const usage = 'prolong runtime install|build [--gpu cpu|vulkan|cuda|metal] [--dir DIR] | prolong runtime status [--dir DIR] [--json]';


const help = `usage: ${usage}

The local engine runs a model with onnxruntime (built in) or with llama.cpp (node-llama-cpp, installed here by npm
into a folder of its own: ${defaultLlamaCppDir()}, or --dir / $PROLONG_LLAMA_CPP_DIR). With llama.cpp and a GPU
build, a model converted with --gguf (or a .gguf file) runs several times faster on the GPU.
  install   --gpu: ${availableBinaries().map((b) => `${b} (${binaryDescriptions[b]})`).join('; ') || 'none for this platform'}
            (default: the first of those)
  build     compiles llama.cpp for this machine's GPU from the source node-llama-cpp ships (nothing is downloaded),
            for when a prebuilt binary fails here (a CUDA driver older than the binary's toolkit); needs CMake, git,
            a C++ compiler and, for --gpu cuda (the default), the CUDA toolkit; ${buildDurations}
  status    what is installed and which GPU llama.cpp finds
`;

/** --gpu's value, else `fallback`; a value that names no binary is an error listing `allowed`. */
function gpuFlag(value: string | undefined, fallback: LlamaCppBinary | undefined, allowed: readonly LlamaCppBinary[]): LlamaCppBinary {
  const binary = (value ?? fallback) as LlamaCppBinary;
  if (!(binary in binaryDescriptions)) throw new UserError(`--gpu ${value} is not cpu, vulkan, cuda or metal.`, `Pick one of: ${allowed.join(', ')}.`);
  return binary;
}

const runtimeCommand: Subcommand = {
  summary: COMMAND_SUMMARIES.runtime,
  usage,
  async run(args: string[], signal: AbortSignal): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      gpu: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(help); return 0; }
    const dir = resolve(values.dir ?? defaultLlamaCppDir());
    const action = positionals[0];
    if (action === 'install' && positionals.length === 1) {
      const choices = availableBinaries();
      const binary = gpuFlag(values.gpu, choices[0], choices);
      process.stderr.write(`installing llama.cpp (${binaryDescriptions[binary]}) into ${dir} with npm\n`);
      const installed = await installLlamaCpp(dir, binary, { signal, onOutput: (line) => process.stderr.write(`  npm: ${line}\n`) });
      process.stdout.write(`installed node-llama-cpp ${installed.version} (${installed.binaries.join(', ')}) in ${dir}\n`);
      return 0;
    }
    if (action === 'build' && positionals.length === 1) {
      const binary = gpuFlag(values.gpu, process.platform === 'darwin' ? 'metal' : 'cuda', ['cuda', 'vulkan', 'metal', 'cpu']);
      process.stderr.write(`building llama.cpp (${binary}) for this machine into ${dir} (${buildDurations})\n`);
      const started = Date.now();
      const installed = await buildLlamaCpp(dir, binary, { signal, onOutput: (line) => process.stderr.write(`  ${line}\n`) });
      process.stdout.write(`built llama.cpp (${binary}) in ${Math.round((Date.now() - started) / 1000)} s: node-llama-cpp ${installed.version} in ${dir} (${installed.binaries.join(', ')})\n`);
      return 0;
    }
    if (action === 'status' && positionals.length === 1) {
      const installed = installedRuntime(dir);
      let gpu: string | false = false;
      let devices: string[] = [];
      let builtHere = false;
      if (installed) {
        const llama = await startLlama(await loadLlamaCpp(dir, CLI_SETTINGS), 'auto', CLI_SETTINGS);
        gpu = llama.gpu;
        builtHere = llama.buildType === 'localBuild';
        devices = llama.gpu === false ? [] : await llama.getGpuDeviceNames().catch(() => []);
        await llama.dispose();
      }
      const status = { dir, installed: installed !== undefined, version: installed?.version, binaries: installed?.binaries ?? [], gpu, devices, builtHere };
      if (values.json) process.stdout.write(JSON.stringify(status) + '\n');
      else if (!installed) process.stdout.write(`llama.cpp runtime: not installed in ${dir} (prolong runtime install)\n`);
      else process.stdout.write(`llama.cpp runtime: node-llama-cpp ${installed.version} in ${dir} (${installed.binaries.join(', ')}); ${gpu === false ? 'CPU only' : `${gpu} on ${devices.join(', ') || 'no device listed'}`}${builtHere ? ', with the binary built on this machine' : ''}\n`);
      return 0;
    }
    process.stderr.write(help);
    return 2;
  },
};

export default runtimeCommand;
