/**
 * The Ask and Probes panels as a user meets them (issue 13), in light, dark and high-contrast themes: settings that
 * reach a remote window, scrolling to a sent question, focus outlines, chart series colors, the prefill bar, code
 * block buttons, question recall. Computed styles are checked, not only looked at; screenshots go to
 * out/test-screenshots/ (and to media/screenshot-*.png with PROLONG_UPDATE_SCREENSHOTS=1).
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../../../engine/backends/types';
import { api, hostTest, log } from './hostTest';
import { ui } from './ui';
import { finishedRun } from './probes';

const ASK = '.ask-input';
const PROBES = '.probes-header';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step = (onEvent: (event: GenerateEvent) => void, signal: AbortSignal | undefined) => Promise<GenerateResult>;

class PanelBackend implements Backend {
  step: Step = async () => { throw new Error('no script'); };
  async info(): Promise<BackendInfo> {
    return { kind: 'remote', model: 'panel-model', contextLength: 32_768, detail: 'a scripted backend for the panel tests' };
  }
  async countPromptTokens(request: Omit<GenerateRequest, 'sampling'>): Promise<PromptTokenCount> {
    return { tokens: request.messages.reduce((sum, m) => sum + Math.ceil(m.content.length / 4), 0), exact: false };
  }
  generate(_request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    return this.step(onEvent, signal);
  }
  async dispose(): Promise<void> {}
}

/** Streams `pieces` `gapMs` apart; `hold` waits for the signal (or `release`) before ending. */
function stream(pieces: string[], gapMs = 20, hold?: Promise<void>): Step {
  return async (onEvent, signal) => {
    const started = Date.now();
    onEvent({ type: 'first-token', timeToFirstTokenMs: 5 });
    let text = '';
    for (const piece of pieces) {
      if (signal?.aborted) break;
      text += piece;
      onEvent({ type: 'text', text: piece });
      await sleep(gapMs);
    }
    if (hold) await Promise.race([hold, new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()))]);
    return {
      text, finishReason: signal?.aborted ? 'cancelled' : 'stop', promptTokens: 100, completionTokens: pieces.length,
      timeToFirstTokenMs: 5, totalMs: Date.now() - started, warnings: [],
    };
  };
}

const backend = new PanelBackend();

async function ask(question: string): Promise<void> {
  await ui({ action: 'fill', frame: ASK, selector: '#question textarea', value: question });
  // Sending empties the box. A filled value can reach the toolkit's text area after the scripted Enter (a person's
  // keystrokes come long before theirs): then Enter finds it empty, and the box still holds the question. Press again.
  for (let attempt = 0; attempt < 3; attempt++) {
    await ui({ action: 'press', frame: ASK, selector: '#question textarea', key: 'Enter' });
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      if ((await ui({ action: 'value', frame: ASK, selector: '#question textarea' })).text !== question) return;
      await sleep(100);
    }
  }
}

/** The question box shows `expected` (the toolkit's text area updates its inner textarea a moment later). */
async function questionShows(expected: string): Promise<void> {
  let value: string | undefined;
  const deadline = Date.now() + 5_000;
  while ((value = (await ui({ action: 'value', frame: ASK, selector: '#question textarea' })).text) !== expected && Date.now() < deadline) await sleep(100);
  assert.equal(value, expected);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Geometry { scrollTop: number; scrollHeight: number; clientHeight: number; clientWidth: number; scrollWidth: number; width: number }
async function geometry(frame: string, selector: string, top?: number): Promise<Geometry> {
  return JSON.parse((await ui({ action: 'scroll', frame, selector, top })).text ?? '{}') as Geometry;
}
async function style(frame: string, selector: string, properties: string[]): Promise<Record<string, string>> {
  return JSON.parse((await ui({ action: 'style', frame, selector, properties })).text ?? '{}') as Record<string, string>;
}
const atEnd = (g: Geometry) => g.scrollHeight - g.scrollTop - g.clientHeight < 48;

/** [r, g, b, a] of a CSS color as getComputedStyle gives it (rgb()/rgba()) or a theme variable's #hex. */
function parseColor(color: string): [number, number, number, number] | undefined {
  const value = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(value)?.[1];
  if (hex) {
    const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
    const n = (i: number) => parseInt(full.slice(i, i + 2), 16);
    return [n(0), n(2), n(4), full.length === 8 ? n(6) / 255 : 1];
  }
  const rgb = /^rgba?\(([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:[ ,/]+([\d.]+))?\)$/.exec(value);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), rgb[4] === undefined ? 1 : Number(rgb[4])] : undefined;
}
function luminance([r, g, b]: [number, number, number, number]): number {
  const channel = (c: number) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}
