/**
 * VS Code's Chat view, agent tools and MCP: the @prolong participant (chatHandler.ts), the language-model tools
 * (lmTools.ts) and `prolong mcp` offered as an MCP server definition. Each is registered only where the host has
 * its API (code-server builds without a chat agent lack some): there it is simply absent and the panel works as before.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AskSession } from '../ask/askSession';
import { getBackend } from '../backend';
import { backendSetting, definitionsIndexSetting, engineSettings } from '../settings';
import { readServerSettings, apiKeySecretName } from '../server/serverSettings';
import { packReportMarkdown } from '../pack/packReport';
import type { Exchange } from '../ask/conversation';
import { chatFollowups, handleChatRequest, type ChatDeps, type ChatOut, type ChatOutcome } from './chatHandler';
import { registerLanguageModelTools } from './lmTools';

export const PARTICIPANT_ID = 'prolong.chat';
export const MCP_PROVIDER_ID = 'prolong.mcp';

/** What the host offered, for the log and the in-host test. */
export interface ChatRegistration {
  participant: boolean;
  tools: boolean;
  mcp: boolean;
}

/** A margin for the system text, question and chat template when the chat participant sizes the answer room. */
const PROMPT_ROOM_TOKENS = 512;

export function registerChat(context: vscode.ExtensionContext, session: AskSession): ChatRegistration {
  const probeResultsDir = join(context.globalStorageUri.fsPath, 'probe-runs');
  const registered: ChatRegistration = { participant: false, tools: false, mcp: false };
  if (typeof vscode.chat?.createChatParticipant === 'function') {
    try {
      registerParticipant(context, session);
      registered.participant = true;
    } catch (error) {
      console.warn(`ProLong: the @prolong chat participant is not available here: ${(error as Error).message}`);
    }
  }
  if (typeof vscode.lm?.registerTool === 'function') {
    try {
      registerLanguageModelTools(context, probeResultsDir, () => session.packedFolder() ?? vscode.workspace.workspaceFolders?.[0]);
      registered.tools = true;
    } catch (error) {
      console.warn(`ProLong: the language-model tools are not available here: ${(error as Error).message}`);
    }
  }
  if (typeof vscode.lm?.registerMcpServerDefinitionProvider === 'function') {
    try {
      registerMcpProvider(context, probeResultsDir);
      registered.mcp = true;
    } catch (error) {
      console.warn(`ProLong: the MCP server definition is not available here: ${(error as Error).message}`);
    }
  }
  return registered;
}

function registerParticipant(context: vscode.ExtensionContext, session: AskSession): void {
  let packedTokens = 0;
  const deps: ChatDeps = {
    async pack(signal, onProgress) {
      const last = await session.currentPack(signal, (message) => onProgress(message));
      packedTokens = last.result.totalTokens;
      return { document: last.result.document, paths: last.result.files.map((f) => f.path), reportMarkdown: packReportMarkdown(last.folder.name, last.result, last.settings.tokenBudget) };
    },
    backend: getBackend,
    sampling() {
      const config = vscode.workspace.getConfiguration('prolong.ask');
      const maxTokens = config.get<number>('maxAnswerTokens');
      const temperature = config.get<number>('temperature');
      return { maxTokens: typeof maxTokens === 'number' && maxTokens >= 1 ? Math.floor(maxTokens) : 2048, temperature: typeof temperature === 'number' && temperature >= 0 ? temperature : 0 };
    },
    answerRoom(info, maxTokens) {
      if (!info.contextLength) return maxTokens;
      return Math.max(1, Math.min(maxTokens, info.contextLength - packedTokens - PROMPT_ROOM_TOKENS));
    },
    startProbes: async () => { await vscode.commands.executeCommand('prolong.runProbes'); },
  };

  const handler: vscode.ChatRequestHandler = async (request, chatContext, stream, token) => {
    const folder = () => session.packedFolder() ?? vscode.workspace.workspaceFolders?.[0];
    const uriOf = (path: string) => { const f = folder(); return f ? vscode.Uri.joinPath(f.uri, ...path.split('/')) : undefined; };
    const locationOf = (path: string, line?: number): vscode.Uri | vscode.Location | undefined => {
      const uri = uriOf(path);
      if (!uri) return undefined;
      return line === undefined ? uri : new vscode.Location(uri, new vscode.Position(Math.max(0, line - 1), 0));
    };
    const out: ChatOut = {
      progress: (message) => stream.progress(message),
      markdown: (text) => stream.markdown(text),
      reference: (path, line) => { const where = locationOf(path, line); if (where) stream.reference(where); },
      anchor: (path, line, title) => { const where = locationOf(path, line); if (where) stream.anchor(where, title); else stream.markdown(title); },
      button: (command, title, args) => stream.button({ command, title, arguments: args }),
    };
    const controller = new AbortController();
    const listener = token.onCancellationRequested(() => controller.abort());
    try {
      const outcome = await handleChatRequest({ prompt: request.prompt, command: request.command }, historyOf(chatContext), deps, out, controller.signal);
      return {
        metadata: { outcome },
        errorDetails: outcome.kind === 'error' && outcome.message !== 'empty question' ? { message: outcome.message } : undefined,
      };
    } finally {
      listener.dispose();
    }
  };

  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, handler);
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'prolong.svg');
  participant.followupProvider = {
    provideFollowups(result) {
      const outcome = (result.metadata as { outcome?: ChatOutcome } | undefined)?.outcome;
      return chatFollowups(outcome).map((f) => ({ prompt: f.prompt, label: f.label, command: f.command, participant: PARTICIPANT_ID }));
    },
  };
  context.subscriptions.push(participant);
}

