/**
 * Language-model tools other agents in VS Code can call: `prolong_pack` (the packed workspace, fitted to the
 * caller's token budget in the caller's model's tokens when VS Code says which, else ours, with the pack report)
 * and `prolong_probe_summary` (the effective context length per model from the last probe runs).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CancelledError, errorMessage } from '../../engine/errors';
import { PACK_ORDERS, pack, type PackOrder, type PackResult } from '../../engine/packer';
import { packForCallerBudget } from '../../engine/backends/repositoryBudget';
import { formatProbeSummary, summarizeProbeResults } from '../../engine/probes/summary';
import { readPackSettings } from '../pack/packSettings';
import { packReportMarkdown } from '../pack/packReport';
import { countingTokenizerPath } from '../settings';

export interface PackToolInput {
  /** Most tokens the packed document may take. */
  budget?: number;
  order?: PackOrder;
  /** Only the pack report, not the document. */
  reportOnly?: boolean;
}

/** Tokens kept free for the pack report next to the document when the caller gives a budget. */
const REPORT_ROOM_TOKENS = 2048;

/** `folder()`: the folder the Ask panel packed, else the first one (the tools pack what the panel and @prolong use). */
export function registerLanguageModelTools(context: vscode.ExtensionContext, probeResultsDir: string, folder: () => vscode.WorkspaceFolder | undefined): void {
  const packTool: vscode.LanguageModelTool<PackToolInput> = {
    prepareInvocation(options) {
      const name = folder()?.name;
      return {
        invocationMessage: `Packing ${name ?? 'the workspace'} with ProLong`,
        confirmationMessages: {
          title: 'Pack the workspace?',
          message: new vscode.MarkdownString(`ProLong reads every file of **${name ?? 'the workspace'}** that \`.gitignore\` and the \`prolong.pack\` settings allow`
            + `${options.input.budget ? `, up to ${options.input.budget.toLocaleString('en-US')} tokens,` : ''} and gives the packed text to the model.`),
        },
      };
    },
    async invoke(options, token) {
      const target = folder();
      if (!target) throw new Error('There is no workspace folder to pack. Open a folder (File > Open Folder).');
      const input = options.input ?? {};
      if (input.order !== undefined && !PACK_ORDERS.includes(input.order)) throw new Error(`order must be one of ${PACK_ORDERS.join(', ')}, not '${input.order}'.`);
      const { settings } = readPackSettings((name) => vscode.workspace.getConfiguration('prolong', target).get(name));
      const controller = new AbortController();
      const listener = token.onCancellationRequested(() => controller.abort());
      try {
        const packWith = (budget: number | undefined): Promise<PackResult> => pack({
          root: target.uri.fsPath, order: input.order ?? settings.order, budget, maxFileBytes: settings.maxFileBytes,
          exclude: settings.exclude, include: settings.include, repositoryName: target.name, tokenizerPath: countingTokenizerPath(),
          definitionsIndex: settings.definitionsIndex,
        }, undefined, controller.signal);
        const callerBudget = options.tokenizationOptions ? Math.max(1, options.tokenizationOptions.tokenBudget - REPORT_ROOM_TOKENS) : undefined;
        const budget = [input.budget, settings.tokenBudget || undefined].filter((b): b is number => typeof b === 'number' && b > 0);
        const ours = budget.length > 0 ? Math.min(...budget) : undefined;
        let result: PackResult;
        let note = '';
        if (callerBudget !== undefined && !input.reportOnly) {
          const tokenization = options.tokenizationOptions!;
          const limit = Math.min(callerBudget, ours ?? callerBudget);
          const fitted = await packForCallerBudget((b) => packWith(b === undefined ? ours : Math.min(b, ours ?? b)), (text) => Promise.resolve(tokenization.countTokens(text, token)), limit);
          result = fitted.pack;
          note = `\n\nThe document takes ${fitted.callerTokens.toLocaleString('en-US')} tokens in the calling model's tokenizer (budget ${limit.toLocaleString('en-US')}).`;
        } else {
          result = await packWith(ours);
        }
        const report = packReportMarkdown(target.name, result, ours ?? 0) + note;
        const parts = input.reportOnly ? [report] : [result.document, report];
        return new vscode.LanguageModelToolResult(parts.map((text) => new vscode.LanguageModelTextPart(text)));
      } catch (error) {
        if (error instanceof CancelledError || token.isCancellationRequested) throw new vscode.CancellationError();
        throw new Error(errorMessage(error));
      } finally {
        listener.dispose();
      }
    },
  };

  const summaryTool: vscode.LanguageModelTool<Record<string, never>> = {
    invoke() {
      const files = existsSync(probeResultsDir) ? readdirSync(probeResultsDir).filter((n) => n.endsWith('.json')).sort().map((n) => join(probeResultsDir, n)) : [];
      const text = files.length === 0
        ? 'No probe results yet: run "ProLong: Run Context Probes" (or @prolong /probe) to measure how much context the model really uses.'
        : formatProbeSummary(summarizeProbeResults(files));
      return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
    },
  };

  context.subscriptions.push(
    vscode.lm.registerTool('prolong_pack', packTool),
    vscode.lm.registerTool('prolong_probe_summary', summaryTool),
  );
}
