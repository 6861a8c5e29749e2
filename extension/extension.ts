import * as vscode from 'vscode';
import { registerServerCommands } from './server';
import { WorkspacePacking } from './pack';
import { registerBackend, overrideBackend } from './backend';
import { registerAsk } from './ask';
import { registerProbes } from './probes';
import { registerModels } from './models';
import type { ProlongExtensionApi } from './api';

export function activate(context: vscode.ExtensionContext): ProlongExtensionApi {
  const packing = new WorkspacePacking(context);
  packing.register();
  registerServerCommands(context, { packedTokens: () => packing.lastPack?.result.totalTokens });
  registerBackend(context);
  registerAsk(context, packing);
  registerProbes(context, packing);
  registerModels(context);
  return { lastPack: () => packing.lastPack, overrideBackend };
}

export function deactivate(): void {}
