/**
 * "ProLong: Install llama.cpp Runtime": picks the llama.cpp build for this machine (Vulkan, CUDA, Metal or CPU, or a
 * CUDA or Vulkan binary built here from node-llama-cpp's bundled source, build.ts), installs it with npm into the
 * extension's storage (a cancellable progress notification showing npm's or the build's lines), and restarts the engine so that a model with a GGUF runs on it. The runtime is not in the VSIX (see install.ts).
 */
import * as vscode from 'vscode';
import { CancelledError, errorMessage } from '../../engine/errors';
import { availableBinaries, binaryDescriptions, installedRuntime, installLlamaCpp, packagesFor, type LlamaCppBinary } from '../../engine/runtime/llamacpp/install';
import { buildDurations, buildLlamaCpp } from '../../engine/runtime/llamacpp/build';
import { llamaCppDir, restartBackend } from '../backend';
import { withCancellation } from '../cancellation';

export function registerLlamaCppInstall(context: vscode.ExtensionContext): void {
  // arguments (optional): the binary, and true to build it here (the engine's offer after a GPU backend stopped it)
  context.subscriptions.push(vscode.commands.registerCommand('prolong.installLlamaCpp', (binary?: LlamaCppBinary, buildHere?: boolean) => install(context, binary, buildHere === true)));
}

async function install(context: vscode.ExtensionContext, given?: LlamaCppBinary, buildGiven = false): Promise<void> {
  const dir = llamaCppDir(context);
  const choices = availableBinaries();
  if (choices.length === 0) {
    void vscode.window.showErrorMessage(`ProLong: there is no llama.cpp build for ${process.platform}-${process.arch}; the built-in onnxruntime engine runs models here.`);
    return;
  }
  let binary = given && choices.includes(given) ? given : undefined;
  let build = binary !== undefined && buildGiven;
  if (!binary) {
    const present = installedRuntime(dir);
    const items: BinaryItem[] = choices.map((b) => ({
      label: binaryLabel(b), description: binaryDescriptions[b], binary: b, build: false,
      detail: packagesFor(b).some((spec) => present?.binaries.some((name) => spec.startsWith(`@node-llama-cpp/${name}@`))) ? 'installed' : undefined,
    }));
    // a prebuilt GPU binary can fail on a machine (a CUDA driver older than the binary's toolkit): build one here
    for (const b of choices.filter((c) => c === 'cuda' || c === 'vulkan')) {
      items.push({
        label: `Build for this machine: ${binaryLabel(b)}`, binary: b, build: true,
        description: `compiles llama.cpp here (${buildDurations}); needs CMake, git, a C++ compiler${b === 'cuda' ? ' and the CUDA toolkit' : ' and the Vulkan SDK'}`,
        detail: present?.builtHere.some((name) => name.includes(b)) ? 'built here' : undefined,
      });
    }
    const picked = await vscode.window.showQuickPick(items, { title: 'Install the llama.cpp runtime', placeHolder: `Which build of llama.cpp? It goes into ${dir}, by npm.` });
    if (!picked) return;
    binary = picked.binary;
    build = picked.build;
  }
  const chosen = binary;
  const verb = build ? 'building' : 'installing';
  try {
    const installed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProLong: ${verb} llama.cpp (${chosen})`, cancellable: true },
      (progress, token) => withCancellation(token, (signal) => {
        const onOutput = (line: string) => progress.report({ message: line.length > 90 ? `${line.slice(0, 87)}...` : line });
        return build ? buildLlamaCpp(dir, chosen, { signal, onOutput }) : installLlamaCpp(dir, chosen, { signal, onOutput });
      }));
    restartBackend();
    void vscode.window.showInformationMessage(`ProLong: llama.cpp runtime ${build ? 'built' : 'installed'} (node-llama-cpp ${installed.version}, ${installed.binaries.join(', ')}). `
      + 'A model converted with --gguf, or a .gguf file, now runs on it where it finds a GPU (prolong.engine.runtime).');
  } catch (error) {
    if (error instanceof CancelledError) { void vscode.window.showInformationMessage(`ProLong: llama.cpp ${build ? 'build' : 'install'} cancelled; the runtime is as it was.`); return; }
    void vscode.window.showErrorMessage(`ProLong: ${errorMessage(error)}`);
  }
}

interface BinaryItem extends vscode.QuickPickItem { binary: LlamaCppBinary; build: boolean }

function binaryLabel(binary: LlamaCppBinary): string {
  return binary === 'cpu' ? 'CPU' : binary === 'cuda' ? 'CUDA' : binary[0]!.toUpperCase() + binary.slice(1);
}
