/**
 * "ProLong: Install llama.cpp Runtime": picks the llama.cpp build for this machine (Vulkan, CUDA, Metal or CPU),
 * installs it with npm into the extension's storage (a cancellable progress notification showing npm's lines), and
 * restarts the engine so that a model with a GGUF runs on it. The runtime is not in the VSIX (see install.ts).
 */
import * as vscode from 'vscode';
import { CancelledError, errorMessage } from '../../engine/errors';
import { availableBinaries, binaryDescriptions, installedRuntime, installLlamaCpp, packagesFor, type LlamaCppBinary } from '../../engine/runtime/llamacpp/install';
import { llamaCppDir, restartBackend } from '../backend';
import { withCancellation } from '../cancellation';

export function registerLlamaCppInstall(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('prolong.installLlamaCpp', (binary?: LlamaCppBinary) => install(context, binary)));
}

async function install(context: vscode.ExtensionContext, given?: LlamaCppBinary): Promise<void> {
  const dir = llamaCppDir(context);
  const choices = availableBinaries();
  if (choices.length === 0) {
    void vscode.window.showErrorMessage(`ProLong: there is no llama.cpp build for ${process.platform}-${process.arch}; the built-in onnxruntime engine runs models here.`);
    return;
  }
  let binary = given && choices.includes(given) ? given : undefined;
  if (!binary) {
    const present = installedRuntime(dir);
    const picked = await vscode.window.showQuickPick(choices.map((b) => ({
      label: b === 'cpu' ? 'CPU' : b === 'cuda' ? 'CUDA' : b[0]!.toUpperCase() + b.slice(1), description: binaryDescriptions[b], binary: b,
      detail: packagesFor(b).some((spec) => present?.binaries.some((name) => spec.startsWith(`@node-llama-cpp/${name}@`))) ? 'installed' : undefined,
    })), { title: 'Install the llama.cpp runtime', placeHolder: `Which build of llama.cpp? It goes into ${dir}, by npm.` });
    if (!picked) return;
    binary = picked.binary;
  }
  const chosen = binary;
  try {
    const installed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: installing llama.cpp (${chosen})`, cancellable: true },
      (progress, token) => withCancellation(token, (signal) => installLlamaCpp(dir, chosen, {
        signal, onOutput: (line) => progress.report({ message: line.length > 90 ? `${line.slice(0, 87)}...` : line }),
      })));
    restartBackend();
    void vscode.window.showInformationMessage(`ProLong: llama.cpp runtime installed (node-llama-cpp ${installed.version}, ${installed.binaries.join(', ')}). `
      + 'A model converted with --gguf, or a .gguf file, now runs on it where it finds a GPU (prolong.engine.runtime).');
  } catch (error) {
    if (error instanceof CancelledError) { void vscode.window.showInformationMessage('ProLong: llama.cpp install cancelled; nothing was kept.'); return; }
    void vscode.window.showErrorMessage(`ProLong: ${errorMessage(error)}`);
  }
}
