/**
 * The MCP server behind `prolong mcp`: the packer, Q&A over the whole repository and the saved probe results as
 * Model Context Protocol tools, for any MCP client (VS Code's agent mode, terminal agents). Failures come back as
 * MCP error results (isError) naming what to fix, never as a crash of the server; every tool honours the request's
 * cancellation.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { CancelledError, UserError, errorMessage } from '../errors';
import { PACK_ORDERS, pack, type PackOrder, type PackResult } from '../packer';
import { buildRepositoryPrompt } from '../backends/prompt';
import { createBackend, localBackendOptions, type BackendChoice } from '../backends/factory';
import { resolveDefinitionsIndex } from '../models/packPreferences';
import type { Backend, BackendInfo } from '../backends/types';
import { repositoryBudget } from '../backends/repositoryBudget';
import { packStats } from '../packer/stats';
import { summarizeProbeResults, formatProbeSummary } from '../probes/summary';
import { runProbes } from '../probes/runner';
import { parseTaskList } from '../probes/tasks/index';
import { promptCounterFor } from '../probes/promptCounter';
import { formatResults } from '../probes/report';
import type { ProbeEvent } from '../probes/types';

export interface McpServerOptions {
  /** The repository the tools work on when a call names none. */
  root: string;
  /** The backend `ask` uses; absent: `ask` answers with an error result saying how to configure one. */
  backend?: BackendChoice;
  /** Files or directories of saved probe results (`prolong probe --out`) for probe_summary. */
  probeResults: string[];
  version: string;
  /** ask's definitions index when a call does not say: undefined lets a local model trained with it have it. */
  definitionsIndex?: boolean;
}

