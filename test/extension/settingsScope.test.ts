import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

interface Property { scope?: string; markdownDescription?: string; description?: string; markdownDeprecationMessage?: string }
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Property> } };
};
const properties = manifest.contributes.configuration.properties;

test('path settings are window-scoped, so User settings reach remote (SSH, WSL, code-server) windows', () => {
  // machine / machine-overridable settings in User settings are ignored in a remote window: the model path a
  // user set there was silently empty
  const paths = Object.entries(properties).filter(([name, p]) => /path/i.test(name) && !name.startsWith('prolong.pack.'));
  assert.ok(paths.length >= 2);
  for (const [name, property] of paths) assert.equal(property.scope, 'window', name);
  for (const [name, property] of Object.entries(properties)) {
    assert.ok(property.scope !== 'machine' && property.scope !== 'machine-overridable', `${name} is ${property.scope}`);
  }
});

test('setting names read well as titles (no "Gi B"); the renamed device memory setting keeps its old key as deprecated', () => {
  for (const [name, property] of Object.entries(properties)) {
    if (!property.markdownDeprecationMessage) assert.doesNotMatch(name, /[a-z][A-Z][a-z]?B$/, `${name} becomes a title like "Gi B"`);
  }
  assert.ok(properties['prolong.engine.deviceMemory']);
  assert.match(properties['prolong.engine.deviceMemoryGiB']!.markdownDeprecationMessage ?? '', /prolong\.engine\.deviceMemory#/);
});

test('the token budget setting describes the policy the packer applies (by kind, then largest)', () => {
  const text = properties['prolong.pack.tokenBudget']!.markdownDescription ?? '';
  assert.match(text, /tests/);
  assert.doesNotMatch(text, /from the end of the pack order/);
});

test('the Ask view has a keybinding, an editor context-menu entry for a selection, and a history button', () => {
  const contributes = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    contributes: { keybindings: { command: string; key: string }[]; menus: Record<string, { command: string; when?: string }[]>; commands: { command: string }[] };
  }).contributes;
  assert.ok(contributes.keybindings.some((k) => k.command === 'prolong.askAboutWorkspace' && k.key === 'ctrl+alt+shift+a'));
  const context = contributes.menus['editor/context']!.find((m) => m.command === 'prolong.askAboutSelection');
  assert.match(context?.when ?? '', /editorHasSelection/);
  assert.ok(contributes.menus['view/title']!.some((m) => m.command === 'prolong.openPastConversation'));
  for (const command of ['prolong.askAboutSelection', 'prolong.openPastConversation']) assert.ok(contributes.commands.some((c) => c.command === command), command);
});
