/**
 * Settings read in more than one place, read once here so every reader agrees (trimming, defaults, validation).
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { ENGINE_SECTION, readEngineSettings, type EngineSettings } from '../engine/runtime/engineSettings';
import { tokenizerBesideModel } from '../engine/tokenizer';
import { demoModelContextLength } from '../engine/models/demoModel';
import { resolveDefinitionsIndex } from '../engine/models/packPreferences';

export type BackendSetting = 'remote' | 'local';

/**
 * Which backend answers. prolong.backend "remote" or "local" says it; "auto" (the default) means the server when
 * prolong.server.url is set, else the local engine (on prolong.engine.modelPath, or the bundled demo model).
 */
export function backendSetting(): BackendSetting {
  const value = vscode.workspace.getConfiguration('prolong').get<string>('backend');
  if (value === 'local' || value === 'remote') return value;
  return vscode.workspace.getConfiguration('prolong.server').get<string>('url')?.trim() ? 'remote' : 'local';
}

/** True when the local engine would run the bundled demo model: it is the backend and no model path is set. */
export function usesDemoModel(): boolean {
  return backendSetting() === 'local' && !engineSettings().settings.modelDir;
}

/**
 * A path setting as the user means it: `~` is the home directory, and a relative path is relative to the workspace:
 * the folder of a .code-workspace file (where a multi-root workspace keeps its settings), else the first folder;
 * never the extension host's working directory, which the user never sees.
 */
export function resolveSettingPath(path: string): string {
  if (path === '~' || path.startsWith('~/') || path.startsWith('~\\')) return join(homedir(), path.slice(1));
  if (isAbsolute(path)) return path;
  const workspaceFile = vscode.workspace.workspaceFile;
  if (workspaceFile?.scheme === 'file') return join(dirname(workspaceFile.fsPath), path);
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? join(folder.uri.fsPath, path) : resolve(path);
}

/** prolong.tokenizer.path, trimmed and resolved; undefined when empty (the bundled Llama 3 tokenizer). */
export function tokenizerPathSetting(): string | undefined {
  const path = vscode.workspace.getConfiguration('prolong.tokenizer').get<string>('path')?.trim();
  return path ? resolveSettingPath(path) : undefined;
}

/**
 * The prolong.engine.* settings, checked by readEngineSettings (the model path resolved; empty when none is set,
 * which the backend reads as the bundled demo model); `warnings` name the values it dropped.
 */
export function engineSettings(): { settings: EngineSettings; warnings: string[] } {
  const config = vscode.workspace.getConfiguration(ENGINE_SECTION);
  const read = readEngineSettings((name) => config.get(name));
  if (read.settings.modelDir) read.settings.modelDir = resolveSettingPath(read.settings.modelDir);
  if (read.settings.llamaCppDir) read.settings.llamaCppDir = resolveSettingPath(read.settings.llamaCppDir);
  return read;
}

/**
 * The tokenizer prompts are counted with, as the backend counts them: for the local engine the model directory's
 * own tokenizer.json (the engine prefers it too), else the setting, else Llama 3's.
 */
export function countingTokenizerPath(): string | undefined {
  const configured = tokenizerPathSetting();
  if (backendSetting() !== 'local') return configured;
  return tokenizerBesideModel(engineSettings().settings.modelDir) ?? configured;
}

/**
 * The local engine's context before its model loads: prolong.engine.contextTokens when it is set, else the demo
 * model's own (it always fits: 38M parameters).
 */
export function configuredEngineContext(): number | undefined {
  if (backendSetting() !== 'local') return undefined;
  const tokens = engineSettings().settings.contextTokens;
  if (tokens > 0) return tokens;
  return usesDemoModel() ? demoModelContextLength() : undefined;
}

/** prolong.pack.definitionsIndex where the user set it (folder, workspace or user settings); undefined where only the default applies. */
export function definitionsIndexSetting(scope?: vscode.ConfigurationScope): boolean | undefined {
  const inspected = vscode.workspace.getConfiguration('prolong', scope).inspect<unknown>('pack.definitionsIndex');
  const set = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
  return typeof set === 'boolean' ? set : undefined;
}

/**
 * Whether packs for the configured model get the definitions index: prolong.pack.definitionsIndex where the user set
 * it, else what the local model was trained with (its prolong_model.json); a server's model only when the setting says so.
 */
export function packDefinitionsIndex(scope?: vscode.ConfigurationScope): boolean {
  const local = backendSetting() === 'local';
  return resolveDefinitionsIndex(definitionsIndexSetting(scope), local ? engineSettings().settings.modelDir : undefined, local);
}
