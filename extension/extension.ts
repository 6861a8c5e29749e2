import * as vscode from 'vscode';
import { registerServerCommands } from './server';
import { WorkspacePacking } from './pack';
import { getBackend, registerBackend, overrideBackend } from './backend';
import { registerAsk } from './ask';
import { registerProbes } from './probes';
import { registerChat } from './chat';
import { registerModels } from './models';
import { registerLlamaCppInstall } from './runtime/installLlamaCpp';
import type { ProlongExtensionApi } from './api';

export function activate(context: vscode.ExtensionContext): ProlongExtensionApi {
  const packing = new WorkspacePacking(context);
  packing.register();
  registerServerCommands(context, { packedTokens: () => packing.lastPack?.result.totalTokens });
  registerBackend(context);
  const ask = registerAsk(context, packing);
  registerProbes(context, packing);
  registerModels(context);
  registerLlamaCppInstall(context);
  const chat = registerChat(context, ask);
  return { lastPack: () => packing.lastPack, overrideBackend, backendInfo: async () => (await getBackend()).info(), chat };
}

export function deactivate(): void {}