function contrast(a: [number, number, number, number], b: [number, number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const THEMES = [
  { kind: 'light', name: 'Default Light Modern', body: 'vscode-light', minContrast: 2 },
  { kind: 'dark', name: 'Default Dark Modern', body: 'vscode-dark', minContrast: 2 },
  { kind: 'high contrast', name: 'Default High Contrast', body: 'vscode-high-contrast', minContrast: 3 },
] as const;

async function useTheme(theme: typeof THEMES[number], frame: string): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme.name, vscode.ConfigurationTarget.Global);
  await until(`the ${theme.kind} theme in the webview`, async () => (await ui({ action: 'count', frame, selector: `body.${theme.body}` })).count! > 0);
  await sleep(300); // the theme's variables land with the class
}

function extensionPath(): string {
  return vscode.extensions.getExtension('prolong.prolong-vscode')!.extensionPath;
}

/** A screenshot of `selector` (a workbench part) into out/test-screenshots/, and into media/ when asked to update. */
async function screenshot(selector: string, name: string, readme?: string): Promise<void> {
  const dir = join(extensionPath(), 'out', 'test-screenshots');
  mkdirSync(dir, { recursive: true });
  await ui({ action: 'screenshot', selector, element: true, path: join(dir, `${name}.png`) });
  log(`screenshot ${join(dir, `${name}.png`)}`);
  if (readme && process.env.PROLONG_UPDATE_SCREENSHOTS === '1') await ui({ action: 'screenshot', selector, element: true, path: join(extensionPath(), 'media', readme) });
}

hostTest('Panels: a model path set in User settings reaches this (remote) window; path settings are window-scoped', async () => {
  const config = vscode.workspace.getConfiguration('prolong');
  try {
    await config.update('engine.modelPath', '/models/user-choice', vscode.ConfigurationTarget.Global);
    await config.update('tokenizer.path', '/models/user-choice/tokenizer.json', vscode.ConfigurationTarget.Global);
    const engine = vscode.workspace.getConfiguration('prolong.engine');
    assert.equal(engine.get('modelPath'), '/models/user-choice', `read in a ${vscode.env.remoteName ?? 'local'} window`);
    assert.equal(vscode.workspace.getConfiguration('prolong.tokenizer').get('path'), '/models/user-choice/tokenizer.json');
  } finally {
    await config.update('engine.modelPath', undefined, vscode.ConfigurationTarget.Global);
    await config.update('tokenizer.path', undefined, vscode.ConfigurationTarget.Global);
  }
});

hostTest('Panels: a sent question scrolls into view even when the reader had scrolled up; streaming follows unless the reader scrolls away', async () => {
  const prolong = await api();
  prolong.overrideBackend(backend);
  await vscode.commands.executeCommand('prolong.newConversation');
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  const long = Array.from({ length: 40 }, (_, i) => `Line ${i} of a long answer about src/main.ts.\n\n`);
  backend.step = stream(long, 1);
  for (const question of ['First long question?', 'Second long question?']) {
    await ask(question);
    await ui({ action: 'waitForText', frame: ASK, selector: `.turn:last-child[data-status="done"] .answer`, text: 'Line 39' });
  }
  const before = await geometry(ASK, '#conversation', 0);
  assert.ok(before.scrollHeight > before.clientHeight * 2, 'the conversation is taller than the view');
  let release!: () => void;
  backend.step = stream(Array.from({ length: 30 }, (_, i) => `Streamed line ${i}.\n\n`), 40, new Promise<void>((resolve) => { release = resolve; }));
  await ask('Where is twice used?');
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .answer', text: 'Streamed line 29' });
  assert.ok(atEnd(await geometry(ASK, '#conversation')), 'the new turn and its streamed answer are in view');
  // the reader scrolls up while it streams: the view stays where they put it
  await geometry(ASK, '#conversation', 0);
  await sleep(200);
  release();
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child[data-status="done"] .stats', text: 'answer tokens' });
  assert.ok((await geometry(ASK, '#conversation')).scrollTop < 50, 'a reader who scrolled away is not pulled back down');
});

