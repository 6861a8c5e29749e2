/**
 * Settings read in more than one place, read once here so every reader agrees (trimming, defaults, validation).
 */
import * as vscode from 'vscode';
import { ENGINE_SECTION, readEngineSettings, type EngineSettings } from '../engine/runtime/engineSettings';
import { tokenizerBesideModel } from '../engine/tokenizer';

export type BackendSetting = 'remote' | 'local';

/** Which backend prolong.backend asks for. */
export function backendSetting(): BackendSetting {
  return vscode.workspace.getConfiguration('prolong').get<string>('backend') === 'local' ? 'local' : 'remote';
}

/** prolong.tokenizer.path, trimmed; undefined when empty (the bundled Llama 3 tokenizer). */
export function tokenizerPathSetting(): string | undefined {
  return vscode.workspace.getConfiguration('prolong.tokenizer').get<string>('path')?.trim() || undefined;
}

/** The prolong.engine.* settings, checked by readEngineSettings; `warnings` name the values it dropped. */
export function engineSettings(): { settings: EngineSettings; warnings: string[] } {
  const config = vscode.workspace.getConfiguration(ENGINE_SECTION);
  return readEngineSettings((name) => config.get(name));
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

/** The local engine's context before its model loads: prolong.engine.contextTokens when it is set. */
export function configuredEngineContext(): number | undefined {
  if (backendSetting() !== 'local') return undefined;
  const tokens = engineSettings().settings.contextTokens;
  return tokens > 0 ? tokens : undefined;
}
