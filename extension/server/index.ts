/**
 * The remote server in the extension: the "ProLong: Configure Server" and "ProLong: Check Server" commands, and the
 * backend built from the settings plus the API key in SecretStorage (for the Ask panel and the probes).
 */
import * as vscode from 'vscode';
import { errorMessage, CancelledError, UserError } from '../../engine/errors';
import { normalizeServerUrl } from '../../engine/backends/remote/client';
import { checkServer, formatHealthReport } from '../../engine/backends/remote/health';
import { EXTENSION_SETTINGS } from '../../engine/backends/remote/problems';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { createBackend, remoteBackendOptions } from '../../engine/backends/factory';
import type { Backend } from '../../engine/backends/types';
import type { ServedModel } from '../../engine/backends/remote/wire';
import { SERVER_SECTION, apiKeySecretName, backendChoice, displayUrl, guardExtraHeaders, readServerSettings, type ServerSettings } from './serverSettings';
import { backendSetting, tokenizerPathSetting } from '../settings';
import { withCancellation } from '../cancellation';

export interface ServerCommandOptions {
  /** Tokens of the latest packed repository, when there is one, for the context-length check. */
  packedTokens?: () => number | undefined;
}

export function registerServerCommands(context: vscode.ExtensionContext, options: ServerCommandOptions = {}): void {
  const output = vscode.window.createOutputChannel('ProLong Server');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('prolong.configureServer', () => configureServer(context, output, options)),
    vscode.commands.registerCommand('prolong.checkServer', () => runHealthCheck(context, output, options)),
  );
}

/** The Backend for the configured server, or a UserError saying what to configure. */
export async function createServerBackend(context: vscode.ExtensionContext): Promise<Backend> {
  const { settings, warnings } = currentSettings();
  for (const warning of warnings) void vscode.window.showWarningMessage(warning);
  if (!settings.url) {
    throw new UserError('No ProLong server is configured (the setting prolong.backend is "remote").',
      'Run "ProLong: Configure Server", or set prolong.backend to "auto" or "local" for the local engine (on prolong.engine.modelPath, or the bundled demo model when it is empty).');
  }
  const apiKey = await context.secrets.get(apiKeySecretName(settings.url));
  return createBackend(backendChoice(settings, apiKey, tokenizerPathSetting()));
}

function currentSettings(): { settings: ServerSettings; warnings: string[] } {
  const config = vscode.workspace.getConfiguration(SERVER_SECTION);
  const read = readServerSettings((name) => config.get(name));
  const url = config.inspect<string>('url');
  const headers = config.inspect<Record<string, string>>('extraHeaders');
  const held = guardExtraHeaders(read.settings, {
    userUrl: url?.globalValue,
    urlFromWorkspace: url?.workspaceValue !== undefined || url?.workspaceFolderValue !== undefined,
    headersFromWorkspace: headers?.workspaceValue !== undefined || headers?.workspaceFolderValue !== undefined,
  });
  if (held) read.warnings.push(held);
  return read;
}


