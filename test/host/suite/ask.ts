/**
 * The Ask panel in a real VS Code: a scripted backend (through the extension API's overrideBackend) answers,
 * and the browser (through the harness's UI bridge) types questions, clicks Cancel and citations.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../../../engine/backends/types';
import { QUESTION_MARKER } from '../../../engine/backends/prompt';
import { startFixture } from '../../remote/fixtures/server';
import { checkpointDirOf, tinyModel } from '../../engine/fixtures';
import { convertToGgufFile } from '../../../kernels';
import { resolveTokenizerPath } from '../../../engine/tokenizer';
import { api, hostTest } from './hostTest';
import { ui } from './ui';

/** The Ask webview's inner frame is the one with the question box. */
const FRAME = '.ask-input';

type Script = (request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal: AbortSignal | undefined) => Promise<GenerateResult>;

/** A Backend whose answers the test scripts; it records every request and whether its signal fired. */
class ScriptedBackend implements Backend {
  readonly requests: GenerateRequest[] = [];
  abortedRequests = 0;
  script: Script = async () => { throw new Error('no script'); };

  async info(): Promise<BackendInfo> {
    return { kind: 'remote', model: 'scripted-model', contextLength: 32_768, detail: 'a scripted backend for tests' };
  }

  async countPromptTokens(request: Omit<GenerateRequest, 'sampling'>): Promise<PromptTokenCount> {
    return { tokens: request.messages.reduce((sum, m) => sum + Math.ceil(m.content.length / 4), 0), exact: false, note: 'scripted' };
  }

  async generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    this.requests.push(request);
    signal?.addEventListener('abort', () => { this.abortedRequests++; });
    return this.script(request, onEvent, signal);
  }

  async dispose(): Promise<void> {}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `body` on the backend the settings build (not the test backend), with these workspace settings, in a new
 * conversation; afterwards the test backend comes back first, so that the settings, reset one by one, never build
 * and load a real engine in between. A setting the body changes must be among `settings` (it is reset with them).
 */
async function withConfiguredBackend(settings: Record<string, unknown>, body: () => Promise<void>): Promise<void> {
  const prolong = await api();
  const config = vscode.workspace.getConfiguration('prolong');
  prolong.overrideBackend(undefined);
  await ui({ action: 'click', frame: FRAME, selector: '#new-conversation' });
  try {
    for (const [name, value] of Object.entries(settings)) await config.update(name, value, vscode.ConfigurationTarget.Workspace);
    await body();
  } finally {
    prolong.overrideBackend(backend);
    for (const name of Object.keys(settings)) await config.update(name, undefined, vscode.ConfigurationTarget.Workspace);
  }
}

/** Streams `pieces` a few milliseconds apart; with `thenHold`, waits for the signal after them and ends 'cancelled'. */
function streaming(pieces: string[], thenHold = false): Script {
  return async (_request, onEvent, signal) => {
    const started = Date.now();
    onEvent({ type: 'prefill', doneTokens: 100, totalTokens: 100, reusedTokens: 0 });
    await sleep(30);
    onEvent({ type: 'first-token', timeToFirstTokenMs: Date.now() - started });
    let text = '';
    for (const piece of pieces) {
      if (signal?.aborted) break;
      text += piece;
      onEvent({ type: 'text', text: piece });
      await sleep(30);
    }
    if (thenHold && !signal?.aborted) await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
    const cancelled = signal?.aborted === true;
    return {
      text, finishReason: cancelled ? 'cancelled' : 'stop', promptTokens: 1_000, completionTokens: pieces.length,
      cachedPromptTokens: 900, timeToFirstTokenMs: 30, totalMs: Date.now() - started, warnings: [],
    };
  };
}

