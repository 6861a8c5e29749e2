/**
 * HTML for our webviews, done the way VS Code recommends: a strict Content-Security-Policy with a per-load nonce,
 * scripts and styles only from the extension's `out/webview` and `media` folders (through asWebviewUri), nothing
 * inline but the nonce'd script tag.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../../webview/shared/escape';

/** Folders a webview may load from: give them as `localResourceRoots`. */
export function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'out', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export interface WebviewPage {
  title: string;
  /** Bundle name under out/webview/ (from build.mjs webEntries), without .js. */
  script: string;
  /** Optional stylesheet under media/. */
  stylesheet?: string;
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', 'webview', `${page.script}.js`));
  const style = page.stylesheet ? webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.stylesheet)) : undefined;
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'unsafe-inline'`, // the toolkit's web components set inline styles
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${style ? `<link rel="stylesheet" href="${style}">` : ''}
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

