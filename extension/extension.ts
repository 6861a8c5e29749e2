import * as vscode from 'vscode';
import { registerServerCommands } from './server';
import { WorkspacePacking } from './pack';
import type { ProlongExtensionApi } from './api';

export function activate(context: vscode.ExtensionContext): ProlongExtensionApi {
  const packing = new WorkspacePacking(context);
  packing.register();
  registerServerCommands(context, { packedTokens: () => packing.lastPack?.result.totalTokens });
  return { lastPack: () => packing.lastPack };
}

export function deactivate(): void {}
