/**
 * Models in the extension: "ProLong: Select Model" (converted models, HF-cache checkpoints, the server's models,
 * "Download a model…"), "ProLong: Set Hugging Face Token" (SecretStorage) and "ProLong: Remove Model" (asks first).
 * Downloads and conversions run in a worker thread with a cancellable progress notification; the model they make
 * becomes prolong.engine.modelPath (user settings, so a remote window reads it too) with prolong.backend "local".
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CancelledError, errorMessage, UserError } from '../../engine/errors';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { remoteBackendOptions } from '../../engine/backends/factory';
import { checkRepoId, fetchConfig, hubSettings, removeCachedRepo, type HubSettings } from '../../engine/models/hub';
import { defaultModelsDir, listCacheModels, listConvertedModels, removeConvertedModel, type LocalModel, type PulledModel } from '../../engine/models/library';
import { machineMemory } from '../../engine/models/machine';
import { describeFit, formatBytes, formatContext, modelFit, type PullDtype } from '../../engine/models/modelFit';
import { SERVER_SECTION, apiKeySecretName, backendChoice, displayUrl, readServerSettings } from '../server/serverSettings';
import { engineSettings, tokenizerPathSetting, usesDemoModel } from '../settings';
import { DEMO_MODEL_NAME, demoModelContextLength, demoModelDir } from '../../engine/models/demoModel';
import { withCancellation } from '../cancellation';
import { curatedEntries, modelPickerEntries, type ModelChoice, type PickerEntry } from './pickerItems';
import { runModelJob } from './workerRun';
import { llamaCppDir } from '../backend';
import { hasGpuLlamaCpp } from '../../engine/runtime/llamacpp/install';
import type { ModelJob } from './workerProtocol';

export const HUB_TOKEN_SECRET = 'prolong.huggingface.token';

export function registerModels(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('prolong.selectModel', () => selectModel(context)),
    vscode.commands.registerCommand('prolong.setHubToken', () => setHubToken(context)),
    vscode.commands.registerCommand('prolong.removeModel', (dir?: string) => removeModel(context, typeof dir === 'string' ? dir : undefined)),
    vscode.commands.registerCommand('prolong.downloadModel', (repo?: string, dtype?: PullDtype) =>
      typeof repo === 'string' ? download(context, repo, dtype === 'fp16' || dtype === 'int4' ? dtype : 'auto') : pickDownload(context)),
  );
}

/** The extension's models folder (global storage), where downloads are converted to. */
function modelsDir(context: vscode.ExtensionContext): string {
  return join(context.globalStorageUri.fsPath, 'models');
}

/** HF_* environment as huggingface_hub reads it; the token from SecretStorage unless HF_TOKEN is set. */
async function currentHubSettings(context: vscode.ExtensionContext): Promise<HubSettings> {
  const settings = hubSettings(process.env);
  if (!process.env.HF_TOKEN) {
    const stored = await context.secrets.get(HUB_TOKEN_SECRET);
    if (stored) return { ...settings, token: stored, tokenSource: 'the token stored with "ProLong: Set Hugging Face Token"' };
  }
  return settings;
}

function available() {
  return machineMemory(vscode.workspace.getConfiguration('prolong.engine').get<number>('deviceMemoryGiB') ?? 0);
}

function allConverted(context: vscode.ExtensionContext): LocalModel[] {
  const seen = new Set<string>();
  return [...listConvertedModels(modelsDir(context)), ...listConvertedModels(defaultModelsDir())].filter((m) => !seen.has(m.dir) && seen.add(m.dir));
}

async function serverModels(context: vscode.ExtensionContext, signal: AbortSignal): Promise<{ label?: string; models: { id: string; contextLength?: number }[]; problem?: string }> {
  const config = vscode.workspace.getConfiguration(SERVER_SECTION);
  const { settings } = readServerSettings((name) => config.get(name));
  if (!settings.url) return { models: [] };
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(5000)]);
  try {
    const apiKey = await context.secrets.get(apiKeySecretName(settings.url));
    const backend = new RemoteBackend(remoteBackendOptions(backendChoice(settings, apiKey, tokenizerPathSetting())));
    try { return { label: displayUrl(settings.url), models: await backend.listModels(timeout) }; } finally { await backend.dispose(); }
  } catch (error) {
    // the picker still lists the local models; the entry for this problem runs Check Server, which says what to fix
    const reason = signal.aborted ? undefined : error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { label: displayUrl(settings.url), models: [], problem: reason };
  }
}

