/**
 * Tests that run inside a real VS Code extension host (started by test/host/harness.ts). A minimal sequential
 * runner: each line goes to the console with a [prolong-host] prefix, which the harness collects.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoModelDir } from '../../../engine/models/demoModel';
import { api, hostTest, log, tests } from './hostTest';
import { ui } from './ui';
import './ask';
import './probes';
import './panels';
import './chat';
import './server';
import './models';

hostTest('the extension activates and registers its commands', async () => {
  await api();
  const commands = await vscode.commands.getCommands(true);
  for (const command of ['prolong.packWorkspace', 'prolong.showPackReport', 'prolong.openPackedDocument', 'prolong.configureServer', 'prolong.checkServer']) {
    assert.ok(commands.includes(command), `${command} is registered`);
  }
});

hostTest('ProLong: Pack Workspace packs the open folder by its .gitignore, with reasons for skips', async () => {
  const prolong = await api();
  await vscode.commands.executeCommand('prolong.packWorkspace');
  const last = prolong.lastPack();
  assert.ok(last, 'a pack happened');
  const paths = last.result.files.map((file) => file.path);
  assert.deepEqual(paths.filter((p) => p.startsWith('src/')), ['src/lib/util.ts', 'src/main.ts']);
  assert.ok(!paths.includes('debug.log'), '.gitignore applies');
  assert.equal(last.result.skipped.find((s) => s.path === 'logo.bin')?.reason, 'binary');
  assert.ok(last.result.totalTokens > 0 && last.result.document.startsWith(`Repository: ${last.folder.name}\n`));
});

hostTest('settings apply: prolong.pack.exclude and prolong.pack.order', async () => {
  const prolong = await api();
  const config = vscode.workspace.getConfiguration('prolong');
  await config.update('pack.exclude', ['docs/'], vscode.ConfigurationTarget.Workspace);
  await config.update('pack.order', 'dependency', vscode.ConfigurationTarget.Workspace);
  try {
    await vscode.commands.executeCommand('prolong.packWorkspace');
    const last = prolong.lastPack()!;
    assert.equal(last.result.skipped.find((s) => s.path === 'docs/')?.reason, 'excluded by the prolong.pack.exclude setting');
    const paths = last.result.files.map((file) => file.path);
    assert.equal(last.result.order, 'dependency');
    assert.ok(paths.indexOf('src/lib/util.ts') < paths.indexOf('src/main.ts'));
  } finally {
    await config.update('pack.exclude', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('pack.order', undefined, vscode.ConfigurationTarget.Workspace);
  }
});

hostTest('the definitions index follows the local model where prolong.pack.definitionsIndex is unset, and the setting wins', async () => {
  const prolong = await api();
  const config = vscode.workspace.getConfiguration('prolong');
  // a model folder whose sidecar says it was trained with the index (packing reads only the sidecar)
  const modelDir = mkdtempSync(join(tmpdir(), 'prolong-index-model-'));
  const sidecar = JSON.parse(readFileSync(join(demoModelDir(), 'prolong_model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(modelDir, 'prolong_model.json'), JSON.stringify({ ...sidecar, pack: { definitionsIndex: true } }));
  const indexOfLastPack = async () => {
    await vscode.commands.executeCommand('prolong.packWorkspace');
    return prolong.lastPack()!.result.definitionsIndex;
  };
  try {
    assert.equal(await indexOfLastPack(), undefined, 'the demo model (run J) was trained without it');
    await config.update('backend', 'local', vscode.ConfigurationTarget.Workspace);
    await config.update('engine.modelPath', modelDir, vscode.ConfigurationTarget.Workspace);
    const byModel = await indexOfLastPack();
    assert.ok(byModel && byModel.names > 0, 'a model trained with the index gets it');
    assert.ok(prolong.lastPack()!.result.document.includes('\nDefinitions:\n`twice`: src/lib/util.ts\n'));
    const report = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'prolong-pack', path: '/pack-report.md' }));
    assert.match(report.getText(), /^- Definitions index after the last file: \d+ names?, /m);
    await config.update('pack.definitionsIndex', false, vscode.ConfigurationTarget.Workspace);
    assert.equal(await indexOfLastPack(), undefined, 'the setting turns it off');
    await config.update('engine.modelPath', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('pack.definitionsIndex', true, vscode.ConfigurationTarget.Workspace);
    assert.ok(await indexOfLastPack(), 'and on, for any model');
  } finally {
    for (const name of ['backend', 'engine.modelPath', 'pack.definitionsIndex']) await config.update(name, undefined, vscode.ConfigurationTarget.Workspace);
    rmSync(modelDir, { recursive: true, force: true });
  }
});

hostTest('the pack report and the packed document open as documents', async () => {
  await vscode.commands.executeCommand('prolong.packWorkspace');
  const report = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'prolong-pack', path: '/pack-report.md' }));
  assert.match(report.getText(), /^# ProLong pack: /);
  assert.match(report.getText(), /\| \[logo\.bin\]\(file:\/\/\S+\/logo\.bin\) \| binary \|/, 'file names link to the files');
  await vscode.commands.executeCommand('prolong.openPackedDocument');
  const editor = vscode.window.activeTextEditor;
  assert.ok(editor && editor.document.uri.scheme === 'prolong-pack');
  assert.match(editor.document.getText(), /==> src\/main\.ts <==\n/);
});

/** A failed test's window, in words: a dialog (modal dialogs make the rest of the workbench inert), the quick input, toasts. */
async function screenState(): Promise<string> {
  const parts: string[] = [];
  for (const [name, selector] of [['dialog', '.monaco-dialog-box'], ['quick input', '.quick-input-widget'], ['notifications', '.notifications-toasts']] as const) {
    try {
      if ((await ui({ action: 'count', selector })).count === 0) { parts.push(`no ${name}`); continue; }
      const text = (await ui({ action: 'text', selector, timeoutMs: 2_000 })).text ?? '';
      parts.push(`${name}: ${JSON.stringify(text.slice(0, 400))}`);
    } catch (error) {
      parts.push(`${name}: unreadable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    }
  }
  return parts.join('; ');
}

/** Entry point called by VS Code's test runner support (extensionTestsPath). Rejects when a test failed. */
export async function run(): Promise<void> {
  let passed = 0;
  let failed = 0;
  // PROLONG_HOST_ONLY=chat: only the tests whose name contains it (one suite while working on it)
  const only = process.env.PROLONG_HOST_ONLY;
  for (const test of tests) {
    if (only && !test.name.includes(only)) continue;
    try {
      await test.run();
      passed++;
      log(`ok - ${test.name}`);
    } catch (error) {
      failed++;
      log(`not ok - ${test.name}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      log(`  what the window showed then: ${await screenState()}`);
    }
  }
  log(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} extension-host test(s) failed`);
}
