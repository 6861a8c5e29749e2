import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';
import { createBackend, remoteBackendOptions } from '../backends/factory';
import { checkServer, formatHealthReport } from '../backends/remote/health';
import { buildRepositoryPrompt } from '../backends/prompt';
import { repositoryBudget } from '../backends/repositoryBudget';
import { tokenizerBesideModel } from '../tokenizer';
import { resolveDefinitionsIndex } from '../models/packPreferences';
import type { BackendInfo, GenerateResult, PromptTokenCount } from '../backends/types';
import { refuseUnsafeRoot } from './outputFiles';
import { parseHeaders, parseServerOptions } from './serverOptions';
import { userCacheDir } from '../util/userCache';
import { COMMAND_SUMMARIES } from './summaries';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';
import { runtimeFlags } from './runtimeFlags';
import { explicitDefinitionsIndex } from './definitionsIndexFlags';

const usage = 'prolong ask "QUESTION" [--server URL [--model NAME] | --model MODEL_DIR|FILE.gguf [--ep auto|webgpu|cpu] [--runtime auto|onnx|llama.cpp] [--llama-cpp DIR] [--context N]] '
  + '[--dir DIR | --context-file FILE | --no-repository] [--budget N] [--definitions-index | --no-definitions-index] '
  + '[--max-tokens N] [--temperature T] [--timeout SECONDS] [--header "Name: value"]... [--api chat|completions] [--tokenizer PATH] [--no-cache] [--json]\n'
  + '  Without --server, --model is a converted model directory (`prolong convert`) run by the bundled local engine;\n'
  + '  with neither, the engine runs the bundled demo model (38M parameters: it finds needles, it does not reason about code).\n'
  + '  --definitions-index packs the repository with a line per defined name and its file after the last file; a local model\n'
  + '  trained with that index (its prolong_model.json says so) gets it unless --no-definitions-index is given.\n'
  + '  The API key, if the server needs one, comes from the PROLONG_API_KEY environment variable.\n'
  + '  The local engine on the CPU keeps the last prompt\'s KV cache in $XDG_CACHE_HOME/prolong/prefix-cache (the next\n'
  + '  question about the same repository starts from it); --no-cache neither reads nor writes it.\n'
  + '  prolong ask --check --server URL [--model NAME] [--dir DIR | --no-repository]: check the server step by step (reachable, key, model,\n'
  + '  context length against the packed DIR (default: the current folder), exact counts, a one-token answer) and say what is wrong.';

