import * as vscode from 'vscode';
import { registerServerCommands } from './server';

export function activate(context: vscode.ExtensionContext): void {
  registerServerCommands(context);
}

export function deactivate(): void {}
