/**
 * The "Ask" webview view in the ProLong side bar: renders the AskSession's state, forwards what the user does.
 * The webview's content is rebuilt each time the view is shown again; it then asks for the whole state
 * ('ready'), so nothing depends on messages sent while it was hidden.
 */
import * as vscode from 'vscode';
import { webviewHtml, webviewRoots } from '../webviews/html';
import { isAskToExtension, type PanelAction, type ToExtension, type ToWebview } from '../../webview/ask/protocol';
import { backendSetting, onDidChangeBackend } from '../backend';
import type { AskSession } from './askSession';

export const ASK_VIEW_ID = 'prolong.ask';
/** How long a focus request waits for a webview that is still loading. */
const PENDING_FOCUS_MS = 10_000;

export class AskViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private pendingFocus: { message: ToWebview; until: number } | undefined;
  /** The current view's subscriptions (a view is resolved again each time VS Code recreates it). */
  private viewSubscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly session: () => AskSession) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeViewSubscriptions();
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: webviewRoots(this.extensionUri) };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, { title: 'Ask', script: 'ask', stylesheet: 'ask.css' });
    this.viewSubscriptions = [
      view.webview.onDidReceiveMessage((message: unknown) => { if (isAskToExtension(message)) this.receive(message); }),
      view.onDidChangeVisibility(() => { if (view.visible) void this.session().refreshBackendInfo(); }),
      onDidChangeBackend(() => { if (view.visible) void this.session().refreshBackendInfo(); }),
      view.onDidDispose(() => {
        if (this.view !== view) return;
        this.view = undefined;
        this.disposeViewSubscriptions();
      }),
    ];
  }

  private disposeViewSubscriptions(): void {
    for (const subscription of this.viewSubscriptions) subscription.dispose();
    this.viewSubscriptions = [];
  }

  post(message: ToWebview): void {
    // Dropped while the view is hidden; the webview asks for everything again when it comes back.
    void this.view?.webview.postMessage(message);
  }

  postState(): void {
    if (!this.view) return;
    this.post({ type: 'state', state: this.session().state() });
  }

  /**
   * Shows the view and puts the cursor in the question box; with a selection in a packed file, the box starts
   * with its citation (`src/a.ts:12-20`), so the question can be about it.
   */
  async reveal(): Promise<void> {
    const reference = this.selectionReference();
    await vscode.commands.executeCommand(`${ASK_VIEW_ID}.focus`);
    const focus: ToWebview = { type: 'focus', reference };
    this.post(focus);
    // A webview that is still loading misses that message: it gets it with its state on 'ready' (if soon).
    this.pendingFocus = { message: focus, until: Date.now() + PENDING_FOCUS_MS };
  }

  private selectionReference(): string | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) return undefined;
    // before the first pack, the selection's workspace folder (the question's pack keeps the file: it is open)
    const packed = this.session().packedFolder();
    const folder = packed ?? vscode.workspace.getWorkspaceFolder(editor.document.uri);
    if (!folder) return undefined;
    const prefix = folder.uri.toString() + '/';
    const uri = editor.document.uri.toString();
    if (!uri.startsWith(prefix)) return undefined;
    const path = decodeURIComponent(uri.slice(prefix.length));
    if (packed && !this.session().packedPaths().includes(path)) return undefined;
    const { start, end } = editor.selection;
    const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
    return last > start.line ? `${path}:${start.line + 1}-${last + 1}` : `${path}:${start.line + 1}`;
  }

  private receive(message: ToExtension): void {
    const session = this.session();
    switch (message.type) {
      case 'ready':
        this.post({ type: 'paths', paths: session.packedPaths() });
        this.postState();
        if (this.pendingFocus && Date.now() < this.pendingFocus.until) this.post(this.pendingFocus.message);
        this.pendingFocus = undefined;
        void session.refreshBackendInfo();
        return;
      case 'ask':
        void session.ask(message.question);
        return;
      case 'cancel':
        session.cancel();
        return;
      case 'newConversation':
        session.newConversation();
        return;
      case 'draft':
        session.setDraft(message.question);
        this.postState();
        return;
      case 'openFile':
        void this.openFile(message.path, message.line, message.endLine);
        return;
      case 'action':
        void runAction(message.action, session.packedFolder());
        return;
      case 'retry':
        void session.retry(message.turnId);
        return;
      case 'askWithLeftOut':
        void session.askWithLeftOut(message.turnId);
        return;
      case 'copyAnswer': {
        const answer = session.answerOf(message.turnId);
        if (answer !== undefined) void vscode.env.clipboard.writeText(answer);
        return;
      }
      case 'code':
        if (message.action === 'copy') void vscode.env.clipboard.writeText(message.code);
        else void insertAtCursor(message.code);
        return;
    }
  }

  /** Opens a cited file at its line; only files of the pack (the webview is not trusted with arbitrary paths). */
  private async openFile(path: string, line?: number, endLine?: number): Promise<void> {
    const session = this.session();
    const folder = session.packedFolder();
    if (!folder || !session.packedPaths().includes(path)) {
      void vscode.window.showWarningMessage(`ProLong: ${path} is not a file of the packed workspace.`);
      return;
    }
    const uri = vscode.Uri.joinPath(folder.uri, ...path.split('/'));
    try {
      const document = await vscode.workspace.openTextDocument(uri);
      let selection: vscode.Range | undefined;
      if (line !== undefined) {
        const first = Math.min(Math.max(line, 1), document.lineCount) - 1;
        const last = Math.min(Math.max(endLine ?? line, line), document.lineCount) - 1;
        selection = new vscode.Range(first, 0, last, document.lineAt(last).text.length);
      }
      const editor = await vscode.window.showTextDocument(document, { preview: true, selection, viewColumn: vscode.ViewColumn.Active });
      if (selection) editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (error) {
      void vscode.window.showErrorMessage(`ProLong: cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  dispose(): void {
    this.disposeViewSubscriptions();
  }
}

/** Inserts a code block's text at the cursor (replacing the selection) of the editor the user last worked in. */
async function insertAtCursor(code: string): Promise<void> {
  const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
  if (!editor) {
    void vscode.window.showWarningMessage('ProLong: open a file in an editor to insert the code into; it is on the clipboard instead.');
    await vscode.env.clipboard.writeText(code);
    return;
  }
  await editor.edit((edit) => { for (const selection of editor.selections) edit.replace(selection, code); });
  await vscode.window.showTextDocument(editor.document, editor.viewColumn);
}

async function runAction(action: PanelAction, folder: vscode.WorkspaceFolder | undefined): Promise<void> {
  switch (action) {
    case 'packWorkspace':
      await vscode.commands.executeCommand('prolong.packWorkspace');
      return;
    case 'showPackReport':
      await vscode.commands.executeCommand('prolong.showPackReport');
      return;
    case 'configureServer':
      await vscode.commands.executeCommand('prolong.configureServer');
      return;
    case 'runProbes':
      await vscode.commands.executeCommand('prolong.runProbes');
      return;
    case 'openTokenBudgetSetting':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'prolong.pack.tokenBudget');
      return;
    case 'openAnswerTokensSetting':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'prolong.ask.maxAnswerTokens');
      return;
    case 'newConversation':
      await vscode.commands.executeCommand('prolong.newConversation');
      return;
    case 'openBackendSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', backendSetting() === 'local' ? 'prolong.engine' : 'prolong.backend');
      return;
    case 'openFolder':
      await vscode.commands.executeCommand('workbench.action.files.openFolder');
      return;
    case 'chooseLocalModel':
    case 'switchModel': {
      // the models picker, where the extension has one; else the settings it would set
      if ((await vscode.commands.getCommands(true)).includes('prolong.selectModel')) {
        await vscode.commands.executeCommand('prolong.selectModel');
        return;
      }
      await vscode.commands.executeCommand('workbench.action.openSettings', action === 'chooseLocalModel' ? 'prolong.engine.modelPath' : 'prolong.backend');
      return;
    }
    case 'openProlongIgnore': {
      const root = folder ?? vscode.workspace.workspaceFolders?.[0];
      if (!root) return;
      const uri = vscode.Uri.joinPath(root.uri, '.prolongignore');
      try {
        await vscode.workspace.fs.stat(uri);
      } catch {
        const header = '# Paths ProLong leaves out of the packed repository (gitignore syntax), e.g.\n# docs/\n# **/*.snap\n';
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(header));
      }
      await vscode.window.showTextDocument(uri);
      return;
    }
  }
}
