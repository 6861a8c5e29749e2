/**
 * The Probes panel in the extension: "ProLong: Run Context Probes" (quick picks for tasks, lengths, samples and
 * seed, then a run in a worker thread against the active backend, shown live in the "ProLong Probes" panel),
 * "Cancel Context Probes", "Open Probe Results..." and "Save Probe Results...".
 * The controller owns the view state; every change goes through the shared reducer and is sent to the webview.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { backendInfoIsCheap, demoModelBeforeLoad, getBackend } from '../backend';
import type { WorkspacePacking } from '../pack';
import { CancelledError, UserError, errorMessage } from '../../engine/errors';
import type { BackendInfo } from '../../engine/backends/types';
import { packedFileTexts } from '../../engine/packer';
import { formatLength, formatResults, resultsCsv } from '../../engine/probes/report';
import { listSavedRuns, savedRunEntry } from './savedRuns';
import { isCurrentSuite, parseProbeResults } from '../../engine/probes/results';
import { rulerEffectiveLength, RULER_THRESHOLD } from '../../engine/probes/effectiveLength';
import type { RepositoryFile } from '../../engine/probes/tasks/common';
import type { ProbeRunResult } from '../../engine/probes/types';
import type { PanelAction, ProbesViewState, RunPlan, ToExtension, ToWebview } from '../../webview/probes/protocol';
import { initialState, isActive, reduce } from '../../webview/probes/state';
import { RunHistory, measuredSpeed } from './history';
import { PROBES_VIEW_TYPE, ProbesPanel } from './panel';
import { chooseRunPlan } from './quickPicks';
import { REPOSITORY_TASKS, equivalentCommand, readRunArgs } from './runConfig';
import { runProbesInWorker } from './workerRun';
import { configuredEngineContext, countingTokenizerPath } from '../settings';
import { withCancellation } from '../cancellation';

/** workspaceState key: the file of this workspace's last run in the history folder. */
const LAST_RUN_KEY = 'prolong.probes.lastRunFile';

/** Prefill progress is posted to the webview at most this often (a local engine reports every chunk). */
const PREFILL_POST_MS = 200;

export function registerProbes(context: vscode.ExtensionContext, packing: WorkspacePacking): void {
  const controller = new ProbesController(context, packing);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('prolong.runProbes', (args?: unknown) => controller.runCommand(args)),
    vscode.commands.registerCommand('prolong.cancelProbes', () => controller.cancel()),
    vscode.commands.registerCommand('prolong.showProbes', () => controller.show()),
    vscode.window.registerWebviewPanelSerializer(PROBES_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => controller.restore(panel) }),
    vscode.commands.registerCommand('prolong.openProbeResults', (uri?: vscode.Uri) => controller.open(uri)),
    vscode.commands.registerCommand('prolong.saveProbeResults', (uri?: vscode.Uri) => controller.save(uri)),
    vscode.commands.registerCommand('prolong.copyProbeSummary', () => controller.copySummary()),
    vscode.commands.registerCommand('prolong.compareProbeResults', (uris?: vscode.Uri | vscode.Uri[]) => controller.compare(uris)),
  );
}

function thresholdSetting(): number {
  const value = vscode.workspace.getConfiguration('prolong.probes').get<number>('threshold');
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 100 ? value : RULER_THRESHOLD;
}

/** A saved run is shown at the threshold it was saved with (a CLI run may have used --threshold). */
function savedThreshold(result: ProbeRunResult): number {
  const threshold = result.ruler.threshold;
  return typeof threshold === 'number' && Number.isFinite(threshold) && threshold > 0 && threshold <= 100 ? threshold : thresholdSetting();
}

function backendLabel(info: BackendInfo): string {
  return `${info.kind} · ${info.model} (${info.detail})`;
}

class ProbesController implements vscode.Disposable {
  private state: ProbesViewState = initialState(thresholdSetting());
  private panel: ProbesPanel | undefined;
  private running: AbortController | undefined;
  /** Settles when the last run started has ended (finished, failed or cancelled). */
  private runEnded: Promise<unknown> = Promise.resolve();
  private lastPlan: RunPlan | undefined;
  private prefillTimer: NodeJS.Timeout | undefined;
  private pendingPrefill: PanelAction | undefined;
  /** Progress of a run while the panel may be hidden or closed; click to show the panel. */
  private readonly statusItem = vscode.window.createStatusBarItem('prolong.probes', vscode.StatusBarAlignment.Left, 10);
  private readonly configListener: vscode.Disposable;
  private readonly history: RunHistory;