hostTest('Panels: code blocks have a language label, Copy and Insert at Cursor; ↑ recalls the last question', async () => {
  backend.step = stream(['Use this:\n\n', '```ts\nconst answer = twice(21);\n```\n']);
  await ask('How do I call twice?');
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child[data-status="done"] .code-block .code-language', text: 'ts' });
  await vscode.env.clipboard.writeText('');
  await ui({ action: 'click', frame: ASK, selector: '.turn:last-child .code-block [data-code-action="copy"]' });
  await until('the code on the clipboard', async () => (await vscode.env.clipboard.readText()) === 'const answer = twice(21);');
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .code-block [data-code-action="copy"]', text: 'Copied' });
  const document = await vscode.workspace.openTextDocument({ content: '// before\n', language: 'typescript' });
  const editor = await vscode.window.showTextDocument(document);
  editor.selection = new vscode.Selection(1, 0, 1, 0);
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  await ui({ action: 'click', frame: ASK, selector: '.turn:last-child .code-block [data-code-action="insert"]' });
  await until('the code in the editor', () => document.getText() === '// before\nconst answer = twice(21);');
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  await ui({ action: 'fill', frame: ASK, selector: '#question textarea', value: '' });
  await sleep(500); // the view settles (it may reload when it comes back into view)
  await ui({ action: 'press', frame: ASK, selector: '#question textarea', key: 'ArrowUp' });
  await questionShows('How do I call twice?');
  await sleep(300);
  await ui({ action: 'press', frame: ASK, selector: '#question textarea', key: 'ArrowUp' });
  await questionShows('Where is twice used?');
  await ui({ action: 'press', frame: ASK, selector: '#question textarea', key: 'ArrowDown' });
  await ui({ action: 'press', frame: ASK, selector: '#question textarea', key: 'ArrowDown' });
  await questionShows('');
});

hostTest('Panels: the prefill bar has a width in a normal side bar and the header does not overflow sideways', async () => {
  backend.step = (onEvent, signal) => {
    onEvent({ type: 'prefill', doneTokens: 12_000, totalTokens: 128_000, reusedTokens: 4_096 });
    return new Promise((resolve) => signal?.addEventListener('abort', () => resolve({
      text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, timeToFirstTokenMs: 0, totalMs: 1, warnings: [],
    }), { once: true }));
  };
  await ask('A question that waits in the prefill');
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .progress', text: 'prompt tokens' });
  const bar = await geometry(ASK, '.turn:last-child .progress progress');
  assert.ok(bar.width >= 40, `the prefill bar is ${bar.width} px wide`);
  const header = await geometry(ASK, '.ask-header');
  assert.ok(header.scrollWidth <= header.clientWidth + 1, `the header is ${header.scrollWidth} px in ${header.clientWidth}`);
  await ui({ action: 'click', frame: ASK, selector: '#cancel' });
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .ending', text: 'Cancelled' });
  assert.equal((await ui({ action: 'count', frame: ASK, selector: '.turn:last-child .stats' })).count === 0
    || !/first token/.test((await ui({ action: 'text', frame: ASK, selector: '.turn:last-child .stats' })).text ?? ''), true,
  'a turn cancelled before any token shows no first-token time');
});

