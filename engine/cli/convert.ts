// `prolong convert HF_DIR OUT_DIR`: a Hugging Face Llama-family checkpoint -> ONNX decoder + sidecar.
// With --random-shape NAME it first writes a checkpoint of that shape with seeded random weights into HF_DIR
// (for benchmarks on machines without the real weights).
import { existsSync, readdirSync } from 'node:fs';
import { UserError } from '../errors';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';
import { chatTemplateOf } from '../../kernels/convert';
import { convertCheckpoint, convertToGgufFile, randomShapes, writeRandomCheckpoint, type ConvertOptions, type RandomShapeName } from '../../kernels/index';
import { resolveTokenizerPath } from '../tokenizer';

const LLAMA3_VOCAB = 128256;

const usage = 'prolong convert HF_DIR OUT_DIR|OUT.gguf [--dtype fp32|fp16|int4] [--gguf f32|f16|q4_0] [--max-context N] [--random-shape NAME]';
const help = `usage: ${usage}

Converts a Llama/Mistral/Qwen2 checkpoint (config.json + *.safetensors) into OUT_DIR/model.onnx (+ model.onnx.data)
and OUT_DIR/prolong_model.json for the local engine.

options:
  --dtype fp32|fp16|int4   weight precision (default fp16)
  --io-dtype fp32|fp16     activation and KV-cache precision (default: fp16 for fp16 weights, else fp32)
  --block-size 32|64|128   int4 block size (default 32)
  --int4-embedding         with int4: quantize the embedding too (GatherBlockQuantized) instead of fp16
  --accuracy-level 0|1|2|4 int4 MatMulNBits accuracy_level (default 0: exact; 4: int8 activations, faster on CPU)
  --gguf f32|f16|q4_0      also write model.gguf (llama.cpp's format) for the engine's llama.cpp runtime;
                           with OUT.gguf (a file name ending in .gguf) write only that file
  --max-context N          longest sequence the model will run, e.g. 65536 or 512k (default: max_position_embeddings)
  --all-logits             output logits for every position (tests), not only the last
  --definitions-index      the model was trained on packs with the definitions index (\`prolong pack
                           --definitions-index\`): prolong_model.json says so, and the local engine's packs get it
  --guard-paths            the local engine keeps the paths in the model's answers to the packed files' (for a small
                           model that finds the right file but misspells its path)
  --random-shape NAME      first write random weights of shape NAME into HF_DIR (${Object.keys(randomShapes).join(', ')})
  --seed N                 seed for --random-shape (default 1)
  --json                   print the result as JSON
`;

