import { basename, resolve } from 'node:path';
import { createBackend } from '../backends/factory';
import { demoModelNotice } from '../models/demoModel';
import { readSidecar } from '../../kernels/sidecar';
import { CLI_SETTINGS } from '../settingNames';
import { UserError } from '../errors';
import { pack, packedFileTexts } from '../packer';
import { formatLength, formatResults, resultsCsv } from '../probes/report';
import { promptCounterFor, type PromptCounter } from '../probes/promptCounter';
import { tokenizerBesideModel } from '../tokenizer';
import { buildInstances, runProbes, type ProbePlan } from '../probes/runner';
import type { RepositoryFile } from '../probes/tasks/common';
import { parseTaskList } from '../probes/tasks/index';
import type { ProbeEvent, ProbeTaskName } from '../probes/types';
import { checkOutputPath, refuseUnsafeRoot, writeOutputFile } from './outputFiles';
import { parseServerOptions } from './serverOptions';
import { COMMAND_SUMMARIES } from './summaries';
import { parseCommandArgs, parseCount, type Subcommand } from './subcommand';
import { runtimeFlags } from './runtimeFlags';

const usage = 'prolong probe [--tasks LIST|all|ruler] [--lengths 4k,8k,...] [--samples N] '
  + '[--server URL [--model NAME] [--timeout SECONDS] [--header "Name: value"]... [--api chat|completions] | --model MODEL_DIR|FILE.gguf [--ep auto|webgpu|cpu] [--runtime auto|onnx|llama.cpp] [--llama-cpp DIR] [--context N]] '
  + '[--backend local|remote] [--seed TEXT] [--repo DIR] [--tokenizer PATH] [--threshold 85.6] [--out results.json] [--csv results.csv] [--jsonl] [--dry-run]\n'
  + '  Without --server, --model is a converted model directory (`prolong convert`) run by the bundled local engine;\n'
  + '  with neither, the engine runs the bundled demo model (38M parameters, trained to 8K tokens).\n'
  + '  --lengths defaults to 4k-128k for a server, the lengths the local model runs, and 1k-16k for the demo model.\n'
  + '  The API key, if the server needs one, comes from the PROLONG_API_KEY environment variable.';

/** The shortest context length a probe is built for, in tokens. */
const MIN_LENGTH = 1024;

const REPOSITORY_TASKS: readonly ProbeTaskName[] = ['repo_qa_1', 'repo_qa_2', 'code_needle'];

/**
 * --lengths when not given: 4K to 128K for a server; for the local engine, those its model runs (read from the
 * converted model before it loads), and 1K to 16K for the bundled demo model.
 */
function defaultLengths(values: { server?: string; model?: string; backend?: string }): string {
  const all = '4k,8k,16k,32k,64k,128k';
  if (values.server || values.backend === 'remote') return all;
  if (!values.model) return '1k,2k,4k,8k,16k';
  try {
    const limit = readSidecar(values.model).model.contextLength;
    const fitting = all.split(',').filter((length) => parseCount(length, 'lengths') <= limit);
    return fitting.length > 0 ? fitting.join(',') : all;
  } catch {
    return all; // not a converted model: loading it says so
  }
}

function promptCounter(tokenizerPath: string | undefined): PromptCounter {
  return promptCounterFor(tokenizerPath, (message) => process.stderr.write(`note: ${message}\n`));
}

async function repositoryFiles(root: string, tokenizerPath: string | undefined, signal: AbortSignal): Promise<RepositoryFile[]> {
  const packed = await pack({ root, order: 'path', tokenizerPath }, undefined, signal);
  return packedFileTexts(packed);
}