/** Earlier @prolong questions and answers of this chat (not slash commands), as the panel's conversation. */
function historyOf(chatContext: vscode.ChatContext): Exchange[] {
  const exchanges: Exchange[] = [];
  let question: string | undefined;
  for (const turn of chatContext.history) {
    if (turn instanceof vscode.ChatRequestTurn) {
      question = turn.participant === PARTICIPANT_ID && !turn.command ? turn.prompt : undefined;
    } else if (turn instanceof vscode.ChatResponseTurn && question !== undefined && turn.participant === PARTICIPANT_ID) {
      const answer = turn.response.map((part) => (part instanceof vscode.ChatResponseMarkdownPart ? part.value.value : '')).join('');
      // the references appended after the answer are ours, not the model's: cut them off
      const text = answer.split('\n\n**Cited:** ')[0]!.trim();
      if (text && !(turn.result.errorDetails)) exchanges.push({ question, answer: text });
      question = undefined;
    }
  }
  return exchanges;
}

function registerMcpProvider(context: vscode.ExtensionContext, probeResultsDir: string): void {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.McpServerDefinitionProvider = {
    onDidChangeMcpServerDefinitions: changed.event,
    async provideMcpServerDefinitions() {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) return [];
      const args = [join(context.extensionPath, 'out', 'cli.js'), 'mcp', '--dir', folder.uri.fsPath, '--probe-results', probeResultsDir];
      const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
      if (backendSetting() === 'remote') {
        const { settings } = readServerSettings((name) => vscode.workspace.getConfiguration('prolong.server').get(name));
        if (settings.url) {
          args.push('--server', settings.url, '--api', settings.api);
          if (settings.model) args.push('--model', settings.model);
          const key = await context.secrets.get(apiKeySecretName(settings.url));
          if (key) env.PROLONG_API_KEY = key;
        }
      } else {
        const { settings } = engineSettings();
        if (settings.modelDir) args.push('--model', settings.modelDir);
      }
      // the setting where the user set it; else the server's ask follows the local model, as the Ask view does
      const index = definitionsIndexSetting(folder);
      if (index !== undefined) args.push(index ? '--definitions-index' : '--no-definitions-index');
      // the extension host's own runtime runs the CLI (Electron as Node in desktop VS Code)
      return [new vscode.McpStdioServerDefinition('ProLong', process.execPath, args, env, '0.1.0')];
    },
  };
  context.subscriptions.push(
    changed,
    vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    vscode.workspace.onDidChangeConfiguration((event) => { if (event.affectsConfiguration('prolong')) changed.fire(); }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  );
}