const convertCommand: Subcommand = {
  summary: 'convert a Hugging Face checkpoint to ONNX',
  usage,
  async run(args: string[], signal: AbortSignal): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      dtype: { type: 'string', default: 'fp16' }, 'io-dtype': { type: 'string' }, 'block-size': { type: 'string' }, 'accuracy-level': { type: 'string' }, 'int4-embedding': { type: 'boolean' }, gguf: { type: 'string' },
      'definitions-index': { type: 'boolean' }, 'guard-paths': { type: 'boolean' },
      'max-context': { type: 'string' }, 'all-logits': { type: 'boolean' }, 'random-shape': { type: 'string' },
      seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(help); return 0; }
    if (positionals.length !== 2) { process.stderr.write(help); return 2; }
    const [hfDir, outDir] = positionals as [string, string];
    const dtype = values.dtype;
    if (dtype !== 'fp32' && dtype !== 'fp16' && dtype !== 'int4') throw new UserError(`--dtype ${dtype} is not fp32, fp16 or int4.`, 'Pick one of those.');
    const ioDtype = values['io-dtype'];
    if (ioDtype !== undefined && ioDtype !== 'fp32' && ioDtype !== 'fp16') throw new UserError(`--io-dtype ${ioDtype} is not fp32 or fp16.`, 'Pick one of those.');
    const gguf = values.gguf;
    if (gguf !== undefined && gguf !== 'f32' && gguf !== 'f16' && gguf !== 'q4_0') throw new UserError(`--gguf ${gguf} is not f32, f16 or q4_0.`, 'Pick one of those.');
    const ggufOnly = outDir.toLowerCase().endsWith('.gguf');
    for (const flag of ['definitions-index', 'guard-paths'] as const) {
      if (ggufOnly && values[flag]) {
        throw new UserError(`--${flag} is written into prolong_model.json, which a .gguf file alone does not have.`, 'Give an output folder (with --gguf, the folder gets both).');
      }
    }
    if (ggufOnly && gguf === undefined) throw new UserError(`${outDir} is a .gguf file name, but --gguf is not given.`, 'Add --gguf q4_0 (or f16, f32), or give an output folder.');
    const options: ConvertOptions = {
      gguf, ggufTokenizerFallback: resolveTokenizerPath(),
      dtype, ioDtype, allLogits: values['all-logits'] ?? false,
      int4BlockSize: values['block-size'] === undefined ? undefined : positiveInt(values['block-size'], '--block-size') as 32 | 64 | 128,
      int4Embedding: values['int4-embedding'] ?? false,
      int4AccuracyLevel: values['accuracy-level'] === undefined ? undefined : accuracyLevel(values['accuracy-level']),
      maxContext: values['max-context'] === undefined ? undefined : parseCount(values['max-context'], 'max-context'),
      definitionsIndex: values['definitions-index'] ?? false,
      guardPaths: values['guard-paths'] ?? false,
    };

    const shape = values['random-shape'];
    if (shape !== undefined) {
      if (!(shape in randomShapes)) throw new UserError(`--random-shape ${shape} is unknown.`, `Use one of: ${Object.keys(randomShapes).join(', ')}.`);
      if (existsSync(hfDir) && readdirSync(hfDir).length > 0) throw new UserError(`${hfDir} is not empty; --random-shape writes a new checkpoint there.`, 'Give an empty or new directory.');
      const started = performance.now();
      const chosen = randomShapes[shape as RandomShapeName];
      // A shape with Llama 3's vocabulary gets its tokenizer and special tokens, so the model answers prompts as text.
      const llama3 = chosen.vocabSize === LLAMA3_VOCAB
        ? { tokenizerJson: resolveTokenizerPath(), bosTokenId: 128000, eosTokenIds: [128001, 128008, 128009] } : {};
      writeRandomCheckpoint(hfDir, chosen, values.seed === undefined ? 1 : positiveInt(values.seed, '--seed'), { dtype: 'BF16', ...llama3 });
      process.stderr.write(`wrote random ${shape} checkpoint to ${hfDir} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }

    let lastPercent = -1;
    const progress = (p: { doneParameters: number; totalParameters: number; tensor: string }) => {
      const percent = Math.floor((100 * p.doneParameters) / p.totalParameters);
      if (percent === lastPercent) return;
      // a live line on a terminal; every 10% as plain lines in logs
      if (process.stderr.isTTY) process.stderr.write(`\rconverting ${percent}% ${p.tensor.padEnd(50).slice(0, 50)}`);
      else if (Math.floor(percent / 10) !== Math.floor(lastPercent / 10)) process.stderr.write(`converting ${percent}% (${p.tensor})\n`);
      lastPercent = percent;
    };
    if (ggufOnly) {
      const written = await convertToGgufFile(hfDir, outDir, { type: gguf!, maxContext: options.maxContext, tokenizerFallback: resolveTokenizerPath(), chatTemplate: chatTemplateOf(hfDir) },
        (doneParameters, totalParameters, tensor) => progress({ doneParameters, totalParameters, tensor }), signal);
      if (process.stderr.isTTY) process.stderr.write('\n');
      const summary = { outFile: outDir, gguf, parameters: written.parameters, fileMiB: Math.round(written.bytes / 2 ** 20), seconds: Number(written.seconds.toFixed(1)), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
      if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stdout.write(`converted ${written.parameters.toLocaleString('en-US')} parameters to ${outDir} (${gguf}, ${summary.fileMiB} MiB) in ${summary.seconds} s; peak RSS ${summary.peakRssMiB} MiB\n`);
      return 0;
    }
    const result = await convertCheckpoint(hfDir, outDir, options, progress, signal);
    if (process.stderr.isTTY) process.stderr.write('\n');
    const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    const summary = {
      outDir, dtype, ioDtype: result.sidecar.onnx.ioDtype, parameters: result.parameters,
      externalDataMiB: Math.round(result.externalDataBytes / 2 ** 20), seconds: Number(result.seconds.toFixed(1)), peakRssMiB,
    };
    if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(`converted ${result.parameters.toLocaleString('en-US')} parameters to ${outDir} (${dtype}, ${summary.externalDataMiB} MiB of weights) in ${summary.seconds} s; peak RSS ${peakRssMiB} MiB\n`);
    return 0;
  },
};

function accuracyLevel(text: string): number {
  if (!['0', '1', '2', '3', '4'].includes(text)) throw new UserError(`--accuracy-level ${text} is not 0-4.`, 'Use 0 (exact) or 4 (fastest on CPU).');
  return Number(text);
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UserError(`${flag} ${text} is not a positive integer.`, `Give ${flag} a whole number.`);
  return value;
}
export default convertCommand;