async function ask(question: string): Promise<void> {
  await ui({ action: 'fill', frame: FRAME, selector: '#question textarea', value: question });
  await ui({ action: 'press', frame: FRAME, selector: '#question textarea', key: 'Enter' });
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const backend = new ScriptedBackend();

hostTest('Ask: a question packs the workspace and the answer streams into the panel, with citations and speed', async () => {
  const prolong = await api();
  prolong.overrideBackend(backend);
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  await ui({ action: 'waitForText', frame: FRAME, selector: '.budget-line', text: '32,768 tokens' });
  backend.script = streaming(['`twice` is defined in ', 'src/lib/util.ts:1 and ', 'called from src/main.ts:2.\n\n', '```ts\nconsole.log(twice(21));\n```']);
  await ask('Where is twice defined?');
  const answer = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="done"] .answer', text: 'called from src/main.ts:2.' });
  assert.match(answer.text ?? '', /console\.log\(twice\(21\)\);/);
  const request = backend.requests.at(-1)!;
  assert.equal(request.messages.length, 2);
  assert.ok(request.messages[1]!.content.startsWith(`Repository: ${vscode.workspace.workspaceFolders![0]!.name}\n`), 'the packed repository comes first');
  assert.ok(request.messages[1]!.content.includes('==> src/lib/util.ts <==\n'));
  assert.ok(request.messages[1]!.content.endsWith(`${QUESTION_MARKER}Where is twice defined?`), 'the question comes last');
  assert.equal(request.messages[1]!.content.slice(0, -`${QUESTION_MARKER}Where is twice defined?`.length), prolong.lastPack()!.result.document);
  const citations = await ui({ action: 'count', frame: FRAME, selector: '.turn[data-status="done"] a.citation' });
  assert.equal(citations.count, 2, 'both cited paths became links (none inside the code block)');
  const stats = await ui({ action: 'text', frame: FRAME, selector: '.turn[data-status="done"] .stats' });
  assert.match(stats.text ?? '', /first token 0\.03 s · [\d.]+ tokens\/s · 4 answer tokens/);
  assert.match(stats.text ?? '', /prompt 1,000 tokens \(900 cached\)/);
});

hostTest('Ask: clicking a citation opens the file at the cited line', async () => {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await ui({ action: 'click', frame: FRAME, selector: 'a.citation[data-path="src/main.ts"]' });
  await until('src/main.ts to open', () => vscode.window.activeTextEditor?.document.uri.path.endsWith('/src/main.ts') === true);
  assert.equal(vscode.window.activeTextEditor!.selection.start.line, 1, 'line 2 (1-based) is selected');
});

hostTest('Ask: a follow-up sends the conversation after the repository, re-packed after a file changed; Cancel keeps the partial answer', async () => {
  const folder = vscode.workspace.workspaceFolders![0]!;
  const extra = vscode.Uri.joinPath(folder.uri, 'src', 'extra.ts');
  await vscode.workspace.fs.writeFile(extra, new TextEncoder().encode('export const extra = 3;\n'));
  try {
    await followUpAndCancel();
  } finally {
    await vscode.workspace.fs.delete(extra); // the other suites expect the workspace as the harness wrote it
  }
});

async function followUpAndCancel(): Promise<void> {
  await ui({ action: 'waitForText', frame: FRAME, selector: '#pack-summary', text: 're-packs on the next question' });
  backend.script = streaming(['Partial ', 'answer '], true);
  const before = backend.abortedRequests;
  await ask('And who calls it?');
  const streamed = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="streaming"] .answer', text: 'Partial answer' });
  assert.doesNotMatch(streamed.text ?? '', /Partial\s+Partial/, 'the first piece is shown once');
  const request = backend.requests.at(-1)!;
  assert.deepEqual(request.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.ok(request.messages[1]!.content.endsWith(`${QUESTION_MARKER}Where is twice defined?`));
  assert.match(request.messages[2]!.content, /^`twice` is defined in src\/lib\/util\.ts:1/);
  assert.equal(request.messages[3]!.content, 'And who calls it?');
  assert.ok(request.messages[1]!.content.includes('==> src/extra.ts <==\nexport const extra = 3;\n'), 'the new file is in the re-packed repository');
  await ui({ action: 'click', frame: FRAME, selector: '#cancel' });
  const cancelled = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="cancelled"]', text: 'Cancelled' });
  assert.match(cancelled.text ?? '', /Partial answer/);
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn[data-status="cancelled"] vscode-button[data-turn-action="retry"]' })).count, 1, 'a cancelled question can be asked again');
  assert.equal(backend.abortedRequests, before + 1, 'the request\'s AbortSignal fired');
}

