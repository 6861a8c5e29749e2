/**
 * The "ProLong Probes" WebviewPanel: one per window, typed messages both ways. The webview is not kept alive
 * while hidden (a long results table would cost memory): it says 'ready' each time it loads and gets the whole
 * state, and changes are only posted while it is ready.
 */
import * as vscode from 'vscode';
import { webviewHtml, webviewRoots } from '../webviews/html';
import { isProbesToExtension, type ToExtension, type ToWebview } from '../../webview/probes/protocol';

export const PROBES_VIEW_TYPE = 'prolong.probes';

export class ProbesPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private ready = false;
  private disposed = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  /** Opens a new panel, or takes over `restored` (a panel VS Code brings back after a window reload). */
  constructor(
    extensionUri: vscode.Uri, onMessage: (message: ToExtension) => void, onDidDispose: () => void, restored?: vscode.WebviewPanel,
    /** The whole state, sent when the panel shows again (a webview that lived on while moved needs no reload to catch up). */
    wholeState?: () => ToWebview,
  ) {
    const options = { enableScripts: true, localResourceRoots: webviewRoots(extensionUri) };
    this.panel = restored ?? vscode.window.createWebviewPanel(PROBES_VIEW_TYPE, 'ProLong Probes', vscode.ViewColumn.Active, options);
    if (restored) restored.webview.options = options;
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'prolong.svg');
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, { title: 'ProLong Probes', script: 'probes' });
    this.subscriptions.push(
      this.panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isProbesToExtension(message)) return;
        if (message.type === 'ready') this.ready = true;
        onMessage(message);
      }),
      this.panel.onDidChangeViewState(() => {
        // A reloading webview drops this and says 'ready' (then gets the state again); a live one catches up now.
        this.ready = this.panel.visible;
        if (this.panel.visible && wholeState) this.post(wholeState());
      }),
      this.panel.onDidDispose(() => { this.ready = false; this.dispose(); onDidDispose(); }),
    );
  }

  /** True while the webview is loaded and listening. */
  get isReady(): boolean {
    return this.ready;
  }

  post(message: ToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.panel.dispose();
  }
}
