// `prolong pull ORG/NAME`: download a checkpoint from the Hugging Face Hub into the HF cache (or find it there)
// and convert it for the local engine; the same code as the extension's "Download a model…".
import { UserError } from '../errors';
import { hubSettings } from '../models/hub';
import { defaultModelsDir, pullModel } from '../models/library';
import { machineMemory } from '../models/machine';
import { describeFit, formatBytes, formatContext } from '../models/modelFit';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';

const usage = 'prolong pull ORG/NAME [--revision R] [--dtype auto|fp16|int4] [--gguf] [--out DIR]';
const help = `usage: ${usage}

Downloads what the converter needs of a Hugging Face model (config, safetensors, tokenizer) into the Hugging Face
cache ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub; reused, never downloaded twice), then converts it.
Honours HF_TOKEN (or the token file), HF_ENDPOINT and HF_HUB_OFFLINE. A cut download resumes when run again.

options:
  --revision R          branch, tag or commit (default main)
  --dtype auto|fp16|int4  weight precision (default auto: the one that reaches the longest context here)
  --gguf                  also write model.gguf (Q4_0 / F16) for the engine's llama.cpp runtime (prolong runtime install)
  --out DIR             converted model folder (default ${defaultModelsDir()}/ORG--NAME--DTYPE)
  --max-context N       longest sequence the converted model runs (default: its trained context)
  --memory-gib N        judge the fit against N GiB (default: GPU memory from nvidia-smi, else host memory)
  --json                print the result as JSON
`;

const pullCommand: Subcommand = {
  summary: 'download a model from the Hugging Face Hub and convert it',
  usage,
  async run(args: string[], signal: AbortSignal): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      revision: { type: 'string' }, dtype: { type: 'string', default: 'auto' }, gguf: { type: 'boolean' }, out: { type: 'string' }, 'max-context': { type: 'string' },
      'memory-gib': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(help); return 0; }
    if (positionals.length !== 1) { process.stderr.write(help); return 2; }
    const dtype = values.dtype;
    if (dtype !== 'auto' && dtype !== 'fp16' && dtype !== 'int4') throw new UserError(`--dtype ${dtype} is not auto, fp16 or int4.`, 'Pick one of those.');
    const memoryGib = values['memory-gib'] === undefined ? undefined : Number(values['memory-gib']);
    if (memoryGib !== undefined && !(memoryGib > 0)) throw new UserError(`--memory-gib ${values['memory-gib']} is not a positive number.`, 'Give a size in GiB, e.g. 24.');
    const tty = process.stderr.isTTY;
    let lastLine = '';
    let lastTenth = -1;
    const result = await pullModel({
      repo: positionals[0]!, revision: values.revision, dtype, gguf: values.gguf ?? false, outDir: values.out, modelsDir: defaultModelsDir(), settings: hubSettings(),
      available: machineMemory(memoryGib), signal,
      maxContext: values['max-context'] === undefined ? undefined : parseCount(values['max-context'], 'max-context'),
      onPlan: ({ fit, dtype: chosen }) => process.stderr.write(`${positionals[0]}: ${describeFit(fit)} (${fit.available.source}); converting to ${chosen}\n`),
      onDownload: (p) => {
        const line = `downloading ${formatBytes(p.doneBytes)} / ${formatBytes(p.totalBytes)} at ${formatBytes(p.rate)}/s` +
          (p.etaSeconds === undefined ? '' : `, ${Math.ceil(p.etaSeconds)} s left`) + ` (${p.file})`;
        const tenth = Math.floor((10 * p.doneBytes) / Math.max(1, p.totalBytes));
        if (tty && line !== lastLine) process.stderr.write(`\r${line.padEnd(lastLine.length)}`);
        else if (!tty && tenth !== lastTenth) process.stderr.write(line + '\n');
        lastLine = line; lastTenth = tenth;
      },
      onConvert: (p) => {
        const tenth = Math.floor((10 * p.doneParameters) / p.totalParameters);
        if (tenth !== lastTenth) process.stderr.write(`${tty && lastLine ? '\n' : ''}converting ${tenth * 10}%\n`);
        lastTenth = tenth; lastLine = '';
      },
    });
    if (values.json) {
      process.stdout.write(JSON.stringify({
        repo: result.repo, commit: result.commit, checkpointDir: result.checkpointDir, modelDir: result.modelDir, dtype: result.dtype,
        parameters: result.fit.parameters, trainedContext: result.fit.trainedContext, fittingContext: result.fit.fittingContext[result.dtype],
        downloadedBytes: result.downloadedBytes, reusedBytes: result.reusedBytes, convertSeconds: Number(result.convertSeconds.toFixed(1)),
      }) + '\n');
    } else {
      process.stdout.write(`${result.repo} (${result.commit.slice(0, 10)}) converted to ${result.modelDir} (${result.dtype}; ${formatBytes(result.downloadedBytes)} downloaded, ` +
        `${formatBytes(result.reusedBytes)} reused); fits ${formatContext(result.fit.fittingContext[result.dtype])} tokens here.\n` +
        `Use it: prolong ask --model ${result.modelDir} "..." (or set prolong.engine.modelPath)\n`);
    }
    return 0;
  },
};
export default pullCommand;
