/**
 * Packing in the extension: "ProLong: Pack Workspace" (cancellable progress), "ProLong: Show Pack Report", a
 * status-bar item with the packed repository's exact token count against the budget, and the last pack for the
 * Ask panel and the server checks. One long-lived Packer per tokenizer, so a re-pack reads only what changed.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Packer, type PackResult } from '../../engine/packer';
import { CancelledError, errorMessage } from '../../engine/errors';
import { readPackSettings, type PackSettings } from './packSettings';
import { formatTokens, packReportMarkdown } from './packReport';
import { describeDropped } from '../../engine/packer/budget';
import { countingTokenizerPath, packDefinitionsIndex } from '../settings';
import { withCancellation } from '../cancellation';
import { groupDigits as n } from '../../webview/shared/numbers';

const REPORT_SCHEME = 'prolong-pack';

export interface LastPack {
  folder: vscode.WorkspaceFolder;
  result: PackResult;
  settings: PackSettings;
  /** The files the budget was told to keep (open in editors, or asked for). */
  pinned: string[];
}

export class WorkspacePacking implements vscode.Disposable {
  private packer: Packer | undefined;
  private packerTokenizer = '';
  private last: LastPack | undefined;
  private readonly statusItem = vscode.window.createStatusBarItem('prolong.pack', vscode.StatusBarAlignment.Right, 100);
  private readonly changed = new vscode.EventEmitter<LastPack>();
  private readonly reportChanged = new vscode.EventEmitter<vscode.Uri>();
  /** Fires after every successful pack. */
  readonly onDidPack = this.changed.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem.name = 'ProLong packed repository';
    this.statusItem.command = 'prolong.showPackReport';
    this.statusItem.text = '$(package) ProLong: not packed';
    this.statusItem.tooltip = 'Run "ProLong: Pack Workspace" to pack the workspace with exact token counts';
    this.showStatusWhenThereIsAFolder();
  }

  /** A window without a folder has nothing to pack: no status item there (it comes with the first folder). */
  private showStatusWhenThereIsAFolder(): void {
    if ((vscode.workspace.workspaceFolders ?? []).length > 0) this.statusItem.show();
    else this.statusItem.hide();
  }

  get lastPack(): LastPack | undefined {
    return this.last;
  }

  register(): void {
    const provider: vscode.TextDocumentContentProvider = {
      onDidChange: this.reportChanged.event,
      provideTextDocumentContent: (uri) => this.documentFor(uri),
    };
    this.context.subscriptions.push(
      this,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, provider),
      vscode.commands.registerCommand('prolong.packWorkspace', () => this.packCommand()),
      vscode.commands.registerCommand('prolong.showPackReport', () => this.showReport()),
      vscode.commands.registerCommand('prolong.openPackedDocument', () => this.openDocument()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.showStatusWhenThereIsAFolder()),
    );
  }

  /**
   * Packs a workspace folder with the current settings; rejects with CancelledError or a UserError. The token
   * budget never drops the files open in editors, nor `pinned` (repository-relative paths).
   */
  async pack(folder: vscode.WorkspaceFolder, onProgress?: (message: string, increment?: number) => void, token?: vscode.CancellationToken,
    pinned: readonly string[] = []): Promise<LastPack> {
    const read = readPackSettings((name) => vscode.workspace.getConfiguration('prolong', folder).get(name));
    for (const warning of read.warnings) void vscode.window.showWarningMessage(warning);
    // the index when the setting asks for it, or when it is unset and the local model was trained with it
    const settings: PackSettings = { ...read.settings, definitionsIndex: packDefinitionsIndex(folder) };
    // The model's tokenizer (the setting, else a local model's own): the budget is in the tokens the model reads.
    const packer = this.packerFor(countingTokenizerPath() ?? '');
    let reported = 0;
    const keep = [...new Set([...openEditorPaths(folder), ...pinned])];
    const result = await withCancellation(token, (signal) => packer.pack({
      root: folder.uri.fsPath, order: settings.order, budget: settings.tokenBudget, maxFileBytes: settings.maxFileBytes,
      exclude: settings.exclude, include: settings.include, repositoryName: folder.name,
      pinned: keep, definitionsIndex: settings.definitionsIndex,
    }, (progress) => {
      if (progress.phase === 'walk') onProgress?.('listing files');
      else if (progress.phase === 'read' && progress.total > 0) {
        const percent = (progress.done / progress.total) * 100;
        onProgress?.(`reading and counting ${progress.done}/${progress.total} files`, percent - reported);
        reported = percent;
      } else if (progress.phase === 'assemble') onProgress?.('assembling the document');
    }, signal));
    this.last = { folder, result, settings, pinned: keep };
    this.updateStatus();
    this.reportChanged.fire(this.reportUri());
    this.reportChanged.fire(this.documentUri());
    this.changed.fire(this.last);
    return this.last;
  }

  /** Exact tokens of `text` with the tokenizer at `tokenizerPath` ('' for Llama 3's), in the packer's worker thread. */
  countTokens(text: string, tokenizerPath: string): Promise<number> {
    try {
      return this.packerFor(tokenizerPath).countTokens(text);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private packerFor(tokenizerPath: string): Packer {
    if (this.packer && this.packerTokenizer === tokenizerPath) return this.packer;
    const storage = this.context.globalStorageUri.fsPath;
    const workspaceKey = createHash('sha1').update(vscode.workspace.workspaceFolders?.map((f) => f.uri.toString()).join('|') ?? '').digest('hex').slice(0, 16);
    // Created before the old one is retired: when the tokenizer cannot be read this throws and the old Packer stays.
    const packer = new Packer({ tokenizerPath: tokenizerPath || undefined, cacheFile: join(storage, 'packs', `${workspaceKey}.json`) });
    void this.packer?.dispose(); // finishes the packs it was given first
    this.packer = packer;
    this.packerTokenizer = tokenizerPath;
    return packer;
  }

  private async packCommand(): Promise<void> {
    const folder = await pickFolder();
    if (!folder) return;
    try {
      const { result, settings } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `ProLong: packing ${folder.name}`, cancellable: true },
        (progress, token) => this.pack(folder, (message, increment) => progress.report({ message, increment }), token),
      );
      const summary = `Packed ${result.files.length} files of ${folder.name}: ${formatTokens(result.totalTokens, settings.tokenBudget)}`
        + ` (${n(result.skipped.length - result.dropped.length)} skipped${result.dropped.length > 0
          ? `, ${n(result.dropped.length)} dropped for the budget: ${describeDropped(result.dropped)}` : ''}) in ${n(Math.round(result.ms))} ms.`;
      // Not awaited: the command is done when the pack is; the notification's buttons act whenever clicked.
      void vscode.window.showInformationMessage(summary, 'Show Report', 'Open Document').then((choice) => {
        if (choice === 'Show Report') return this.showReport();
        if (choice === 'Open Document') return this.openDocument();
        return undefined;
      });
    } catch (error) {
      if (error instanceof CancelledError) return;
      void vscode.window.showErrorMessage(`ProLong: could not pack ${folder.name}: ${errorMessage(error)}`);
    }
  }

  private async showReport(): Promise<void> {
    if (!this.last) {
      await vscode.commands.executeCommand('prolong.packWorkspace');
      if (!this.last) return;
    }
    const document = await vscode.workspace.openTextDocument(this.reportUri());
    await vscode.commands.executeCommand('markdown.showPreview', document.uri).then(undefined, () => vscode.window.showTextDocument(document));
  }

  private async openDocument(): Promise<void> {
    if (!this.last) {
      void vscode.window.showInformationMessage('Nothing is packed yet: run "ProLong: Pack Workspace" first.');
      return;
    }
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(this.documentUri()), { preview: true });
  }

  private reportUri(): vscode.Uri {
    return vscode.Uri.from({ scheme: REPORT_SCHEME, path: '/pack-report.md' });
  }

  private documentUri(): vscode.Uri {
    return vscode.Uri.from({ scheme: REPORT_SCHEME, path: '/packed-repository.txt' });
  }

  private documentFor(uri: vscode.Uri): string {
    if (!this.last) return 'Nothing is packed yet: run "ProLong: Pack Workspace".';
    if (uri.path === '/packed-repository.txt') return this.last.result.document;
    return packReportMarkdown(this.last.folder.name, this.last.result, this.last.settings.tokenBudget, 50, this.last.folder.uri.toString());
  }

  private updateStatus(): void {
    if (!this.last) return;
    const { result, settings, folder } = this.last;
    this.statusItem.text = `$(package) ProLong: ${formatTokens(result.totalTokens, settings.tokenBudget)}`;
    this.statusItem.tooltip = `ProLong: ${folder.name} packed as ${result.files.length} files, ${result.totalTokens} tokens`
      + `${result.dropped.length > 0 ? `; ${result.dropped.length} files dropped for the budget` : ''}. Click for the report.`;
    this.statusItem.backgroundColor = result.dropped.length > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.statusItem.dispose();
    this.changed.dispose();
    this.reportChanged.dispose();
    void this.packer?.dispose();
  }
}

/** Repository-relative paths of the files open in editor tabs (and the active editor's) inside `folder`. */
export function openEditorPaths(folder: vscode.WorkspaceFolder): string[] {
  const prefix = folder.uri.toString() + '/';
  const uris: vscode.Uri[] = [];
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active) uris.push(active);
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputText) uris.push(tab.input.uri);
      else if (tab.input instanceof vscode.TabInputTextDiff) uris.push(tab.input.modified);
    }
  }
  const paths = new Set<string>();
  for (const uri of uris) {
    const text = uri.toString();
    if (text.startsWith(prefix)) paths.add(decodeURIComponent(text.slice(prefix.length)));
  }
  return [...paths];
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('ProLong: open a folder first; there is no workspace folder to pack.');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to pack' });
}