async function configureServer(context: vscode.ExtensionContext, output: vscode.OutputChannel, options: ServerCommandOptions): Promise<void> {
  const current = currentSettings().settings;
  let urlValue = current.url;
  let keyChosen: { root: string; apiKey: string | undefined } | undefined;
  // A server that cannot be reached is not a dead end: Retry, Edit the URL, or Save it anyway (it may be down now).
  for (;;) {
    const url = await vscode.window.showInputBox({
      title: 'ProLong: Configure Server (1/3): server URL',
      prompt: 'The OpenAI-compatible server running ProLong (vLLM, SGLang or llama.cpp\'s llama-server)',
      placeHolder: 'http://gpu-box:8000',
      value: urlValue,
      ignoreFocusOut: true,
      validateInput: (value) => {
        try {
          normalizeServerUrl(value, EXTENSION_SETTINGS);
          return undefined;
        } catch (error) {
          return errorMessage(error);
        }
      },
    });
    if (url === undefined) return;
    const root = normalizeServerUrl(url, EXTENSION_SETTINGS).href.replace(/\/$/, '');
    urlValue = root;

    let apiKey: string | undefined;
    if (keyChosen?.root === root) apiKey = keyChosen.apiKey;
    else {
      const chosen = await chooseApiKey(context, root);
      if (chosen === false) return;
      apiKey = chosen;
      keyChosen = { root, apiKey };
    }

    // List the models with what we have so far; a failure here says exactly what is wrong.
    const probeSettings: ServerSettings = { ...current, url: root, model: '' };
    let models: ServedModel[] | undefined;
    let problem: string | undefined;
    for (;;) {
      try {
        models = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: contacting ${displayUrl(root)}…`, cancellable: true },
          (_progress, token) => withCancellation(token, (signal) => new RemoteBackend(remoteBackendOptions(backendChoice(probeSettings, apiKey))).listModels(signal)));
        problem = models.length === 0 ? `${displayUrl(root)} lists no models yet (it may still be loading its model).` : undefined;
      } catch (error) {
        if (error instanceof CancelledError) return;
        problem = `Could not list the models of ${displayUrl(root)}: ${errorMessage(error)}`;
        output.appendLine(`✗ ${problem}`);
      }
      if (!problem) break;
      const retry = 'Retry';
      const edit = 'Edit URL';
      const anyway = 'Save Anyway';
      const pick = await vscode.window.showErrorMessage(problem, retry, edit, anyway);
      if (pick === retry) continue;
      if (pick === anyway) {
        await saveServer(context, output, root, current.url === root ? current.model : '', apiKey);
        void vscode.window.showInformationMessage(`ProLong: saved ${displayUrl(root)}. Run "ProLong: Check Server" once it is up.`);
        return;
      }
      if (pick === edit) break;
      return;
    }
    if (!models || problem) continue; // Edit URL

    const picked = await vscode.window.showQuickPick(models.map((m) => ({
      label: m.id,
      description: [m.software === 'unknown' ? undefined : m.software, m.contextLength ? `${m.contextLength.toLocaleString('en-US')} tokens` : undefined].filter(Boolean).join(' · '),
      picked: m.id === current.model,
    })), { title: 'ProLong: Configure Server (3/3): model', ignoreFocusOut: true });
    if (!picked) return;
    await saveServer(context, output, root, picked.label, apiKey);
    await runHealthCheck(context, output, options);
    return;
  }
}

/** The API key step: the key to use (undefined: none), or false when the user backed out. */
async function chooseApiKey(context: vscode.ExtensionContext, root: string): Promise<string | undefined | false> {
  const storedKey = await context.secrets.get(apiKeySecretName(root));
  const keepLabel = 'Keep the stored API key';
  const enterLabel = 'Enter an API key';
  const noneLabel = 'No API key';
  const choice = await vscode.window.showQuickPick(storedKey ? [keepLabel, enterLabel, noneLabel] : [noneLabel, enterLabel], {
    title: 'ProLong: Configure Server (2/3): API key',
    placeHolder: 'A server started with an API key asks for it; it is kept in VS Code\'s secret storage',
    ignoreFocusOut: true,
  });
  if (choice === undefined) return false;
  if (choice === noneLabel) return undefined;
  if (choice === keepLabel) return storedKey;
  const entered = await vscode.window.showInputBox({ title: 'ProLong: API key', password: true, ignoreFocusOut: true, prompt: `API key for ${displayUrl(root)}` });
  if (entered === undefined) return false;
  return entered.trim() || undefined;
}

async function saveServer(context: vscode.ExtensionContext, output: vscode.OutputChannel, root: string, model: string, apiKey: string | undefined): Promise<void> {
  const config = vscode.workspace.getConfiguration(SERVER_SECTION);
  await config.update('url', root, settingTarget(config, 'url'));
  await config.update('model', model || undefined, settingTarget(config, 'model'));
  const secretName = apiKeySecretName(root);
  if (apiKey) await context.secrets.store(secretName, apiKey);
  else await context.secrets.delete(secretName);
  // A server configured on purpose is the one the panels should use: with prolong.backend "local" they would not.
  if (backendSetting() === 'local') {
    const prolong = vscode.workspace.getConfiguration('prolong');
    await prolong.update('backend', 'remote', settingTarget(prolong, 'backend'));
    output.appendLine(`prolong.backend was "local": set to "remote", so Ask and Probes use ${displayUrl(root)}.`);
  }
}

async function runHealthCheck(context: vscode.ExtensionContext, output: vscode.OutputChannel, options: ServerCommandOptions): Promise<void> {
  const { settings, warnings } = currentSettings();
  for (const warning of warnings) output.appendLine(`! ${warning}`);
  if (!settings.url) {
    const configure = 'Configure Server';
    // Not awaited (here and below): the command ends now; the button acts whenever it is clicked.
    void vscode.window.showErrorMessage('No ProLong server is configured.', configure).then((pick) =>
      pick === configure ? vscode.commands.executeCommand('prolong.configureServer') : undefined);
    return;
  }
  const apiKey = await context.secrets.get(apiKeySecretName(settings.url));
  let report;
  try {
    report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: checking ${displayUrl(settings.url)}…`, cancellable: true },
      (_progress, token) => withCancellation(token, (signal) => checkServer(remoteBackendOptions(backendChoice(settings, apiKey, tokenizerPathSetting())), { packedTokens: options.packedTokens?.(), answerTokens: askAnswerTokens() }, signal)));
  } catch (error) {
    if (error instanceof CancelledError) return;
    showProblem(output, `Checking ${displayUrl(settings.url)} failed`, error);
    return;
  }
  for (const line of formatHealthReport(report)) output.appendLine(line);
  const details = 'Show Details';
  if (report.ok) {
    const model = report.steps.find((s) => s.name === 'Model')?.message ?? '';
    const answer = report.steps.find((s) => s.name === 'Answer')?.message ?? '';
    void vscode.window.showInformationMessage(`ProLong server ready: ${model} ${answer}`.trim(), details).then((pick) => {
      if (pick === details) output.show(true);
    });
  } else {
    const failed = report.steps.find((s) => s.status === 'error');
    void vscode.window.showErrorMessage(`ProLong server: ${failed?.name}: ${failed?.message}${failed?.hint ? ` ${failed.hint}` : ''}`, details).then((pick) => {
      if (pick === details) output.show(true);
    });
  }
}

/** The answer room the Ask panel keeps (prolong.ask.maxAnswerTokens), so the check's numbers match the panel's budget. */
function askAnswerTokens(): number {
  const value = vscode.workspace.getConfiguration('prolong.ask').get<number>('maxAnswerTokens');
  return typeof value === 'number' && value >= 1 ? Math.floor(value) : 2048;
}

/** Where a setting is written: the workspace when the workspace already sets it (else that value would win), else the user settings. */
function settingTarget(config: vscode.WorkspaceConfiguration, name: string): vscode.ConfigurationTarget {
  const inspected = config.inspect(name);
  if (inspected?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  return vscode.ConfigurationTarget.Global;
}

function showProblem(output: vscode.OutputChannel, what: string, error: unknown): void {
  output.appendLine(`✗ ${what}: ${errorMessage(error)}`);
  void vscode.window.showErrorMessage(`${what}: ${errorMessage(error)}`);
}