type Item = vscode.QuickPickItem & { choice?: ModelChoice };

function toItem(entry: PickerEntry): Item {
  if (entry.separator) return { label: entry.label, kind: vscode.QuickPickItemKind.Separator };
  const buttons = entry.choice?.kind === 'converted' || entry.choice?.kind === 'checkpoint'
    ? [{ iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Remove this model (asks first)' }] : undefined;
  return { label: entry.label, description: entry.description, detail: entry.detail, choice: entry.choice, buttons };
}

export async function selectModel(context: vscode.ExtensionContext): Promise<void> {
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = 'ProLong: Select Model';
  pick.placeholder = 'A converted model, a Hugging Face cache checkpoint to convert, a server model, or download one';
  pick.matchOnDescription = true;
  pick.busy = true;
  pick.show();
  const controller = new AbortController();
  const memory = available();
  const hub = await currentHubSettings(context);
  const build = async () => {
    const server = await serverModels(context, controller.signal);
    const entries = modelPickerEntries({
      converted: allConverted(context), cached: listCacheModels(hub.cacheDir, memory), serverModels: server.models, serverLabel: server.label, serverProblem: server.problem,
      currentModelDir: engineSettings().settings.modelDir || undefined,
      currentServerModel: vscode.workspace.getConfiguration(SERVER_SECTION).get<string>('model') || undefined, available: memory,
      demo: demoEntry(),
    });
    pick.items = entries.map(toItem);
    pick.busy = false;
  };
  await build();
  // resolved once hidden, not on accept: a quick input shown before the hide lands can be closed by it (microsoft/vscode#135747)
  const chosen = await new Promise<ModelChoice | undefined>((resolve) => {
    let accepted: ModelChoice | undefined;
    pick.onDidAccept(() => { accepted = pick.selectedItems[0]?.choice; pick.hide(); });
    pick.onDidHide(() => { controller.abort(); resolve(accepted); });
    pick.onDidTriggerItemButton(async (event) => {
      const choice = event.item.choice;
      if (choice?.kind === 'converted') await removeModel(context, choice.dir);
      if (choice?.kind === 'checkpoint') await removeCheckpoint(hub, choice.repo);
      pick.busy = true;
      await build();
    });
  });
  pick.dispose();
  if (!chosen) return;
  switch (chosen.kind) {
    case 'converted': await useLocalModel(chosen.dir, chosen.name); return;
    case 'checkpoint': await download(context, chosen.repo, chosen.dtype, chosen.commit); return;
    case 'server':
      await vscode.workspace.getConfiguration(SERVER_SECTION).update('model', chosen.id, vscode.ConfigurationTarget.Global);
      await vscode.workspace.getConfiguration('prolong').update('backend', 'remote', vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`ProLong now asks ${chosen.id} on the server.`);
      return;
    case 'checkServer': await vscode.commands.executeCommand('prolong.checkServer'); return;
    case 'demo': await useDemoModel(); return;
    case 'download': await pickDownload(context);
  }
}

async function pickDownload(context: vscode.ExtensionContext): Promise<void> {
  const memory = available();
  const curated = curatedEntries(memory);
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { repo: string }>();
  pick.title = 'ProLong: Download a Model';
  pick.placeholder = 'Pick one, or type any ORG/NAME from huggingface.co';
  pick.matchOnDescription = true;
  // steps of one flow with a network read between them: a focus change (a webview, a notification) must not drop it
  pick.ignoreFocusOut = true;
  const curatedItems = curated.map((c) => ({ label: c.label, description: c.description, detail: c.detail, repo: c.repo }));
  pick.items = curatedItems;
  pick.onDidChangeValue((value) => {
    const typed = value.trim();
    const isRepo = /^[\w.-]+\/[\w.-]+$/.test(typed) && !curated.some((c) => c.repo === typed);
    pick.items = isRepo ? [{ label: typed, description: 'download this repository (its config.json is read first)', repo: typed, alwaysShow: true }, ...curatedItems] : curatedItems;
  });
  const repo = await new Promise<string | undefined>((resolve) => {
    let accepted: string | undefined; // resolved once hidden, as above
    pick.onDidAccept(() => { accepted = pick.selectedItems[0]?.repo; pick.hide(); });
    pick.onDidHide(() => resolve(accepted));
    pick.show();
  });
  pick.dispose();
  if (!repo) return;
  const hub = await currentHubSettings(context);
  let fitText: string;
  let suggested: PullDtype;
  try {
    checkRepoId(repo);
    const config = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: reading ${repo}'s config.json…`, cancellable: true },
      (_p, token) => withCancellation(token, (signal) => fetchConfig(repo, hub, 'main', signal)));
    const fit = modelFit(config, `${repo}/config.json`, memory);
    fitText = describeFit(fit);
    suggested = fit.suggestedDtype;
    if (fit.fittingContext.fp16 === 0 && fit.fittingContext.int4 === 0) {
      const go = await vscode.window.showWarningMessage(`${repo} does not fit this machine (${formatBytes(memory.bytes)}, ${memory.source}) even in int4. Download anyway?`, { modal: true }, 'Download');
      if (go !== 'Download') return;
    }
  } catch (error) {
    if (error instanceof CancelledError) return;
    await showModelError(context, repo, error);
    return;
  }
  const dtypePick = await vscode.window.showQuickPick([
    { label: `auto (${suggested})`, description: 'the precision that reaches the longest context here', dtype: 'auto' as const },
    { label: 'fp16', description: 'full quality, twice the memory of int4', dtype: 'fp16' as const },
    { label: 'int4', description: 'a quarter of fp16\'s weight memory, slightly lower quality', dtype: 'int4' as const },
  ], { title: `${repo}: ${fitText}`, placeHolder: 'Weight precision of the converted model', ignoreFocusOut: true });
  if (!dtypePick) return;
  await download(context, repo, dtypePick.dtype);
}

/** Download (unless in the cache) + convert in the worker, with a cancellable progress notification; then use it. */
export async function download(context: vscode.ExtensionContext, repo: string, dtype: PullDtype | 'auto', revision?: string): Promise<PulledModel | undefined> {
  const job: ModelJob = {
    repo, revision, dtype, modelsDir: modelsDir(context), settings: await currentHubSettings(context), available: available(),
    // with llama.cpp's GPU build installed the model gets a GGUF too, so that it runs there (prolong.engine.runtime auto)
    gguf: hasGpuLlamaCpp(llamaCppDir(context)),
  };
  let result: PulledModel;
  try {
    result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: ${repo}`, cancellable: true }, (progress, token) =>
      withCancellation(token, (signal) => {
        let percent = 0;
        const step = (to: number, message: string) => { progress.report({ increment: Math.max(0, to - percent), message }); percent = Math.max(percent, to); };
        return runModelJob(job, {
          signal,
          onMessage: (m) => {
            if (m.type === 'plan') step(percent, `${describeFit(m.fit)}; converting to ${m.dtype}`);
            else if (m.type === 'download') {
              const p = m.progress;
              const eta = p.etaSeconds === undefined ? '' : `, ${formatEta(p.etaSeconds)} left`;
              step(Math.floor((80 * p.doneBytes) / Math.max(1, p.totalBytes)), `downloading ${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)} at ${formatBytes(p.rate)}/s${eta}`);
            } else if (m.type === 'convert') {
              step(80 + Math.floor((20 * m.progress.doneParameters) / m.progress.totalParameters), `converting ${Math.floor((100 * m.progress.doneParameters) / m.progress.totalParameters)}%`);
            }
          },
        });
      }));
  } catch (error) {
    if (error instanceof CancelledError) {
      void vscode.window.showInformationMessage(`ProLong: ${repo} cancelled. The downloaded part stays in the Hugging Face cache and resumes next time; no half-converted model was left.`);
      return undefined;
    }
    await showModelError(context, repo, error);
    return undefined;
  }
  await useLocalModel(result.modelDir, repo, `${result.dtype}, fits ${formatContext(result.fit.fittingContext[result.dtype])} tokens here`);
  return result;
}

function formatEta(seconds: number): string {
  return seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${Math.ceil(seconds)} s`;
}

function demoEntry(): { name: string; bytes: number; contextLength: number; current: boolean } | undefined {
  try {
    const dir = demoModelDir();
    return {
      name: DEMO_MODEL_NAME, bytes: statSync(join(dir, 'model.onnx.data')).size + statSync(join(dir, 'model.onnx')).size,
      contextLength: demoModelContextLength(), current: usesDemoModel(),
    };
  } catch {
    return undefined; // a package without it: nothing to offer
  }
}

/** Back to the bundled demo model: the local engine with no model path (user and workspace values cleared). */
async function useDemoModel(): Promise<void> {
  const engine = vscode.workspace.getConfiguration('prolong.engine');
  await engine.update('modelPath', undefined, vscode.ConfigurationTarget.Global);
  if (engine.inspect('modelPath')?.workspaceValue !== undefined) await engine.update('modelPath', undefined, vscode.ConfigurationTarget.Workspace);
  const prolong = vscode.workspace.getConfiguration('prolong');
  await prolong.update('backend', 'local', vscode.ConfigurationTarget.Global);
  if (prolong.inspect('backend')?.workspaceValue !== undefined) await prolong.update('backend', 'local', vscode.ConfigurationTarget.Workspace);
  void vscode.window.showInformationMessage(`ProLong now uses the bundled demo model (${DEMO_MODEL_NAME}): it finds needles, it does not reason about code.`);
}

async function useLocalModel(dir: string, name: string, note?: string): Promise<void> {
  // user settings (a remote window reads them too); a workspace value would hide them, so it is updated as well
  const set = async (section: string, key: string, value: string) => {
    const config = vscode.workspace.getConfiguration(section);
    await config.update(key, value, vscode.ConfigurationTarget.Global);
    if (config.inspect(key)?.workspaceValue !== undefined) await config.update(key, value, vscode.ConfigurationTarget.Workspace);
  };
  await set('prolong.engine', 'modelPath', dir);
  await set('prolong', 'backend', 'local');
  void vscode.window.showInformationMessage(`ProLong now uses ${name}${note ? ` (${note})` : ''} with the bundled engine.`);
}

async function showModelError(context: vscode.ExtensionContext, repo: string, error: unknown): Promise<void> {
  const text = errorMessage(error);
  const actions = error instanceof UserError && /gated|private/.test(error.message) ? ['Set Token', 'Open Model Page'] : [];
  const hub = hubSettings(process.env);
  const pick = await vscode.window.showErrorMessage(`ProLong: ${text}`, ...actions);
  if (pick === 'Set Token') { if (await setHubToken(context)) await download(context, repo, 'auto'); }
  if (pick === 'Open Model Page') await vscode.env.openExternal(vscode.Uri.parse(`${hub.endpoint}/${repo}`));
}

async function setHubToken(context: vscode.ExtensionContext): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: 'ProLong: Hugging Face Token', password: true, ignoreFocusOut: true,
    prompt: 'A read token from huggingface.co/settings/tokens (stored in VS Code\'s secret storage; empty removes it). HF_TOKEN, when set, takes precedence.',
    validateInput: (value) => value.trim() === '' || /^hf_\w{10,}$/.test(value.trim()) ? undefined : 'A Hugging Face token starts with hf_.',
  });
  if (token === undefined) return false;
  if (token.trim()) await context.secrets.store(HUB_TOKEN_SECRET, token.trim());
  else await context.secrets.delete(HUB_TOKEN_SECRET);
  void vscode.window.showInformationMessage(token.trim() ? 'ProLong: Hugging Face token stored.' : 'ProLong: Hugging Face token removed.');
  return token.trim() !== '';
}