const command: Subcommand = {
  summary: COMMAND_SUMMARIES.ask,
  usage,
  async run(args, signal) {
    const { values, positionals } = parseCommandArgs(args, {
      server: { type: 'string' },
      model: { type: 'string' },
      dir: { type: 'string' },
      'context-file': { type: 'string' },
      'no-repository': { type: 'boolean' },
      budget: { type: 'string' },
      'definitions-index': { type: 'boolean' },
      'no-definitions-index': { type: 'boolean' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      timeout: { type: 'string' },
      header: { type: 'string', multiple: true },
      api: { type: 'string' },
      tokenizer: { type: 'string' },
      ep: { type: 'string' },
      runtime: { type: 'string' },
      'llama-cpp': { type: 'string' },
      context: { type: 'string' },
      json: { type: 'boolean' },
      check: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(`${usage}\n`); return 0; }
    if (values['definitions-index'] && (values['context-file'] !== undefined || values['no-repository'])) {
      throw new UserError('--definitions-index is for a repository prolong ask packs itself (--dir or the current folder).',
        values['context-file'] !== undefined ? 'Write the file with `prolong pack --definitions-index --out FILE`, or drop --definitions-index.' : 'Drop --definitions-index.');
    }
    explicitDefinitionsIndex(values); // refuses both flags at once before anything runs
    if (values.check) return checkCommand(values, signal);
    const question = positionals.join(' ').trim();
    if (!question) throw new UserError('prolong ask needs a question.', `Usage: ${usage}`);
    const ep = values.ep ?? 'auto';
    if (ep !== 'auto' && ep !== 'webgpu' && ep !== 'cpu') throw new UserError(`--ep must be auto, webgpu or cpu, not '${ep}'.`);
    const sources = [values.dir !== undefined, values['context-file'] !== undefined, values['no-repository'] === true].filter(Boolean).length;
    if (sources > 1) throw new UserError('Give only one of --dir, --context-file and --no-repository.');
    const server = parseServerOptions(values);
    const maxTokens = values['max-tokens'] ? parseCount(values['max-tokens'], 'max-tokens') : 1024;
    if (maxTokens < 1) throw new UserError('--max-tokens must be at least 1.', 'Give the most answer tokens to generate, e.g. --max-tokens 1024.');
    const temperature = values.temperature === undefined ? 0 : Number(values.temperature);
    if (!Number.isFinite(temperature) || temperature < 0) throw new UserError(`--temperature expects a number of 0 or more, not '${values.temperature}'.`);

    const backend = createBackend({
      server: values.server,
      model: values.model,
      apiKey: process.env.PROLONG_API_KEY || undefined,
      headers: server.headers,
      requestTimeoutMs: server.requestTimeoutMs,
      tokenizerPath: values.tokenizer,
      api: server.api,
      executionProvider: ep,
      ...runtimeFlags(values),
      contextTokens: values.context ? parseCount(values.context, 'context') : undefined,
      contextTokensSource: values.context ? { what: '--context', fix: 'Give --context {limit} or less' } : undefined,
      // The same prefix store as the extension's engine (a file per model): a second question about the same
      // repository, in a new process, starts from the saved KV of the document.
      prefixCacheDir: values['no-cache'] || values.server ? undefined : join(userCacheDir(), 'prefix-cache'),
    });
    try {
      // Ask the server first: a wrong URL or key should fail before a long pack.
      const info = await backend.info(signal);
      if (info.notice && !values.json) process.stderr.write(`note: ${info.notice}\n`);
      const repository = await readRepository(values, info, maxTokens, (repository) => backend.countPromptTokens({ messages: buildRepositoryPrompt({ repository, question }) }, signal), signal);
      const messages = buildRepositoryPrompt({ repository, question });
      let streamed = false;
      const result = await backend.generate({ messages, sampling: { maxTokens, temperature } }, (event) => {
        if (values.json) return;
        if (event.type === 'text') { process.stdout.write(event.text); streamed = true; }
        if (event.type === 'warning') process.stderr.write(`warning: ${event.message}\n`);
      }, signal);
      if (values.json) {
        const backendName = info.kind === 'local' ? { device: info.detail } : { server: info.detail };
        process.stdout.write(JSON.stringify({ backend: info.kind, ...backendName, model: info.model, ...(info.notice ? { notice: info.notice } : {}), ...result }, null, 2) + '\n');
      } else {
        if (streamed && !result.text.endsWith('\n')) process.stdout.write('\n');
        process.stderr.write(summary(info, result) + '\n');
      }
      if (result.finishReason === 'cancelled') return 130;
      return result.finishReason === 'cut' ? 1 : 0;
    } finally {
      await backend.dispose();
    }
  },
};

/** `--check`: the same step-by-step server check as "ProLong: Check Server"; exit 0 when the server is ready. */
async function checkCommand(
  values: {
    server?: string; model?: string; dir?: string; 'no-repository'?: boolean; header?: string[]; timeout?: string; tokenizer?: string; 'max-tokens'?: string;
    'definitions-index'?: boolean;
  },
  signal: AbortSignal,
): Promise<number> {
  if (!values.server) throw new UserError('prolong ask --check needs --server URL.', `Usage: ${usage}`);
  let packedTokens: number | undefined;
  if (!values['no-repository']) {
    // the folder `prolong ask` would pack: --dir, else the current folder
    const root = resolve(values.dir ?? '.');
    if (values.dir === undefined) refuseUnsafeRoot(root, '--dir');
    const { pack } = await import('../packer');
    packedTokens = (await pack({ root, tokenizerPath: values.tokenizer, order: 'edit-aware', definitionsIndex: values['definitions-index'] }, undefined, signal)).totalTokens;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  const report = await checkServer(remoteBackendOptions({
    server: values.server,
    model: values.model,
    apiKey: process.env.PROLONG_API_KEY || undefined,
    headers: parseHeaders(values.header ?? []),
    requestTimeoutMs: timeout && timeout > 0 ? timeout * 1000 : undefined,
    tokenizerPath: values.tokenizer,
  }), { packedTokens, answerTokens: values['max-tokens'] ? parseCount(values['max-tokens'], 'max-tokens') : undefined }, signal);
  process.stdout.write(formatHealthReport(report).join('\n') + '\n');
  return report.ok ? 0 : 1;
}

async function readRepository(
  values: {
    dir?: string; 'context-file'?: string; 'no-repository'?: boolean; budget?: string; tokenizer?: string; json?: boolean; server?: string; model?: string;
    'definitions-index'?: boolean; 'no-definitions-index'?: boolean;
  },
  info: BackendInfo, maxTokens: number, countPrompt: (repository: string) => Promise<PromptTokenCount>, signal: AbortSignal,
): Promise<string> {
  if (values['no-repository']) return '';
  if (values['context-file'] !== undefined) {
    try {
      return readFileSync(values['context-file'], 'utf8');
    } catch (error) {
      throw new UserError(`Cannot read --context-file ${values['context-file']}: ${(error as Error).message}.`, 'Give a file written by `prolong pack --out FILE`.');
    }
  }
  // Fit the pack to the backend unless a budget was given: whole files are dropped (the largest first).
  const budget = values.budget ? parseCount(values.budget, 'budget')
    : await repositoryBudget(info, maxTokens, countPrompt, undefined,
      `Ask for fewer answer tokens (--max-tokens), ${info.kind === 'local' ? 'give a larger --context' : 'serve the model with a longer context'}, or ask without the repository (--no-repository).`);
  const { pack } = await import('../packer');
  // counted with the tokenizer the backend will use: a local model's own tokenizer.json wins, as in the engine
  const tokenizerPath = tokenizerBesideModel(values.model && !values.server ? values.model : undefined) ?? values.tokenizer;
  const root = resolve(values.dir ?? '.');
  if (values.dir === undefined) refuseUnsafeRoot(root, '--dir');
  // the flags when given, else what a local model was trained with (its sidecar)
  const explicitIndex = explicitDefinitionsIndex(values);
  const definitionsIndex = resolveDefinitionsIndex(explicitIndex, values.model, !values.server?.trim());
  const packed = await pack({ root, budget, tokenizerPath, order: 'edit-aware', definitionsIndex }, undefined, signal);
  if (!values.json) {
    const index = packed.definitionsIndex;
    process.stderr.write(`packed ${packed.files.length} files, ${packed.totalTokens.toLocaleString('en-US')} tokens`
      + (index ? ` with a definitions index of ${index.names.toLocaleString('en-US')} name${index.names === 1 ? '' : 's'} (${index.tokens.toLocaleString('en-US')} tokens${explicitIndex === undefined ? '; the model was trained with it, --no-definitions-index leaves it out' : ''})` : '')
      + (packed.dropped.length ? ` (${packed.dropped.length} files over the budget of ${budget?.toLocaleString('en-US')} tokens left out)` : '') + '\n');
  }
  return packed.document;
}

/** The line after an answer: model, prompt size, time to first token (only when a token came), tokens and time, how it ended. */
export function summary(info: BackendInfo, result: GenerateResult): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const parts = [`${info.model} (${info.detail})`];
  // 0: the server reported no usage (a stream cut short or cancelled before its last event)
  let prompt = result.promptTokens > 0 ? `prompt ${result.promptTokens.toLocaleString('en-US')} tokens` : 'prompt size not reported';
  if (result.cachedPromptTokens !== undefined) prompt += ` (${result.cachedPromptTokens.toLocaleString('en-US')} from the prefix cache)`;
  parts.push(prompt);
  if (result.timeToFirstTokenMs !== undefined && result.completionTokens > 0) parts.push(`first token after ${seconds(result.timeToFirstTokenMs)}`);
  parts.push(`${result.completionTokens.toLocaleString('en-US')} tokens in ${seconds(result.totalMs)}`);
  const ending: Record<GenerateResult['finishReason'], string> = {
    stop: '', length: ' — stopped at --max-tokens', cancelled: ' — cancelled', cut: ' — the answer is cut (see the warning above)',
  };
  return parts.join(' · ') + ending[result.finishReason];
}

export default command;
