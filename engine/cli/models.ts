// `prolong models`: converted models and HF-cache checkpoints not yet converted, with sizes and fitting context.
import { UserError } from '../errors';
import { hubSettings } from '../models/hub';
import { defaultModelsDir, listCacheModels, listConvertedModels } from '../models/library';
import { machineMemory } from '../models/machine';
import { describeFit, formatBytes, formatContext } from '../models/modelFit';
import { parseCommandArgs, type Subcommand } from './subcommand';

const usage = 'prolong models [--models-dir DIR] [--memory-gib N] [--json]';

const modelsCommand: Subcommand = {
  summary: 'list converted models and Hugging Face cache checkpoints',
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      'models-dir': { type: 'string' }, 'memory-gib': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help || positionals.length > 0) {
      process.stdout.write(`usage: ${usage}\n\nLists converted models (default folder ${defaultModelsDir()}) and the Hugging Face cache's checkpoints the converter can read.\n`);
      return values.help ? 0 : 2;
    }
    const memoryGib = values['memory-gib'] === undefined ? undefined : Number(values['memory-gib']);
    if (memoryGib !== undefined && !(memoryGib > 0)) throw new UserError(`--memory-gib ${values['memory-gib']} is not a positive number.`, 'Give a size in GiB, e.g. 24.');
    const available = machineMemory(memoryGib);
    const settings = hubSettings();
    const modelsDir = values['models-dir'] ?? defaultModelsDir();
    const converted = listConvertedModels(modelsDir).map((m) => ({
      kind: m.kind, name: m.name, dir: m.dir, dtype: m.sidecar.onnx.dtype, bytes: m.bytes, contextLength: m.sidecar.model.contextLength,
      trainedContext: m.sidecar.model.maxPositionEmbeddings,
    }));
    const cacheModels = listCacheModels(settings.cacheDir, available);
    const cached = cacheModels.map((c) => ({
      kind: c.kind, name: c.repo, dir: c.dir, commit: c.commit, refs: c.refs, bytes: c.bytes, parameters: c.fit.parameters,
      trainedContext: c.fit.trainedContext, ropeScaling: c.fit.ropeScaling, weightBytes: c.fit.weightBytes, fittingContext: c.fit.fittingContext, suggestedDtype: c.fit.suggestedDtype,
    }));
    if (values.json) {
      process.stdout.write(JSON.stringify({ modelsDir, hubCache: settings.cacheDir, memory: available, converted, checkpoints: cached }) + '\n');
      return 0;
    }
    const lines = [`converted (${modelsDir}):`];
    for (const m of converted) lines.push(`  ${m.name}  ${m.dtype}  ${formatBytes(m.bytes)}  context ${formatContext(m.contextLength)}  ${m.dir}`);
    if (converted.length === 0) lines.push('  none: `prolong pull ORG/NAME` downloads and converts one');
    lines.push(`not yet converted, in the Hugging Face cache (${settings.cacheDir}):`);
    for (const c of cacheModels) lines.push(`  ${c.repo}  ${formatBytes(c.bytes)} on disk  ${describeFit(c.fit)}`);
    if (cached.length === 0) lines.push('  none');
    lines.push(`fit judged against ${formatBytes(available.bytes)} (${available.source})`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
export default modelsCommand;
