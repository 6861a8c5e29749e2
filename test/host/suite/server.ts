/**
 * Configure Server in a real VS Code: a server that cannot be reached is not a dead end. The error offers Retry, Edit
 * URL and Save Anyway; Edit URL goes back to the URL step with what was typed, and a reachable server then lists its
 * models and is saved; Save Anyway saves an unreachable URL as it is.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { closedPortUrl, startFixture, TEST_MODEL } from '../../remote/fixtures/server';
import { api, hostTest } from './hostTest';
import { ui } from './ui';

const QUICK_INPUT = '.quick-input-widget .quick-input-box input';
const QUICK_LIST = '.quick-input-widget .quick-input-list';
const CENTER = '.notifications-center';

async function enter(value: string, expect?: string): Promise<void> {
  await ui({ action: 'fill', selector: QUICK_INPUT, value });
  if (expect) await ui({ action: 'waitForText', selector: QUICK_LIST, text: expect });
  await ui({ action: 'press', selector: QUICK_INPUT, key: 'Enter' });
}

/** Clicks a button of the newest notification (in the notification center: toasts are hidden in this headless window). */
async function clickNotificationButton(message: string, button: string): Promise<void> {
  await vscode.commands.executeCommand('notifications.showList');
  await ui({ action: 'waitForText', selector: CENTER, text: message, timeoutMs: 30_000 });
  await ui({ action: 'click', selector: `${CENTER} .monaco-button:has-text("${button}")` });
  await vscode.commands.executeCommand('notifications.hideList');
}

hostTest('Server: Configure Server on a dead URL offers Retry / Edit URL / Save Anyway; Edit URL leads on to a live server and saves it, Retry tries again', async () => {
  await api();
  const dead = await closedPortUrl();
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 32768 });
  const server = vscode.workspace.getConfiguration('prolong.server');
  const prolong = vscode.workspace.getConfiguration('prolong');
  try {
    await vscode.commands.executeCommand('notifications.clearAll');
    let configuring = vscode.commands.executeCommand('prolong.configureServer');
    await ui({ action: 'waitForText', selector: '.quick-input-widget', text: 'server URL' });
    await enter(dead);
    await enter('No API key', 'No API key');
    await clickNotificationButton(`Could not list the models of ${dead}`, 'Edit URL');
    // back at the URL step, with the dead URL to correct
    await ui({ action: 'waitForText', selector: '.quick-input-widget', text: 'server URL' });
    await enter(fixture.url);
    await enter('No API key', 'No API key');
    await ui({ action: 'waitForText', selector: QUICK_LIST, text: TEST_MODEL });
    await ui({ action: 'press', selector: QUICK_INPUT, key: 'Enter' });
    await configuring;
    assert.equal(vscode.workspace.getConfiguration('prolong.server').get('url'), fixture.url);
    assert.equal(vscode.workspace.getConfiguration('prolong.server').get('model'), TEST_MODEL);

    // Retry tries again; Save Anyway keeps an unreachable URL (the server may be down now); the model is left unset
    await vscode.commands.executeCommand('notifications.clearAll');
    configuring = vscode.commands.executeCommand('prolong.configureServer');
    await ui({ action: 'waitForText', selector: '.quick-input-widget', text: 'server URL' });
    await enter(dead);
    await enter('No API key', 'No API key');
    await clickNotificationButton(`Could not list the models of ${dead}`, 'Retry');
    await clickNotificationButton(`Could not list the models of ${dead}`, 'Save Anyway'); // the retry failed again
    await configuring;
    assert.equal(vscode.workspace.getConfiguration('prolong.server').get('url'), dead);
    assert.equal(vscode.workspace.getConfiguration('prolong.server').get('model') ?? '', '');
  } finally {
    await vscode.commands.executeCommand('notifications.clearAll');
    for (const name of ['url', 'model']) {
      await server.update(name, undefined, vscode.ConfigurationTarget.Workspace);
      await server.update(name, undefined, vscode.ConfigurationTarget.Global);
    }
    await prolong.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    await prolong.update('backend', undefined, vscode.ConfigurationTarget.Global);
    await fixture.close();
  }
});