hostTest('Panels: the empty view offers one call to action per situation: the demo model\'s notice, connect a backend, then example questions', async () => {
  const prolong = await api();
  prolong.overrideBackend(undefined);
  await vscode.commands.executeCommand('prolong.newConversation');
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  // no settings: the bundled demo model answers, and the header says what it is with the ways to a real model
  await ui({ action: 'waitForText', frame: ASK, selector: '#backend-summary', text: 'prolong-demo-38m' });
  await ui({ action: 'waitForText', frame: ASK, selector: '#backend-summary .backend-notice', text: 'small demo model' });
  for (const action of ['chooseLocalModel', 'configureServer', 'runProbes']) {
    assert.equal((await ui({ action: 'count', frame: ASK, selector: `.backend-notice vscode-button[data-action="${action}"]` })).count, 1, action);
  }
  // readable and marked in every theme: its text against the view, its left rule visible
  for (const theme of THEMES) {
    await useTheme(theme, ASK);
    const notice = await style(ASK, '#backend-summary .backend-notice', ['color', 'background-color', 'border-left-color', 'border-left-width']);
    const own = parseColor(notice['background-color'] ?? '');
    const background = own && own[3] === 1 ? own : parseColor((await style(ASK, 'body', ['--vscode-sideBar-background']))['--vscode-sideBar-background'] ?? '');
    assert.ok(background, `${theme.kind}: the notice has a background color`);
    const ratio = contrast(parseColor(notice.color ?? '')!, background);
    assert.ok(ratio >= 4.5, `${theme.kind}: the notice's text contrast is ${ratio.toFixed(2)}`);
    assert.ok((parseColor(notice['border-left-color'] ?? '')?.[3] ?? 0) > 0 && notice['border-left-width'] !== '0px', `${theme.kind}: ${JSON.stringify(notice)}`);
    await screenshot('.part.sidebar', `ask-demo-notice-${theme.kind.replace(' ', '-')}`);
  }
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
  await ui({ action: 'text', frame: ASK, selector: '.onboarding[data-situation="ready"]' });
  // prolong.backend "remote" with no server: connect one
  const config = vscode.workspace.getConfiguration('prolong');
  await config.update('backend', 'remote', vscode.ConfigurationTarget.Workspace);
  try {
    await ui({ action: 'text', frame: ASK, selector: '.onboarding[data-situation="noBackend"] vscode-button[data-action="configureServer"][appearance="primary"]' });
    assert.equal((await ui({ action: 'count', frame: ASK, selector: '.onboarding vscode-button[data-action="chooseLocalModel"]' })).count, 1);
    assert.equal((await ui({ action: 'count', frame: ASK, selector: '.backend-notice' })).count, 0, 'no demo notice for a server');
  } finally {
    await config.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
  }
  prolong.overrideBackend(backend);
  await ui({ action: 'text', frame: ASK, selector: '.onboarding[data-situation="ready"] a.example' });
  await ui({ action: 'waitForText', frame: ASK, selector: '#backend-summary', text: 'panel-model' });
  assert.equal((await ui({ action: 'count', frame: ASK, selector: '#backend-summary a.switch-model[data-action="switchModel"]' })).count, 1);
  assert.equal((await ui({ action: 'count', frame: ASK, selector: '.backend-notice' })).count, 0, 'no demo notice for another backend');
  backend.step = stream(['It doubles numbers (src/lib/util.ts:1).']);
  await ui({ action: 'click', frame: ASK, selector: '.onboarding a.example' });
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child[data-status="done"] .answer', text: 'doubles' });
  assert.match((await ui({ action: 'text', frame: ASK, selector: '.turn:last-child .question' })).text ?? '', /^What does this repository do/);
});

hostTest('Panels: New Conversation keeps the old one in this workspace\'s history; Open Past Conversation brings it back', async () => {
  await vscode.commands.executeCommand('prolong.newConversation');
  await ui({ action: 'text', frame: ASK, selector: '.onboarding' });
  const opening = vscode.commands.executeCommand('prolong.openPastConversation');
  await ui({ action: 'waitForText', selector: '.quick-input-widget .quick-input-list', text: 'What does this repository do' });
  await ui({ action: 'press', selector: '.quick-input-widget .quick-input-box input', key: 'Enter' });
  await opening;
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .answer', text: 'It doubles numbers' });
});