  constructor(private readonly context: vscode.ExtensionContext, private readonly packing: WorkspacePacking) {
    this.history = new RunHistory(join(context.globalStorageUri.fsPath, 'probe-runs'));
    this.statusItem.name = 'ProLong probes';
    this.statusItem.command = 'prolong.showProbes';
    this.configListener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('prolong.probes.threshold')) this.dispatch({ type: 'threshold', threshold: thresholdSetting() });
    });
  }

  /** Shows the panel (with whatever it last showed). */
  show(): void {
    this.showPanel();
  }

  /** A window reload brought the panel back: show this workspace's last run in it (if nothing newer is shown). */
  async restore(panel: vscode.WebviewPanel): Promise<void> {
    if (this.panel) {
      panel.dispose();
      return;
    }
    this.panel = new ProbesPanel(this.context.extensionUri, (message) => this.onMessage(message), () => { this.panel = undefined; }, panel, () => this.wholeState());
    const last = this.context.workspaceState.get<string>(LAST_RUN_KEY);
    if (this.state.phase !== 'idle' || !last || !existsSync(last)) return;
    try {
      const result = parseProbeResults(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(last))), last);
      if (this.state.phase === 'idle') this.dispatch({ type: 'loaded', result, file: last, otherSuiteVersion: !isCurrentSuite(result), threshold: savedThreshold(result) });
    } catch {
      // A damaged history file: the panel simply starts empty.
    }
  }

  /** The command: returns the run's results (undefined when nothing ran), so keybindings and tests can chain. */
  async runCommand(rawArgs: unknown): Promise<ProbeRunResult | undefined> {
    try {
      const args = readRunArgs(rawArgs);
      if (this.running) {
        // Modal: the command waits for this answer, so it must not sit unseen in the notification list.
        const choice = await vscode.window.showWarningMessage('A ProLong probe run is in progress.', { modal: true }, 'Show It', 'Cancel It and Start Another');
        if (choice === 'Show It') this.showPanel();
        if (choice !== 'Cancel It and Start Another') return undefined;
        await this.cancelAndWait();
      }
      const backend = await getBackend();
      let info: BackendInfo | undefined;
      if (backendInfoIsCheap()) {
        info = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'ProLong: asking the backend for its context length…', cancellable: true },
          (_progress, token) => withCancellation(token, (signal) => backend.info(signal)));
      }
      // A local engine's context is known without loading its model only when prolong.engine.contextTokens sets it.
      const contextLength = info ? info.contextLength : configuredEngineContext();
      const speed = info ? measuredSpeed(this.history.dir, info.model) : undefined;
      const demo = info ? undefined : demoModelBeforeLoad();
      const chosen = await chooseRunPlan(args, contextLength, this.context.workspaceState, info ? backendLabel(info) : demo ? `the demo model (${demo.name})` : 'the local engine', speed?.msPerToken);
      if (!chosen) return undefined;
      const notice = info?.notice ?? demo?.notice;
      if (notice) chosen.notes.unshift(notice);
      if (info === undefined && contextLength === undefined) {
        chosen.notes.push('The local engine reports its context length once the model is loaded; lengths past it are skipped then.');
      }
      const run = this.start(chosen.plan, info ? backendLabel(info) : `local engine${demo ? ` · ${demo.name}` : ''} (the model loads for the first instance)`, chosen.notes);
      this.runEnded = run.catch(() => undefined);
      return await run;
    } catch (error) {
      if (error instanceof CancelledError) return undefined;
      this.showError(error);
      return undefined;
    }
  }

  private async start(plan: RunPlan, backendText: string, notes: string[]): Promise<ProbeRunResult | undefined> {
    this.lastPlan = plan;
    const abort = new AbortController();
    this.running = abort;
    this.showPanel();
    this.dispatch({ type: 'run-started', plan, backend: backendText, notes: [...notes, `Same run from a terminal: ${equivalentCommand(plan)}`], threshold: thresholdSetting() });
    try {
      const repository = plan.tasks.some((task) => REPOSITORY_TASKS.includes(task)) ? await this.repository(abort.signal) : undefined;
      const backend = await getBackend();
      this.dispatch({ type: 'preparing', message: 'starting the probe worker' });
      const result = await runProbesInWorker({
        plan: { tasks: plan.tasks, lengths: plan.lengths, samples: plan.samples, seed: plan.seed, ...repository },
        threshold: this.state.threshold, tokenizerPath: countingTokenizerPath(), backend, signal: abort.signal,
        onEvent: (event) => this.dispatch({ type: 'probe', event }),
        onStatus: (message) => this.dispatch({ type: 'preparing', message }),
      });
      this.dispatch({ type: 'finished', result });
      this.keep(result);
      this.announce(result);
      return result;
    } catch (error) {
      if (error instanceof CancelledError) {
        this.dispatch({ type: 'cancelled' });
        return undefined;
      }
      this.dispatch({ type: 'failed', error: errorMessage(error) });
      this.showError(error);
      return undefined;
    } finally {
      if (this.running === abort) this.running = undefined;
    }
  }

  /** The workspace's packed files for the repository tasks (packed now, so they are current). */
  private async repository(signal: AbortSignal): Promise<{ repository?: RepositoryFile[]; repositoryName?: string }> {
    const folder = this.packing.lastPack?.folder ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      this.dispatch({ type: 'probe', event: { type: 'warning', message: 'No folder is open: the repository tasks (repo_qa_1/2, code_needle) are skipped.' } });
      return {};
    }
    this.dispatch({ type: 'preparing', message: `packing ${folder.name} for the repository tasks` });
    const source = new vscode.CancellationTokenSource();
    const onAbort = () => source.cancel();
    signal.addEventListener('abort', onAbort);
    try {
      const { result, settings } = await this.packing.pack(folder, (message) => this.dispatch({ type: 'preparing', message: `packing ${folder.name}: ${message}` }), source.token);
      if (result.dropped.length > 0) {
        // a skip for a haystack too short is then the budget's doing, not the repository's size: say so
        this.dispatch({ type: 'probe', event: { type: 'warning', message: `The repository tasks use the packed repository, which the token budget `
          + `(prolong.pack.tokenBudget, ${settings.tokenBudget.toLocaleString('en-US')} tokens) cut by ${result.dropped.length.toLocaleString('en-US')} files: `
          + 'lengths it cannot fill are skipped because of the budget. Raise or clear the budget to probe them.' } });
      }
      return { repository: packedFileTexts(result), repositoryName: folder.name };
    } finally {
      signal.removeEventListener('abort', onAbort);
      source.dispose();
    }
  }

  /** Keeps the run in the history folder (the panel restores it after a reload; Open Results starts there). */
  private keep(result: ProbeRunResult): void {
    if (result.instances.length === 0) return;
    try {
      const file = this.history.save(result);
      void this.context.workspaceState.update(LAST_RUN_KEY, file);
      this.dispatch({ type: 'saved', file });
    } catch (error) {
      this.dispatch({ type: 'probe', event: { type: 'warning', message: `The run could not be kept in ${this.history.dir}: ${errorMessage(error)}` } });
    }
  }

  cancel(): void {
    if (!this.running) {
      void vscode.window.showInformationMessage('ProLong: no probe run is in progress.');
      return;
    }
    this.dispatch({ type: 'cancelling' });
    this.running.abort();
  }

  private async cancelAndWait(): Promise<void> {
    this.cancel();
    await this.runEnded;
  }

  async open(target?: vscode.Uri): Promise<ProbesViewState | undefined> {
    try {
      if (this.running) throw new UserError('A probe run is in progress.', 'Cancel it (or let it finish) before opening saved results.');
      const uri = target ?? (await this.pickSavedRuns('Open Probe Results', 'Open Results', false))?.[0];
      if (!uri) return undefined;
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const result = parseProbeResults(text, uri.fsPath || uri.toString());
      this.showPanel();
      this.dispatch({ type: 'loaded', result, file: uri.fsPath || uri.toString(), otherSuiteVersion: !isCurrentSuite(result), threshold: savedThreshold(result) });
      return this.state;
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  /**
   * The kept and saved runs by model, date and lengths (the run shown left out when comparing), with "Browse…" for
   * any other file; straight to the file dialog when there are none.
   */
  private async pickSavedRuns(title: string, openLabel: string, many: boolean): Promise<vscode.Uri[] | undefined> {
    const dialog = () => vscode.window.showOpenDialog({
      title, canSelectMany: many, openLabel, filters: { 'Probe results (JSON)': ['json'] },
      ...(existsSync(this.history.dir) ? { defaultUri: vscode.Uri.file(this.history.dir) } : {}),
    });
    const shown = many ? this.state.result?.metadata : undefined;
    const runs = listSavedRuns([this.history.dir, this.savedDir().fsPath])
      .filter((run) => !(shown && run.startedAt === shown.startedAt && run.model === shown.backend.model));
    if (runs.length === 0) return dialog();
    type Item = vscode.QuickPickItem & { file?: string };
    const browse: Item = { label: '$(folder-opened) Browse…', description: 'another results file', alwaysShow: true };
    const items: Item[] = [...runs.map((run) => ({ ...savedRunEntry(run), file: run.file })), { label: '', kind: vscode.QuickPickItemKind.Separator }, browse];
    const placeHolder = many ? 'Tick the runs to compare with the one shown' : 'A kept or saved run';
    const picked: Item[] | undefined = many
      ? await vscode.window.showQuickPick(items, { title, placeHolder, canPickMany: true, matchOnDescription: true })
      : await vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true }).then((item) => (item ? [item] : undefined));
    if (!picked || picked.length === 0) return undefined;
    if (picked.includes(browse)) return dialog();
    return picked.flatMap((item) => (item.file ? [vscode.Uri.file(item.file)] : []));
  }

  /** Where "Save Results" writes by default (beside the kept runs, outside the workspace being packed). */
  private savedDir(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'saved-probes');
  }

  /** Adds saved runs' RULER averages to the chart and the table, beside whatever the panel shows. */
  async compare(target?: vscode.Uri | vscode.Uri[]): Promise<ProbesViewState | undefined> {
    try {
      const uris = target === undefined
        ? await this.pickSavedRuns('Compare With Saved Probe Results', 'Compare', true)
        : Array.isArray(target) ? target : [target];
      if (!uris || uris.length === 0) return undefined;
      const skippedSelf: string[] = [];
      for (const uri of uris) {
        const file = uri.fsPath || uri.toString();
        const result = parseProbeResults(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), file);
        // never a run beside itself (the file shown, or the same run saved elsewhere), nor one already compared
        const shown = this.state.result?.metadata;
        if (file === this.state.file || (shown && shown.startedAt === result.metadata.startedAt && shown.backend.model === result.metadata.backend.model)
          || this.state.comparisons.some((c) => c.file === file)) {
          skippedSelf.push(basename(file));
          continue;
        }
        const label = `${result.metadata.backend.model} · ${result.metadata.startedAt.slice(0, 10)} · ${result.metadata.lengths.map(formatLength).join('/')}`
          + `${isCurrentSuite(result) ? '' : ` (${result.metadata.suiteVersion})`}`;
        this.dispatch({ type: 'compare', comparison: { label, file, scores: result.scores } });
      }
      if (skippedSelf.length > 0) {
        void vscode.window.showInformationMessage(`ProLong: ${skippedSelf.join(', ')} ${skippedSelf.length === 1 ? 'is' : 'are'} the run shown or already compared; left out of the comparison.`);
      }
      this.showPanel();
      return this.state;
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  /** Writes the results as JSON (and the CSV table beside it), or only the CSV when a .csv name is chosen. */
  async save(target?: vscode.Uri): Promise<vscode.Uri[] | undefined> {
    try {
      const result = this.resultToSave();
      if (!result) throw new UserError('There are no probe results to save yet.', 'Run "ProLong: Run Context Probes" and wait for it to finish (or cancel it: partial results save too).');
      const date = result.metadata.startedAt.slice(0, 10);
      const name = `prolong-probes-${result.metadata.backend.model.replace(/[^\w.-]+/g, '_')}-${date}.json`;
      // the extension's storage by default (beside the kept runs), not the workspace being packed: results written
      // there would be packed into the next question's context
      const saved = this.savedDir();
      if (!target) await vscode.workspace.fs.createDirectory(saved);
      const uri = target ?? await vscode.window.showSaveDialog({
        title: 'Save Probe Results', saveLabel: 'Save Results', defaultUri: vscode.Uri.joinPath(saved, name),
        filters: { 'Probe results (JSON, with the CSV table beside it)': ['json'], 'Scores table (CSV)': ['csv'] },
      });
      if (!uri) return undefined;
      const encoder = new TextEncoder();
      const written: vscode.Uri[] = [];
      if (uri.path.toLowerCase().endsWith('.csv')) {
        await vscode.workspace.fs.writeFile(uri, encoder.encode(resultsCsv(result)));
        written.push(uri);
      } else {
        await vscode.workspace.fs.writeFile(uri, encoder.encode(JSON.stringify(result, null, 1)));
        const csv = uri.with({ path: uri.path.replace(/(\.json)?$/i, '.csv') });
        await vscode.workspace.fs.writeFile(csv, encoder.encode(resultsCsv(result)));
        written.push(uri, csv);
        this.dispatch({ type: 'saved', file: uri.fsPath || uri.toString() });
      }
      void vscode.window.showInformationMessage(`ProLong: saved ${written.map((w) => w.path.slice(w.path.lastIndexOf('/') + 1)).join(' and ')}.`);
      return written;
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  /** Copies the results as `prolong probe` prints them (tables per task and length, effective length, heatmaps). */
  async copySummary(): Promise<string | undefined> {
    const result = this.resultToSave();
    if (!result) {
      void vscode.window.showInformationMessage('ProLong: there are no probe results to copy yet.');
      return undefined;
    }
    const text = formatResults(result);
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage('ProLong: probe results copied as text tables.');
    return text;
  }

  /** The results with the effective length at the panel's threshold (the user may have changed it there). */
  private resultToSave(): ProbeRunResult | undefined {
    const result = this.state.result;
    if (!result) return undefined;
    if (result.ruler.threshold === this.state.threshold) return result;
    return { ...result, ruler: rulerEffectiveLength(result.scores, this.state.threshold) };
  }

  private onMessage(message: ToExtension): void {
    switch (message.type) {
      case 'ready': this.panel?.post(this.wholeState()); return;
      case 'cancel': this.cancel(); return;
      case 'save': void this.save(); return;
      case 'open': void this.open(); return;
      case 'compare': void this.compare(); return;
      case 'clearComparisons': this.dispatch({ type: 'clear-comparisons' }); return;
      case 'copySummary': void this.copySummary(); return;
      case 'newRun': void this.runCommand(undefined); return;
      case 'runAgain': {
        const plan = this.lastPlan ?? this.state.plan;
        void this.runCommand(plan ? { tasks: plan.tasks, lengths: plan.lengths, samples: plan.samples, seed: plan.seed } : undefined);
        return;
      }
      case 'setThreshold':
        if (Number.isFinite(message.threshold) && message.threshold > 0 && message.threshold <= 100) this.dispatch({ type: 'threshold', threshold: message.threshold });
    }
  }

  private dispatch(action: PanelAction): void {
    this.state = reduce(this.state, action);
    this.updateStatus();
    if (action.type === 'probe' && action.event.type === 'prefill') {
      this.pendingPrefill = action;
      this.prefillTimer ??= setTimeout(() => {
        this.prefillTimer = undefined;
        const pending = this.pendingPrefill;
        this.pendingPrefill = undefined;
        if (pending) this.panel?.post({ type: 'action', action: pending });
      }, PREFILL_POST_MS);
      return;
    }
    this.panel?.post({ type: 'action', action });
  }

  private updateStatus(): void {
    const state = this.state;
    if (!isActive(state)) {
      this.statusItem.hide();
      return;
    }
    const progress = state.total > 0 ? `${state.done}/${state.total}` : 'preparing';
    this.statusItem.text = `$(beaker~spin) Probes ${state.phase === 'cancelling' ? 'cancelling' : progress}`;
    this.statusItem.tooltip = 'ProLong context probes are running: click to show the panel';
    this.statusItem.show();
  }

  private wholeState(): ToWebview {
    return { type: 'state', state: this.state };
  }

  private showPanel(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.panel = new ProbesPanel(this.context.extensionUri, (message) => this.onMessage(message), () => { this.panel = undefined; }, undefined, () => this.wholeState());
  }

  private announce(result: ProbeRunResult): void {
    const { ruler } = result;
    const effective = ruler.averages.length === 0 ? 'no RULER task ran at every length'
      : ruler.effectiveLength === null ? `the RULER average is below ${ruler.threshold} at every length`
        : `effective length ${formatLength(ruler.effectiveLength)} (RULER average ≥ ${ruler.threshold})`;
    const what = result.metadata.error !== undefined ? `Probe run stopped by an error (${result.metadata.error})` : result.metadata.cancelled ? 'Probe run cancelled' : 'Probes finished';
    void vscode.window.showInformationMessage(`ProLong: ${what}: ${result.instances.length} instances, ${effective}.`, 'Show Results', 'Save Results…').then((choice) => {
      if (choice === 'Show Results') this.showPanel();
      if (choice === 'Save Results…') void this.save();
    });
  }

  private showError(error: unknown): void {
    const text = errorMessage(error);
    const settingsButton = /prolong\.(server|engine|backend)/.test(text) ? ['Open Settings'] : [];
    void vscode.window.showErrorMessage(`ProLong probes: ${text}`, ...settingsButton).then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'prolong.');
    });
  }

  dispose(): void {
    this.running?.abort();
    clearTimeout(this.prefillTimer);
    this.statusItem.dispose();
    this.configListener.dispose();
    this.panel?.dispose();
  }
}