async function removeModel(context: vscode.ExtensionContext, dir?: string): Promise<void> {
  let target = dir;
  if (!target) {
    const models = allConverted(context);
    if (models.length === 0) { void vscode.window.showInformationMessage('ProLong: there is no converted model to remove.'); return; }
    const pick = await vscode.window.showQuickPick(models.map((m) => ({ label: m.name, description: `${m.sidecar.onnx.dtype} · ${formatBytes(m.bytes)}`, detail: m.dir, dir: m.dir })), { title: 'ProLong: Remove Model' });
    target = pick?.dir;
  }
  if (!target) return;
  const bytes = allConverted(context).find((m) => m.dir === target)?.bytes;
  const answer = await vscode.window.showWarningMessage(`Delete the converted model ${target}${bytes ? ` (${formatBytes(bytes)})` : ''}? The checkpoint in the Hugging Face cache stays.`, { modal: true }, 'Delete');
  if (answer !== 'Delete') return;
  try {
    removeConvertedModel(target);
    if (engineSettings().settings.modelDir === target) await vscode.workspace.getConfiguration('prolong.engine').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
  } catch (error) {
    void vscode.window.showErrorMessage(`ProLong: ${errorMessage(error)}`);
  }
}

async function removeCheckpoint(hub: HubSettings, repo: string): Promise<void> {
  const answer = await vscode.window.showWarningMessage(`Delete ${repo} from the Hugging Face cache ${hub.cacheDir}? Other tools using that cache will download it again.`, { modal: true }, 'Delete');
  if (answer === 'Delete') removeCachedRepo(hub.cacheDir, repo);
}
