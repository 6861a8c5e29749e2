/**
 * The @prolong chat participant's logic, without `vscode` (index.ts adapts VS Code's chat stream to ChatOut):
 * a question is asked through the Ask core (the panel's backend, pack and prefix), the answer streams as
 * Markdown, then the packed files it cites come as references and `file:line` anchors; `/pack` shows the pack
 * report and `/probe` starts the probes panel. Errors say what to configure, with a button that does it.
 */
import { CancelledError, UserError, errorMessage } from '../../engine/errors';
import type { Backend, BackendInfo, GenerateResult } from '../../engine/backends/types';
import { ContextTooLongError } from '../../engine/backends/remote/problems';
import { runAsk } from '../ask/askCore';
import type { Exchange } from '../ask/conversation';
import { PathIndex, linkCitations, type CitationTarget } from '../../webview/ask/citations';

/** What the handler writes, in order; index.ts maps it onto vscode.ChatResponseStream. */
export interface ChatOut {
  progress(message: string): void;
  markdown(text: string): void;
  /** A packed file (relative path), at a line when the answer names one. */
  reference(path: string, line?: number): void;
  anchor(path: string, line: number | undefined, title: string): void;
  button(command: string, title: string, args?: unknown[]): void;
}

export interface ChatPack {
  document: string;
  paths: string[];
  /** The pack report (Markdown), for /pack. */
  reportMarkdown: string;
}

export interface ChatDeps {
  pack(signal: AbortSignal, onProgress: (message: string) => void): Promise<ChatPack>;
  backend(): Promise<Backend>;
  sampling(): { maxTokens: number; temperature: number };
  answerRoom(info: BackendInfo, maxTokens: number): number;
  /** Starts the probes panel's run (the `prolong.runProbes` command). */
  startProbes(): Promise<void>;
}

export interface ChatRequestInput {
  prompt: string;
  command?: string;
}

export type ChatOutcome =
  | { kind: 'answer'; finishReason: GenerateResult['finishReason']; cited: CitationTarget[] }
  | { kind: 'pack'; files: number }
  | { kind: 'probe' }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string };

export const CHAT_COMMANDS = { pack: 'pack', probe: 'probe' } as const;

export async function handleChatRequest(request: ChatRequestInput, history: readonly Exchange[], deps: ChatDeps, out: ChatOut, signal: AbortSignal): Promise<ChatOutcome> {
  try {
    if (request.command === CHAT_COMMANDS.pack) {
      out.progress('Packing the workspace…');
      const pack = await deps.pack(signal, (message) => out.progress(message));
      out.markdown(pack.reportMarkdown);
      out.button('prolong.openPackedDocument', 'Open Packed Document');
      return { kind: 'pack', files: pack.paths.length };
    }
    if (request.command === CHAT_COMMANDS.probe) {
      await deps.startProbes();
      out.markdown('Started the context probes in the **ProLong Probes** panel: it shows each task\'s score by length and the effective context length as results arrive.');
      out.button('prolong.showProbes', 'Show Probes Panel');
      return { kind: 'probe' };
    }
    const question = request.prompt.trim();
    if (!question) {
      out.markdown('Ask a question about the workspace, e.g. `@prolong where is the configuration read?` — or use `/pack` or `/probe`.');
      return { kind: 'error', message: 'empty question' };
    }
    let paths: string[] = [];
    const warnings: string[] = [];
    out.progress('Packing the workspace…');
    const result = await runAsk({
      question, history, sampling: deps.sampling(),
      pack: async (packSignal) => {
        const pack = await deps.pack(packSignal, (message) => out.progress(message));
        paths = pack.paths;
        return pack.document;
      },
      backend: () => deps.backend(),
      onStage: (stage) => out.progress(stage === 'connecting' ? 'Connecting to the model…' : 'Reading the repository…'),
      answerRoom: (info, maxTokens) => deps.answerRoom(info, maxTokens),
      onWarning: (message) => warnings.push(message),
      // the bundled demo model's notice ends the reply, with the answer it qualifies
      onInfo: (_backend, info) => { if (info.notice) warnings.push(info.notice); },
      onEvent: (event) => {
        if (event.type === 'text') out.markdown(event.text);
        else if (event.type === 'warning') warnings.push(event.message);
      },
    }, signal);
    if (result.finishReason === 'cancelled') return { kind: 'cancelled' };
    const cited = citedTargets(result.text, paths);
    for (const target of cited) out.reference(target.path, target.line);
    if (cited.length > 0) {
      out.markdown('\n\n**Cited:** ');
      cited.forEach((target, i) => {
        if (i > 0) out.markdown(', ');
        out.anchor(target.path, target.line, target.line === undefined ? target.path : `${target.path}:${target.line}`);
      });
    }
    const ending = result.finishReason === 'length' ? 'The answer stopped at `prolong.ask.maxAnswerTokens`.'
      : result.finishReason === 'cut' ? 'The answer was cut off: the connection to the model broke.' : undefined;
    for (const note of [...new Set([...warnings, ...result.warnings]), ...(ending ? [ending] : [])]) {
      out.markdown(`\n\n> ${note}`);
    }
    return { kind: 'answer', finishReason: result.finishReason, cited };
  } catch (error) {
    if (error instanceof CancelledError || signal.aborted) return { kind: 'cancelled' };
    const message = error instanceof UserError ? errorMessage(error) : `Unexpected error: ${errorMessage(error)}`;
    out.markdown(`**ProLong could not answer:** ${message}`);
    const action = errorButton(error);
    if (action) out.button(action.command, action.title, action.args);
    return { kind: 'error', message };
  }
}

