/**
 * The one place that turns settings into the Backend the panels (Ask, Probes) use: `prolong.backend` picks
 * "remote" (the configured server, API key from SecretStorage) or "local" (the bundled engine on
 * `prolong.engine.modelPath`, or on the bundled demo model when that is empty, run in its own process); "auto" is
 * the server when one is configured, else local. The backend is built on first use, cached, rebuilt when
 * a setting it depends on or the server's API key changes, and disposed on deactivation.
 *
 *   registerBackend(context)          once, in activate()
 *   await getBackend()                the current Backend, or a UserError naming the setting to fix
 *   onDidChangeBackend(() => ...)     settings changed: the next getBackend() builds a new one
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import { createBackend } from '../engine/backends/factory';
import { buildDurations } from '../engine/runtime/llamacpp/build';
import { LocalBackend, type LlamaCppGpu } from '../engine/runtime/localBackend';
import { EXTENSION_SETTINGS } from '../engine/settingNames';
import type { Backend } from '../engine/backends/types';
import { ENGINE_SECTION } from '../engine/runtime/engineSettings';
import { sidecarFileName } from '../kernels/sidecar';
import { backendSetting, engineSettings, tokenizerPathSetting, usesDemoModel } from './settings';
import { DEMO_MODEL_NAME, demoModelNotice } from '../engine/models/demoModel';
import { createServerBackend } from './server';

export { backendSetting, type BackendSetting } from './settings';

/** Settings whose change means a different backend. */
const SECTIONS = ['prolong.backend', 'prolong.server', ENGINE_SECTION, 'prolong.tokenizer'];

let state: {
  context: vscode.ExtensionContext;
  current?: Promise<Backend>;
  /** Set by tests through the extension API: answers instead of the configured backend. */
  override?: Backend;
  changed: vscode.EventEmitter<void>;
} | undefined;

export function registerBackend(context: vscode.ExtensionContext): void {
  const changed = new vscode.EventEmitter<void>();
  state = { context, changed };
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (SECTIONS.some((section) => event.affectsConfiguration(section))) invalidate();
    }),
    context.secrets.onDidChange((event) => {
      if (event.key.startsWith('prolong.server.apiKey')) invalidate();
    }),
    { dispose: () => { void disposeCurrent(); state = undefined; } },
  );
}

/** True when asking the backend for its info is cheap (no model load): the remote server, or a test's backend. */
export function backendInfoIsCheap(): boolean {
  return state?.override !== undefined || backendSetting() === 'remote';
}

/**
 * The bundled demo model's name and notice when the settings say it answers, for a panel to show before the first
 * question loads it (its info is not cheap); undefined for any other backend, whose info says itself.
 */
export function demoModelBeforeLoad(): { name: string; notice: string } | undefined {
  if (backendInfoIsCheap() || !usesDemoModel()) return undefined;
  return { name: DEMO_MODEL_NAME, notice: demoModelNotice(EXTENSION_SETTINGS) };
}

/** The backend for the current settings (built once, then shared). Rejects with a UserError naming what to configure. */
export function getBackend(): Promise<Backend> {
  if (!state) return Promise.reject(new Error('the ProLong backend is used before the extension activated'));
  if (state.override) return Promise.resolve(state.override);
  if (!state.current) {
    const building = build(state.context);
    state.current = building;
    // A failed build is not cached: the next call tries again (after the user fixed the setting).
    building.catch(() => { if (state?.current === building) state.current = undefined; });
  }
  return state.current;
}

export function onDidChangeBackend(listener: () => void): vscode.Disposable {
  if (!state) throw new Error('the ProLong backend is used before the extension activated');
  return state.changed.event(listener);
}

/** Tests: answer with `backend` instead of the configured one (undefined: back to the settings). Not disposed here. */
export function overrideBackend(backend: Backend | undefined): void {
  if (!state) throw new Error('the ProLong backend is used before the extension activated');
  state.override = backend;
  state.changed.fire();
}

function invalidate(): void {
  if (!state) return;
  void disposeCurrent();
  state.changed.fire();
}

async function disposeCurrent(): Promise<void> {
  const current = state?.current;
  if (state) state.current = undefined;
  // A request still running on the old backend ends as 'cut' or with an error; the panels say so.
  const backend = await current?.catch(() => undefined);
  await backend?.dispose().catch(() => undefined);
}

async function build(context: vscode.ExtensionContext): Promise<Backend> {
  if (backendSetting() === 'remote') return createServerBackend(context);
  const { settings, warnings } = engineSettings();
  for (const warning of warnings) void vscode.window.showWarningMessage(`ProLong: ${warning}`);
  // checked here, so the message names the setting (the engine alone would only name the missing file); no model
  // path at all is the bundled demo model (createBackend's default), whose answers come with its notice
  if (settings.modelDir && !existsSync(settings.modelDir)) {
    throw new UserError(`prolong.engine.modelPath names ${settings.modelDir}, which does not exist.`,
      'Run "ProLong: Select Model" to pick a converted model, or set prolong.engine.modelPath to a converted model\'s folder (absolute, ~/…, or relative to the workspace folder).');
  }
  if (settings.modelDir && !settings.modelDir.toLowerCase().endsWith('.gguf') && !existsSync(join(settings.modelDir, sidecarFileName))) {
    throw new UserError(`prolong.engine.modelPath names ${settings.modelDir}, which has no ${sidecarFileName}: it is not a converted model.`,
      'Run "ProLong: Select Model" to convert a Hugging Face checkpoint (it sets this setting), or set it to a folder the converter wrote.');
  }
  const backend = createBackend({
    ...settings, llamaCppDir: llamaCppDir(context), tokenizerPath: tokenizerPathSetting(),
    prefixCacheDir: join(context.globalStorageUri.fsPath, 'prefix-cache'), settingNames: EXTENSION_SETTINGS,
  });
  if (backend instanceof LocalBackend) backend.onGpuLeftOut = offerLlamaCppBuild;
  return backend;
}

/** A llama.cpp GPU backend stopped the engine (a prebuilt binary this driver cannot run): offer to build one here. */
function offerLlamaCppBuild(gpu: LlamaCppGpu): void {
  const build = 'Build for This Machine';
  const buildable = gpu === 'cuda' || gpu === 'vulkan';
  void vscode.window.showWarningMessage(`ProLong: llama.cpp's ${gpu} backend stopped the engine (its prebuilt binary does not run with this driver); the engine goes on without it.`
    + (buildable ? ` Building llama.cpp on this machine (${buildDurations}) makes one that does.` : ''), ...(buildable ? [build] : []))
    .then((choice) => { if (choice === build) void vscode.commands.executeCommand('prolong.installLlamaCpp', gpu, true); });
}

/**
 * The llama.cpp runtime's folder: prolong.engine.llamaCppPath, else the extension's global storage, where
 * "ProLong: Install llama.cpp Runtime" installs it and the engine finds it.
 */
export function llamaCppDir(context: vscode.ExtensionContext): string {
  return engineSettings().settings.llamaCppDir || join(context.globalStorageUri.fsPath, 'llama.cpp');
}

/** The engine process restarts with the current settings (after the llama.cpp runtime was installed). */
export function restartBackend(): void {
  invalidate();
}