function progressPrinter(): (event: ProbeEvent) => void {
  const tty = process.stderr.isTTY;
  return (event) => {
    if (event.type === 'instance-finished') {
      const line = `[${event.done}/${event.total}] ${event.result.id}: ${event.result.score.toFixed(0)}`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    } else if (event.type === 'task-length-scored') {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${event.score.task} at ${formatLength(event.score.length)}: ${event.score.score.toFixed(1)}\n`);
    } else if (event.type === 'skipped') {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}skipped ${event.skipped.task} at ${formatLength(event.skipped.length)}: ${event.skipped.reason}\n`);
    } else if (event.type === 'warning') {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}warning: ${event.message}\n`);
    }
  };
}

const command: Subcommand = {
  summary: COMMAND_SUMMARIES.probe,
  usage,
  async run(args, signal) {
    const { values } = parseCommandArgs(args, {
      tasks: { type: 'string' },
      lengths: { type: 'string' },
      samples: { type: 'string' },
      backend: { type: 'string' },
      server: { type: 'string' },
      model: { type: 'string' },
      ep: { type: 'string' },
      runtime: { type: 'string' },
      'llama-cpp': { type: 'string' },
      context: { type: 'string' },
      seed: { type: 'string' },
      repo: { type: 'string' },
      tokenizer: { type: 'string' },
      timeout: { type: 'string' },
      header: { type: 'string', multiple: true },
      api: { type: 'string' },
      threshold: { type: 'string' },
      out: { type: 'string', short: 'o' },
      csv: { type: 'string' },
      'dry-run': { type: 'boolean' },
      jsonl: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, usage);
    if (values.help) { process.stdout.write(`${usage}\n`); return 0; }
    const tasks = parseTaskList(values.tasks ?? 'all');
    const lengths = (values.lengths ?? defaultLengths(values)).split(',').map((part) => parseCount(part, 'lengths'));
    const tooShort = lengths.find((length) => length < MIN_LENGTH);
    if (tooShort !== undefined) throw new UserError(`--lengths: ${tooShort} tokens is too short for a probe (at least ${MIN_LENGTH}).`, 'Give context lengths such as 4k,8k,16k (k = 1024 tokens).');
    const samples = values.samples ? parseCount(values.samples, 'samples') : 5;
    if (samples < 1) throw new UserError('--samples must be at least 1.');
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    if (threshold !== undefined && (values.threshold!.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 100)) {
      throw new UserError(`--threshold is a score from 0 to 100, not '${values.threshold}'.`, 'The default is 85.6, ProLong\'s RULER reference.');
    }
    if (values.seed !== undefined && values.seed.trim() === '') throw new UserError('--seed needs some text (any text: the same seed builds the same prompts).');
    // Output files are checked now: a run takes hours, and its results must not be lost to a missing folder at the end.
    if (values.out !== undefined) checkOutputPath(values.out, '--out');
    if (values.csv !== undefined) checkOutputPath(values.csv, '--csv');
    const backendKind = values.backend ?? (values.server ? 'remote' : 'local');
    if (backendKind !== 'local' && backendKind !== 'remote') throw new UserError(`--backend must be local or remote, not '${values.backend}'.`);

    const ep = values.ep ?? 'auto';
    if (ep !== 'auto' && ep !== 'webgpu' && ep !== 'cpu') throw new UserError(`--ep must be auto, webgpu or cpu, not '${ep}'.`);
    // Server options, checked before a long run starts (a 512K prefill may need more than the default 600 s timeout).
    const server = parseServerOptions(values);
    if (backendKind === 'local' && (values.timeout !== undefined || values.header !== undefined || values.api !== undefined)) {
      throw new UserError('--timeout, --header and --api are for a server; the local engine (--model MODEL_DIR without --server) takes none of them.',
        'Give --server URL, or leave those options out.');
    }
    // The local engine counts with the model directory's tokenizer when it has one: count prompts with the same.
    const tokenizerPath = values.tokenizer ?? (backendKind === 'local' ? tokenizerBesideModel(values.model) : undefined);
    const counter = promptCounter(tokenizerPath);
    const plan: ProbePlan = { tasks, lengths, samples, seed: values.seed ?? '42' };
    if (tasks.some((task) => REPOSITORY_TASKS.includes(task))) {
      const root = resolve(values.repo ?? '.');
      refuseUnsafeRoot(root, '--repo');
      if (values.repo === undefined) process.stderr.write(`note: the repository tasks use ${root} as their haystack (--repo DIR to choose another)\n`);
      plan.repository = await repositoryFiles(root, tokenizerPath, signal);
      plan.repositoryName = basename(root);
    }

    if (values['dry-run']) {
      const started = performance.now();
      const { instances, skipped } = buildInstances(plan, counter);
      const ms = performance.now() - started;
      for (const instance of instances) {
        process.stdout.write(`${instance.id}\tprompt ${instance.promptTokens}\t+ output ${instance.maxTokens}\t= ${instance.promptTokens + instance.maxTokens} of ${instance.length}\n`);
      }
      for (const entry of skipped) process.stdout.write(`skipped ${entry.task} at ${formatLength(entry.length)}: ${entry.reason}\n`);
      process.stderr.write(`built ${instances.length} instances in ${Math.round(ms)} ms\n`);
      if (values.out) writeOutputFile(values.out, JSON.stringify({ plan: { ...plan, repository: undefined }, instances, skipped }, null, 1), '--out');
      return 0;
    }

    if (backendKind === 'remote' && !values.server) throw new UserError('--backend remote needs --server URL (a ProLong server, e.g. http://gpu-box:8000).', `Usage: ${usage}`);
    if (backendKind === 'local' && !values.model) process.stderr.write(`note: ${demoModelNotice(CLI_SETTINGS)}\n`);
    const backend = backendKind === 'remote'
      ? createBackend({
        server: values.server, model: values.model, apiKey: process.env.PROLONG_API_KEY || undefined, tokenizerPath, ...server,
      })
      : createBackend({
        modelDir: values.model, tokenizerPath, executionProvider: ep, ...runtimeFlags(values),
        // Budget the engine's memory for the longest probe length unless told otherwise.
        contextTokens: values.context ? parseCount(values.context, 'context') : Math.max(...lengths),
        contextTokensSource: values.context ? { what: '--context', fix: 'Give --context {limit} or less' }
          : { what: `the longest of --lengths, ${formatLength(Math.max(...lengths))}`, fix: 'Give --lengths up to {limit} tokens' },
      });
    try {
      // --jsonl: one ProbeEvent per line, then { type: 'result', result }, for a panel running this as a child process.
      const onEvent = values.jsonl ? (event: ProbeEvent) => process.stdout.write(`${JSON.stringify(event)}\n`) : progressPrinter();
      const result = await runProbes({ ...plan, backend, counter, threshold, onEvent, signal });
      if (values.jsonl) process.stdout.write(`${JSON.stringify({ type: 'result', result })}\n`);
      else {
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        process.stdout.write(formatResults(result));
      }
      const written = [
        values.out === undefined || writeOutputFile(values.out, JSON.stringify(result, null, 1), '--out') !== undefined,
        values.csv === undefined || writeOutputFile(values.csv, resultsCsv(result), '--csv') !== undefined,
      ];
      if (written.includes(false)) return 1;
      if (result.metadata.error !== undefined) {
        // The finished instances are written above; the run itself failed.
        process.stderr.write(`prolong: the probe run stopped after ${result.instances.length} instance(s): ${result.metadata.error}\n`);
        return 1;
      }
      if (result.metadata.cancelled) return 130;
      if (result.instances.length === 0) {
        // every task and length was skipped (all longer than the backend's context, say): nothing was measured
        process.stderr.write(`prolong: no probe ran: ${result.skipped.length} task/length pair(s) skipped (the results say why); give shorter --lengths.\n`);
        return 1;
      }
      return 0;
    } finally {
      await backend.dispose();
    }
  },
};

export default command;