hostTest('Panels: the token budget drops docs before code, keeps open files, and a turn naming a left-out file offers to pack it', async () => {
  const prolong = await api();
  prolong.overrideBackend(backend);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // in the user settings: a workspace setting would change .vscode/settings.json, a packed file, and so the pack
  const config = vscode.workspace.getConfiguration('prolong');
  await vscode.commands.executeCommand('prolong.packWorkspace');
  const full = prolong.lastPack()!.result.totalTokens;
  await config.update('pack.tokenBudget', full - 1, vscode.ConfigurationTarget.Global);
  try {
    await vscode.commands.executeCommand('prolong.packWorkspace');
    let result = prolong.lastPack()!.result;
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs.map((tab) => tab.label));
    assert.deepEqual(result.dropped.map((file) => [file.path, file.kind]), [['docs/guide.md', 'docs']], `docs go before code (open tabs: ${tabs.join(', ')}; pinned ${JSON.stringify(prolong.lastPack()!.pinned)})`);
    // open in an editor: kept, and code goes instead
    const folder = vscode.workspace.workspaceFolders![0]!;
    await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, 'docs', 'guide.md'));
    await vscode.commands.executeCommand('prolong.packWorkspace');
    result = prolong.lastPack()!.result;
    assert.ok(result.files.some((file) => file.path === 'docs/guide.md'), 'the open file stays');
    assert.ok(result.dropped.length > 0 && result.dropped.every((file) => file.kind === 'code'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('prolong.packWorkspace');
    // a question about the left-out file says so and offers to pack it
    await vscode.commands.executeCommand('prolong.newConversation');
    await vscode.commands.executeCommand('prolong.askAboutWorkspace');
    await ui({ action: 'waitForText', frame: ASK, selector: '#budget', text: '1 docs' });
    let requests = 0;
    let sawGuide = false;
    backend.step = async (onEvent, signal) => {
      requests++;
      sawGuide = prolong.lastPack()!.result.files.some((file) => file.path === 'docs/guide.md');
      return stream(['The guide is a heading.'])(onEvent, signal);
    };
    await ask('What is in docs/guide.md?');
    await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child .warning', text: "Not in the model's context: docs/guide.md" });
    assert.equal(sawGuide, false);
    await ui({ action: 'click', frame: ASK, selector: '.turn:last-child vscode-button[data-turn-action="packWith"]' });
    await until('the question asked again', () => requests === 2);
    await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child[data-status="done"] .answer', text: 'heading' });
    assert.equal(sawGuide, true, 'asked again with the file packed');
    const turn = (await ui({ action: 'text', frame: ASK, selector: '.turn:last-child' })).text ?? '';
    assert.match(turn, /The packed repository changed since the last question \(1 file added, 1 file out\)/, 'the changed pack is announced');
    assert.doesNotMatch(turn, /Not in the model's context/);
  } finally {
    await config.update('pack.tokenBudget', undefined, vscode.ConfigurationTarget.Global);
  }
});