hostTest('Ask: the conversation and the unsent draft survive hiding the view (the webview reloads)', async () => {
  await ui({ action: 'fill', frame: FRAME, selector: '#question textarea', value: 'an unsent draft' });
  await sleep(500); // the webview saves its state a moment after typing stops
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await sleep(300);
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="cancelled"] .answer', text: 'Partial answer' });
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn' })).count, 2);
  assert.equal((await ui({ action: 'value', frame: FRAME, selector: '#question textarea' })).text, 'an unsent draft');
});

hostTest('Ask: when the repository does not fit the model\'s context, the budget says so and what to do', async () => {
  const prolong = await api();
  const small = new ScriptedBackend();
  small.info = async () => ({ kind: 'remote', model: 'small-model', contextLength: 1_000, detail: 'a small context' });
  prolong.overrideBackend(small);
  try {
    const warning = await ui({ action: 'waitForText', frame: FRAME, selector: '.budget-warning', text: 'the model holds 1,000' });
    // the answer room (prolong.ask.maxAnswerTokens, 2,048) alone is over 1,000: the advice and its one button say so
    assert.match(warning.text ?? '', /Lower prolong\.ask\.maxAnswerTokens/);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '#budget vscode-button[data-action="openAnswerTokensSetting"]' })).count, 1);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '#budget vscode-button' })).count, 1);
    assert.match((await ui({ action: 'text', frame: FRAME, selector: '.budget-line' })).text ?? '', /of 1,000 tokens/);
  } finally {
    prolong.overrideBackend(backend);
  }
  await ui({ action: 'waitForText', frame: FRAME, selector: '.budget-line', text: 'of 32,768 tokens' });
});

hostTest('Ask: a backend problem shows in the panel with its message and a button that helps; Ask again and Copy', async () => {
  const prolong = await api();
  prolong.overrideBackend(undefined);
  const config = vscode.workspace.getConfiguration('prolong');
  await config.update('backend', 'remote', vscode.ConfigurationTarget.Workspace); // with no server configured here
  try {
    await ask('Does this fail?');
    const error = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="error"] .error', text: 'No ProLong server is configured' });
    assert.match(error.text ?? '', /Configure Server/);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn[data-status="error"] vscode-button[data-action="configureServer"]' })).count, 1);
  } finally {
    await config.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    prolong.overrideBackend(backend);
  }
  // "Ask again" replaces the failed turn with a new answer to the same question.
  const turns = (await ui({ action: 'count', frame: FRAME, selector: '.turn' })).count;
  backend.script = streaming(['Now it works.']);
  await ui({ action: 'click', frame: FRAME, selector: '.turn[data-status="error"] vscode-button[data-turn-action="retry"]' });
  await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="done"] .answer', text: 'Now it works.' });
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn' })).count, turns);
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn[data-status="error"]' })).count, 0);
  assert.equal(backend.requests.at(-1)!.messages.at(-1)!.content, 'Does this fail?');
  // Copy puts the answer's Markdown on the clipboard.
  await ui({ action: 'click', frame: FRAME, selector: '.turn:last-child vscode-button[data-turn-action="copy"]' });
  let clipboard = '';
  const deadline = Date.now() + 5_000;
  while (clipboard !== 'Now it works.' && Date.now() < deadline) {
    clipboard = await vscode.env.clipboard.readText();
    await sleep(100);
  }
  assert.equal(clipboard, 'Now it works.');
});

