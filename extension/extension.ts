import * as vscode from 'vscode';
import { registerServerCommands } from './server';
import { WorkspacePacking } from './pack';

export function activate(context: vscode.ExtensionContext): void {
  const packing = new WorkspacePacking(context);
  packing.register();
  registerServerCommands(context, { packedTokens: () => packing.lastPack?.result.totalTokens });
}

export function deactivate(): void {}