/** Creates the server with its tools (not yet connected to a transport); `close()` disposes the backend. */
export function createProlongMcpServer(options: McpServerOptions): { server: McpServer; close(): Promise<void> } {
  const server = new McpServer({ name: 'prolong', version: options.version });
  let backend: Backend | undefined;
  let info: BackendInfo | undefined;

  const dirOf = (dir: string | undefined): string => {
    const root = dir === undefined ? options.root : isAbsolute(dir) ? dir : resolve(options.root, dir);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new UserError(`${root} is not a directory.`, 'Give the repository\'s directory as "dir" (absolute, or relative to the one `prolong mcp --dir` was started with).');
    }
    return root;
  };

  server.registerTool('pack', {
    title: 'Pack repository',
    description: 'Pack a repository into one long document (every file, introduced by its path) with exact token counts. '
      + 'With a budget, whole files are dropped (the largest first) until it fits; the report lists them.',
    inputSchema: {
      dir: z.string().optional().describe('Repository directory (default: the server\'s --dir).'),
      budget: z.number().int().positive().optional().describe('Most tokens the document may use.'),
      order: z.enum(PACK_ORDERS as unknown as [PackOrder, ...PackOrder[]]).optional().describe('File order (default: path).'),
      tokenizer: z.string().optional().describe('Path to a tokenizer.json to count with (default: the bundled Llama 3 tokenizer).'),
      reportOnly: z.boolean().optional().describe('Return only the pack report, not the document.'),
      definitionsIndex: z.boolean().optional().describe('Put a definitions index after the last file: a line per name a file defines, with its path.'),
    },
  }, (args, extra) => guarded(async () => {
    const result = await pack({
      root: dirOf(args.dir), budget: args.budget, order: args.order ?? 'path', tokenizerPath: args.tokenizer, definitionsIndex: args.definitionsIndex,
    }, undefined, extra.signal);
    const report = packStats(result);
    const content: CallToolResult['content'] = [];
    if (!args.reportOnly) content.push({ type: 'text', text: result.document });
    content.push({ type: 'text', text: JSON.stringify(report, null, 2) });
    return { content, structuredContent: report as unknown as Record<string, unknown> };
  }));

  server.registerTool('ask', {
    title: 'Ask about the repository',
    description: 'Answer a question about the whole repository with the configured long-context model (the packed repository is the context; '
      + 'the same pack keeps the server\'s prefix cache warm across questions).',
    inputSchema: {
      question: z.string().min(1).describe('The question.'),
      dir: z.string().optional().describe('Repository directory (default: the server\'s --dir).'),
      maxTokens: z.number().int().positive().optional().describe('Most answer tokens (default 1024).'),
      definitionsIndex: z.boolean().optional().describe('Pack with a definitions index after the last file (a line per name a file defines, with its path); '
        + 'default: a local model trained with it gets it.'),
    },
  }, (args, extra) => guarded(async () => {
    if (!options.backend) {
      throw new UserError('prolong mcp has no model backend for ask.', 'Start it with --server URL (a ProLong server) or --model MODEL_DIR (a converted model).');
    }
    const root = dirOf(args.dir);
    backend ??= createBackend(options.backend);
    info ??= await backend.info(extra.signal);
    const maxTokens = args.maxTokens ?? 1024;
    const model = backend;
    const budget = await repositoryBudget(info, maxTokens, async (repository) => model.countPromptTokens({ messages: buildRepositoryPrompt({ repository, question: args.question }) }, extra.signal),
      undefined, 'Ask for fewer answer tokens (maxTokens), or serve the model with a longer context (prolong mcp --server / --context).');
    // edit-aware: unchanged files first, so the repository prefix stays byte-identical between questions
    const local = !options.backend.server?.trim();
    const packed: PackResult = await pack({
      root, budget, order: 'edit-aware', tokenizerPath: options.backend.tokenizerPath,
      definitionsIndex: resolveDefinitionsIndex(args.definitionsIndex ?? options.definitionsIndex, local ? localBackendOptions(options.backend).modelDir : undefined, local),
    }, undefined, extra.signal);
    const result = await backend.generate({ messages: buildRepositoryPrompt({ repository: packed.document, question: args.question }), sampling: { maxTokens, temperature: 0 } }, () => {}, extra.signal);
    if (result.finishReason === 'cancelled') throw new CancelledError('ask');
    const meta = {
      model: info.model, backend: info.detail, finishReason: result.finishReason, promptTokens: result.promptTokens,
      cachedPromptTokens: result.cachedPromptTokens, completionTokens: result.completionTokens,
      packedFiles: packed.files.length, packedTokens: packed.totalTokens, definitionsIndex: packed.definitionsIndex, droppedFiles: packed.dropped.map((f) => f.path), warnings: result.warnings,
    };
    return { content: [{ type: 'text', text: result.text }, { type: 'text', text: JSON.stringify(meta, null, 2) }], isError: result.finishReason === 'cut' };
  }));

  server.registerTool('probe', {
    title: 'Run context probes',
    description: 'Measure how much of its context the configured model really uses: RULER-style tasks at the given lengths, '
      + 'scored, with the effective context length. Long: sends progress notifications when the client asks for them. '
      + 'The results are saved to the first --probe-results directory, where probe_summary finds them.',
    inputSchema: {
      tasks: z.string().optional().describe('Task names or groups, comma-separated (ruler, niah, recall, all); default niah.'),
      lengths: z.array(z.number().int().min(1024)).min(1).optional().describe('Context lengths in tokens (default [4096, 8192]).'),
      samples: z.number().int().min(1).optional().describe('Samples per task and length (default 1).'),
      seed: z.string().optional(),
    },
  }, (args, extra) => guarded(async () => {
    if (!options.backend) {
      throw new UserError('prolong mcp has no model backend to probe.', 'Start it with --server URL (a ProLong server) or --model MODEL_DIR (a converted model).');
    }
    backend ??= createBackend(options.backend);
    const progressToken = extra._meta?.progressToken;
    // sent notifications are awaited before the result: the client drops progress that arrives after it
    const sent: Promise<void>[] = [];
    const onEvent = (event: ProbeEvent): void => {
      if (progressToken === undefined || event.type !== 'instance-finished') return;
      sent.push(extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: event.done, total: event.total, message: event.result.id } }));
    };
    const result = await runProbes({
      tasks: parseTaskList(args.tasks ?? 'niah'), lengths: args.lengths ?? [4096, 8192], samples: args.samples ?? 1, seed: args.seed ?? '42',
      backend, counter: promptCounterFor(options.backend.tokenizerPath, () => {}), onEvent, signal: extra.signal,
    });
    await Promise.allSettled(sent);
    if (result.metadata.cancelled) throw new CancelledError('probe');
    let saved = '';
    const dir = options.probeResults.map((p) => (isAbsolute(p) ? p : resolve(options.root, p))).find((p) => !p.endsWith('.json'));
    if (dir) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${result.metadata.startedAt.replace(/[:.]/g, '-')}-${result.metadata.backend.model.replace(/[^\w.-]+/g, '_')}.json`);
      writeFileSync(path, JSON.stringify(result));
      saved = `\nSaved to ${path}.`;
    }
    const error = result.metadata.error === undefined ? '' : `\nThe run stopped early: ${result.metadata.error}`;
    return {
      content: [{ type: 'text', text: formatResults(result) + saved + error }],
      structuredContent: { effectiveLength: result.ruler.effectiveLength, threshold: result.ruler.threshold, averages: result.ruler.averages, scores: result.scores, skipped: result.skipped.length },
      isError: result.metadata.error !== undefined || result.instances.length === 0,
    };
  }));

  server.registerTool('probe_summary', {
    title: 'Probe results summary',
    description: 'The effective context length per model from saved probe results (RULER-style: the longest length whose average score stays above the threshold).',
    inputSchema: {
      paths: z.array(z.string()).optional().describe('Probe results files or directories of them (default: the server\'s --probe-results).'),
    },
  }, (args) => guarded(async () => {
    const paths = args.paths ?? options.probeResults;
    if (paths.length === 0) throw new UserError('No probe results to summarize.', 'Give "paths" (files written by `prolong probe --out FILE`), or start prolong mcp with --probe-results DIR.');
    const files = paths.flatMap((p) => {
      const path = isAbsolute(p) ? p : resolve(options.root, p);
      if (existsSync(path) && statSync(path).isDirectory()) return readdirSync(path).filter((n) => n.endsWith('.json')).sort().map((n) => join(path, n));
      return [path];
    });
    const summary = summarizeProbeResults(files);
    return { content: [{ type: 'text', text: formatProbeSummary(summary) }], structuredContent: { models: summary } as unknown as Record<string, unknown> };
  }));

  return {
    server,
    async close() {
      await backend?.dispose();
      await server.close();
    },
  };
}

/** Runs a tool body; a failure or a cancellation becomes an MCP error result with the reason and what to do. */
async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    const text = error instanceof CancelledError ? 'Cancelled.' : errorMessage(error);
    return { content: [{ type: 'text', text }], isError: true };
  }
}