hostTest('Ask: with prolong.backend "remote" and a server in the settings, the real remote backend answers; Cancel closes the HTTP request', async () => {
  const prolong = await api();
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 65_536, answer: 'It is in src/lib/util.ts:1 as you can see.', prefillMs: 20, pieceMs: 20 });
  const config = vscode.workspace.getConfiguration('prolong');
  prolong.overrideBackend(undefined);
  try {
    await config.update('server.url', fixture.url, vscode.ConfigurationTarget.Workspace);
    await ui({ action: 'waitForText', frame: FRAME, selector: '.budget-line', text: 'of 65,536 tokens' });
    await ask('Where is twice?');
    const answer = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="done"] .answer', text: 'as you can see.' });
    assert.match(answer.text ?? '', /src\/lib\/util\.ts:1/);
    const sent = fixture.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    assert.ok(sent, 'the server got a chat completion request');
    const body = JSON.parse(sent.body) as { messages: { role: string; content: string }[]; stream: boolean };
    assert.equal(body.stream, true);
    assert.ok(body.messages[1]!.content.startsWith('Repository: '), 'the packed repository is in the first user message');
    assert.equal(body.messages.at(-1)!.content, 'Where is twice?', 'the follow-up question is last');

    fixture.faults.push({ kind: 'stall', afterPieces: 2 });
    await ask('And then?');
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="streaming"] .answer', text: 'is' });
    await ui({ action: 'click', frame: FRAME, selector: '#cancel' });
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="cancelled"] .ending', text: 'Cancelled' });
    await until('the server to see the request closed', () => fixture.clientAborts === 1, 5_000);

    fixture.faults.splice(0, fixture.faults.length, { kind: 'drop', afterPieces: 2 });
    await ask('And if the connection breaks?');
    const cut = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="cut"] .ending', text: 'Cut' });
    assert.match(cut.text ?? '', /Cut short/);
    // The piece written just before the server drops the socket may be lost with it: expect the first one.
    const partial = (await ui({ action: 'text', frame: FRAME, selector: '.turn:last-child .answer' })).text ?? '';
    assert.match(partial, /^It\b/, `the partial answer is kept (got ${JSON.stringify(partial)})`);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn:last-child vscode-button[data-turn-action="retry"]' })).count, 1, 'a cut answer can be asked again');
  } finally {
    await config.update('server.url', undefined, vscode.ConfigurationTarget.Workspace);
    prolong.overrideBackend(backend);
    await fixture.close();
  }
});

hostTest('Ask: with prolong.backend "local" and no model path the bundled demo model answers, its notice in the header; a path that names nothing says which setting', async () => {
  const prolong = await api();
  const config = vscode.workspace.getConfiguration('prolong');
  prolong.overrideBackend(undefined);
  try {
    // the backend change is delivered (to the extension's listener too) before the question: a backend change while
    // an answer runs ends that answer
    const delivered = new Promise<void>((resolve) => {
      const listener = vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('prolong.backend')) { listener.dispose(); resolve(); }
      });
    });
    await config.update('backend', 'local', vscode.ConfigurationTarget.Workspace);
    await delivered;
    await config.update('ask.maxAnswerTokens', 12, vscode.ConfigurationTarget.Workspace);
    await ui({ action: 'waitForText', frame: FRAME, selector: '#backend-summary', text: 'local · prolong-demo-38m' });
    const notice = await ui({ action: 'waitForText', frame: FRAME, selector: '#backend-summary .backend-notice', text: 'small demo model' });
    assert.match(notice.text ?? '', /ProLong: Select Model.*ProLong: Configure Server/);
    await ask('Which file defines main?');
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child .question', text: 'Which file defines main?' });
    // the engine read the prompt and ended the answer (what the demo model says varies with the workspace's temporary name)
    const stats = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child .stats', text: 'answer tokens', timeoutMs: 60_000 });
    assert.match(stats.text ?? '', /prompt [\d,]+ tokens/, (await ui({ action: 'text', frame: FRAME, selector: '.turn:last-child' })).text);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn:last-child[data-status="done"], .turn:last-child[data-status="length"]' })).count, 1);
    await ui({ action: 'waitForText', frame: FRAME, selector: '#backend-summary .backend-notice', text: 'small demo model' });
    assert.doesNotMatch(notice.text ?? '', /--model|--server/, 'no CLI flags in the panel');
    // a relative path is read from the workspace folder, and one that names nothing says so with the setting
    await config.update('engine.modelPath', 'models/missing', vscode.ConfigurationTarget.Workspace);
    await ask('Local again?');
    const missing = join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'models', 'missing');
    const named = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="error"] .error', text: 'does not exist' });
    assert.ok((named.text ?? '').includes(`prolong.engine.modelPath names ${missing}, which does not exist`), named.text);
    assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn:last-child vscode-button[data-action="chooseLocalModel"]' })).count, 1);
  } finally {
    await config.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('engine.modelPath', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('ask.maxAnswerTokens', undefined, vscode.ConfigurationTarget.Workspace);
    prolong.overrideBackend(backend);
  }
});

