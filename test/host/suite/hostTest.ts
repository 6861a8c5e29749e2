/**
 * The in-host test registry, shared by the suite's files (index.ts runs them in registration order): `hostTest`
 * adds a test, `log` writes a line the harness collects, `api` activates the extension and returns its API.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import type { ProlongExtensionApi } from '../../../extension/api';

export type HostTest = { name: string; run: () => Promise<void> };
export const tests: HostTest[] = [];
export const hostTest = (name: string, run: () => Promise<void>): void => { tests.push({ name, run }); };
export const log = (line: string): void => console.log(`[prolong-host] ${line}`);

export async function api(): Promise<ProlongExtensionApi> {
  const extension = vscode.extensions.getExtension<ProlongExtensionApi>('prolong.prolong-vscode');
  assert.ok(extension, 'the extension prolong.prolong-vscode is installed in the host');
  return extension.isActive ? extension.exports : await extension.activate();
}