/** Each packed file the answer cites, once, at its first cited line (the order of first mention). */
export function citedTargets(text: string, paths: readonly string[]): CitationTarget[] {
  if (paths.length === 0) return [];
  const found = new Map<string, CitationTarget>();
  for (const segment of linkCitations(text, new PathIndex([...paths]))) {
    if (segment.kind !== 'citation') continue;
    const known = found.get(segment.target.path);
    if (!known) found.set(segment.target.path, { path: segment.target.path, line: segment.target.line });
    else if (known.line === undefined && segment.target.line !== undefined) known.line = segment.target.line;
  }
  return [...found.values()];
}

/** Follow-ups after an answer: go on where it stopped, the report of what it read, the probes. */
export function chatFollowups(outcome: ChatOutcome | undefined): { prompt: string; label: string; command?: string }[] {
  if (!outcome) return [];
  const followups: { prompt: string; label: string; command?: string }[] = [];
  if (outcome.kind === 'answer' && (outcome.finishReason === 'length' || outcome.finishReason === 'cut')) followups.push({ prompt: 'Continue the answer.', label: 'Continue' });
  if (outcome.kind === 'answer' && outcome.cited[0]) followups.push({ prompt: `What else depends on ${outcome.cited[0].path}?`, label: `What depends on ${outcome.cited[0].path}?` });
  if (outcome.kind !== 'pack') followups.push({ prompt: '', label: 'Show the pack report', command: CHAT_COMMANDS.pack });
  if (outcome.kind === 'pack') followups.push({ prompt: '', label: 'How much of this context does the model use?', command: CHAT_COMMANDS.probe });
  return followups;
}

/** The command that fixes an error, where one does (as the Ask panel's error buttons). */
export function errorButton(error: unknown): { command: string; title: string; args?: unknown[] } | undefined {
  const message = errorMessage(error);
  if (error instanceof ContextTooLongError || /prolong\.pack\.tokenBudget/.test(message)) return { command: 'workbench.action.openSettings', title: 'Open Token Budget Setting', args: ['prolong.pack.tokenBudget'] };
  if (/Configure Server|prolong\.server\./.test(message)) return { command: 'prolong.configureServer', title: 'Configure Server' };
  if (/prolong\.engine\.|prolong\.backend/.test(message)) return { command: 'workbench.action.openSettings', title: 'Open Backend Settings', args: ['prolong.backend'] };
  if (/prolong\.pack\.|prolong\.tokenizer\./.test(message)) return { command: 'prolong.showPackReport', title: 'Show Pack Report' };
  return undefined;
}