hostTest('Ask: with prolong.backend "local" and a converted model, the bundled engine streams an answer, and Cancel stops it', async () => {
  // A random model with Llama 3's vocabulary and chat template: its answers are noise, but real tokens, streamed.
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], maxContext: 4096 });
  const config = vscode.workspace.getConfiguration('prolong');
  await withConfiguredBackend({ backend: 'local', 'engine.modelPath': modelDir, 'engine.executionProvider': 'cpu', 'ask.maxAnswerTokens': 8 }, async () => {
    await ask('What does main.ts print?');
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="length"] .stats', text: '8 answer tokens', timeoutMs: 60_000 });
    assert.match((await ui({ action: 'text', frame: FRAME, selector: '.backend-label' })).text ?? '', /^local · /);

    await config.update('ask.maxAnswerTokens', 3_000, vscode.ConfigurationTarget.Workspace);
    await ask('And at length?');
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="streaming"] .progress', text: 'Answering', timeoutMs: 30_000 });
    await sleep(300); // some tokens in
    await ui({ action: 'click', frame: FRAME, selector: '#cancel' });
    await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="cancelled"] .ending', text: 'Cancelled', timeoutMs: 10_000 });
    // The random model's greedy answer is blank lines (nothing visible): count its tokens instead.
    const stats = (await ui({ action: 'text', frame: FRAME, selector: '.turn:last-child .stats' })).text ?? '';
    const tokens = Number(/([\d,]+) answer tokens/.exec(stats)?.[1]?.replace(/,/g, ''));
    assert.ok(tokens > 0 && tokens < 3_000, `stopped part-way (${stats})`);
  });
});

hostTest('Ask: with prolong.engine.runtime "llama.cpp" and a .gguf model file, the engine answers on llama.cpp and says so', async () => {
  const prolong = await api();
  // the same random model as above, as a GGUF file; the runtime test/run.mjs installed into test/.llama-cpp
  const modelDir = await tinyModel({ shape: { vocabSize: 128256, tieWordEmbeddings: true }, withTokenizer: true, eosTokenIds: [128009], maxContext: 4096 });
  const gguf = join(tmpdir(), `tiny-${process.pid}.gguf`);
  await convertToGgufFile(checkpointDirOf(modelDir), gguf, { type: 'f32', maxContext: 4096, tokenizerFallback: resolveTokenizerPath() });
  const extensionPath = vscode.extensions.getExtension('prolong.prolong-vscode')!.extensionPath;
  const config = vscode.workspace.getConfiguration('prolong');
  try {
    await withConfiguredBackend({
      backend: 'local', 'engine.modelPath': gguf, 'engine.runtime': 'llama.cpp', 'engine.llamaCppPath': join(extensionPath, 'test', '.llama-cpp'),
      'engine.executionProvider': 'cpu', 'ask.maxAnswerTokens': 6,
    }, async () => {
      await ask('What does main.ts print, says llama.cpp?');
      await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child .question', text: 'says llama.cpp?' });
      await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="length"] .stats', text: '6 answer tokens', timeoutMs: 90_000 });
      const info = await prolong.backendInfo();
      assert.equal(info.kind, 'local');
      assert.match(info.detail ?? '', /llama\.cpp on the CPU .*KV cache held by llama\.cpp; llama\.cpp, as the setting prolong\.engine\.runtime asks/);
      // the same model as a runtime that cannot run it: the error names the setting
      await config.update('engine.runtime', 'onnx', vscode.ConfigurationTarget.Workspace);
      await ask('And on onnxruntime?');
      const error = await ui({ action: 'waitForText', frame: FRAME, selector: '.turn:last-child[data-status="error"] .error', text: 'GGUF file' });
      assert.match(error.text ?? '', /only the llama\.cpp runtime runs.*prolong\.engine\.runtime/);
    });
  } finally {
    rmSync(gguf, { force: true });
    await vscode.commands.executeCommand('prolong.newConversation');
  }
});