hostTest('Panels: keyboard focus on a citation draws --vscode-focusBorder, and highlighted code is readable, in light, dark and high-contrast themes', async () => {
  backend.step = stream(['See src/main.ts:2 and src/lib/util.ts:1.\n\n', '```ts\nconst label = "twice"; // doubled\nreturn twice(21);\n```\n']);
  await ask('Where is it?');
  await ui({ action: 'waitForText', frame: ASK, selector: '.turn:last-child[data-status="done"] .answer', text: 'util.ts' });
  for (const theme of THEMES) {
    await useTheme(theme, ASK);
    await ui({ action: 'focus', frame: ASK, selector: '.turn:last-child a.citation' });
    const outline = await style(ASK, '.turn:last-child a.citation', ['outline-style', 'outline-width', 'outline-color']);
    const border = parseColor((await style(ASK, 'body', ['--vscode-focusBorder']))['--vscode-focusBorder'] ?? '');
    assert.ok(border, `${theme.kind}: the theme has a focus border color`);
    assert.equal(outline['outline-style'], 'solid', `${theme.kind}: ${JSON.stringify(outline)}`);
    assert.notEqual(outline['outline-width'], '0px');
    assert.deepEqual(parseColor(outline['outline-color'] ?? '')?.slice(0, 3), border.slice(0, 3), `${theme.kind}: outline is the focus border`);
    const background = parseColor((await style(ASK, 'body', ['--vscode-sideBar-background']))['--vscode-sideBar-background'] ?? '');
    assert.ok(background, `${theme.kind}: the view has a background color`);
    for (const token of ['keyword', 'string', 'comment']) {
      const color = parseColor((await style(ASK, `.turn:last-child pre .hljs-${token}`, ['color'])).color ?? '');
      assert.ok(color, `${theme.kind}: a ${token} in the code block has a color`);
      const ratio = contrast(color, background);
      assert.ok(ratio >= theme.minContrast + 1, `${theme.kind}: hljs-${token} ${color} has contrast ${ratio.toFixed(2)} against the background`);
    }
    await screenshot('.part.sidebar', `ask-${theme.kind.replace(' ', '-')}`, theme.kind === 'dark' ? 'screenshot-ask.png' : undefined);
  }
  (await api()).overrideBackend(undefined);
});

hostTest('Panels: every chart series has a visible color and a dash pattern of its own in light, dark and high-contrast themes', async () => {
  // the probes suite's finished run, with its chart
  const run = finishedRun();
  assert.ok(run, 'the probes suite ran');
  const dir = mkdtempSync(join(tmpdir(), 'prolong-panels-'));
  const file = vscode.Uri.file(join(dir, 'finished.json'));
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(JSON.stringify(run)));
  await vscode.commands.executeCommand('prolong.openProbeResults', file);
  rmSync(dir, { recursive: true, force: true });
  await until('the chart', async () => (await ui({ action: 'count', frame: PROBES, selector: 'svg.curve-chart line.series' })).count! > 0);
  const series = (await ui({ action: 'count', frame: PROBES, selector: 'svg.curve-chart line.series' })).count!;
  assert.ok((await ui({ action: 'count', frame: PROBES, selector: 'svg.curve-chart line.series.reference' })).count! > 0, 'the chart has a published reference curve');
  for (const theme of THEMES) {
    await useTheme(theme, PROBES);
    const background = parseColor((await style(PROBES, 'body', ['--vscode-editor-background']))['--vscode-editor-background'] ?? '');
    assert.ok(background, `${theme.kind}: editor background`);
    const dashes = new Set<string>();
    for (let slot = 0; slot < 7; slot++) {
      const legend = `svg.curve-chart line.series-${slot}`;
      if ((await ui({ action: 'count', frame: PROBES, selector: legend })).count === 0) continue;
      const values = await style(PROBES, legend, ['stroke', 'stroke-dasharray', 'stroke-width', 'opacity']);
      const stroke = parseColor(values.stroke ?? '');
      assert.ok(stroke && stroke[3] > 0.5, `${theme.kind}: series-${slot} has a stroke (${values.stroke})`);
      const ratio = contrast(stroke, background);
      assert.ok(ratio >= theme.minContrast, `${theme.kind}: series-${slot} ${values.stroke} has contrast ${ratio.toFixed(2)} against the background`);
      dashes.add(values['stroke-dasharray'] ?? '');
    }
    assert.equal(dashes.size, Math.min(series, 7), `${theme.kind}: each series has its own dash pattern (${[...dashes].join(' | ')})`);
    await screenshot('.part.editor', `probes-${theme.kind.replace(' ', '-')}`, theme.kind === 'dark' ? 'screenshot-probes.png' : undefined);
  }
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
});