hostTest('Ask: a question sent while a cancelled answer is still ending is asked when it ends, not lost', async () => {
  const before = backend.requests.length;
  backend.script = async (_request, onEvent, signal) => {
    onEvent({ type: 'text', text: 'Partial' });
    await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
    await sleep(800); // a backend that takes a while to wind down
    return { text: 'Partial', finishReason: 'cancelled', promptTokens: 10, completionTokens: 1, totalMs: 1, warnings: [] };
  };
  await ask('First question?');
  await until('the first request', () => backend.requests.length === before + 1);
  backend.script = streaming(['Queued ', 'answer.']);
  await vscode.commands.executeCommand('prolong.newConversation');
  await ask('Second question?');
  await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="done"] .answer', text: 'Queued answer.' });
  const last = backend.requests.at(-1)!;
  assert.equal(backend.requests.length, before + 2);
  assert.match(last.messages.at(-1)!.content, /Second question\?/);
  assert.equal(last.messages.length, 2, 'the new conversation has no history');
  await vscode.commands.executeCommand('prolong.newConversation');
});

hostTest('Ask: New conversation empties the panel, and the next question has no history', async () => {
  await ui({ action: 'click', frame: FRAME, selector: '#new-conversation' });
  await ui({ action: 'waitForText', frame: FRAME, selector: '#conversation', text: 'Ask anything about the workspace' });
  assert.equal((await ui({ action: 'count', frame: FRAME, selector: '.turn' })).count, 0);
  backend.script = streaming(['Fresh.']);
  await ask('Start again?');
  await ui({ action: 'waitForText', frame: FRAME, selector: '.turn[data-status="done"] .answer', text: 'Fresh.' });
  assert.equal(backend.requests.at(-1)!.messages.length, 2);
  await vscode.commands.executeCommand('prolong.newConversation');
  await ui({ action: 'waitForText', frame: FRAME, selector: '#conversation', text: 'Ask anything about the workspace' });
  (await api()).overrideBackend(undefined);
});

hostTest('Ask: the Ask About Workspace command with a selection in a packed file starts the question with its citation, also while the view was hidden', async () => {
  const folder = vscode.workspace.workspaceFolders![0]!;
  await sleep(500); // the webview saves its (empty) draft a moment after the last question
  await vscode.commands.executeCommand('workbench.action.closeSidebar'); // the view reloads when shown: the request waits for it
  const editor = await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'main.ts'));
  editor.selection = new vscode.Selection(0, 0, 1, 5);
  await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  let value = '';
  const deadline = Date.now() + 10_000;
  while (value !== 'src/main.ts:1-2 ' && Date.now() < deadline) {
    value = (await ui({ action: 'value', frame: FRAME, selector: '#question textarea' })).text ?? '';
    await sleep(100);
  }
  assert.equal(value, 'src/main.ts:1-2 ');
  await ui({ action: 'fill', frame: FRAME, selector: '#question textarea', value: '' });
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});
