import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../engine/errors';
import type { Backend, BackendInfo, GenerateEvent, GenerateRequest, GenerateResult } from '../../engine/backends/types';
import { QUESTION_MARKER } from '../../engine/backends/prompt';
import { chatFollowups, handleChatRequest, type ChatDeps, type ChatOut } from '../../extension/chat/chatHandler';

const DOCUMENT = '<file path="src/config.ts">\nexport const port = 8080;\n</file>\n';
const PATHS = ['src/config.ts', 'src/server.ts', 'README.md'];

/** A backend that streams scripted pieces, and records the requests it got. */
class ScriptedBackend implements Backend {
  readonly requests: GenerateRequest[] = [];
  constructor(private readonly pieces: string[], private readonly options: { contextLength?: number; fail?: Error; waitForAbort?: boolean } = {}) {}
  async info(): Promise<BackendInfo> {
    return { kind: 'remote', model: 'scripted', detail: 'test', contextLength: this.options.contextLength };
  }
  async countPromptTokens() { return { tokens: 1, exact: true }; }
  async generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    this.requests.push(request);
    if (this.options.fail) throw this.options.fail;
    let text = '';
    for (const piece of this.pieces) {
      onEvent({ type: 'text', text: piece });
      text += piece;
    }
    if (this.options.waitForAbort) await new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
    const finishReason = signal?.aborted ? 'cancelled' : 'stop';
    return { text, finishReason, promptTokens: 10, completionTokens: this.pieces.length, totalMs: 1, warnings: [] };
  }
  async dispose() {}
}

function recorder(): { out: ChatOut; log: string[] } {
  const log: string[] = [];
  return {
    log,
    out: {
      progress: (m) => log.push(`progress:${m}`),
      markdown: (t) => log.push(`md:${t}`),
      reference: (p, l) => log.push(`ref:${p}${l === undefined ? '' : `:${l}`}`),
      anchor: (p, l, title) => log.push(`anchor:${p}${l === undefined ? '' : `:${l}`}=${title}`),
      button: (c, title, args) => log.push(`button:${c}=${title}${args ? JSON.stringify(args) : ''}`),
    },
  };
}

function deps(backend: Backend | (() => Promise<Backend>), extra: Partial<ChatDeps> = {}): ChatDeps {
  return {
    pack: async (_signal, onProgress) => { onProgress('Packing demo: 3 files'); return { document: DOCUMENT, paths: PATHS, reportMarkdown: '# Pack report\n3 files' }; },
    backend: typeof backend === 'function' ? backend : async () => backend,
    sampling: () => ({ maxTokens: 100, temperature: 0 }),
    answerRoom: (_info, max) => max,
    startProbes: async () => {},
    ...extra,
  };
}

test('an answer streams in order: progress, Markdown pieces, then references and file:line anchors of the cited files', async () => {
  const backend = new ScriptedBackend(['The port is set in ', 'src/config.ts:1', ' and read by src/server.ts.']);
  const { out, log } = recorder();
  const outcome = await handleChatRequest({ prompt: ' Where is the port? ' }, [], deps(backend), out, new AbortController().signal);
  assert.deepEqual(log, [
    'progress:Packing the workspace…', 'progress:Packing demo: 3 files', 'progress:Connecting to the model…', 'progress:Reading the repository…',
    'md:The port is set in ', 'md:src/config.ts:1', 'md: and read by src/server.ts.',
    'ref:src/config.ts:1', 'ref:src/server.ts',
    'md:\n\n**Cited:** ', 'anchor:src/config.ts:1=src/config.ts:1', 'md:, ', 'anchor:src/server.ts=src/server.ts',
  ]);
  assert.deepEqual(outcome, { kind: 'answer', finishReason: 'stop', cited: [{ path: 'src/config.ts', line: 1 }, { path: 'src/server.ts', line: undefined }] });
  // the same request shape as the panel: repository first, the question last
  const user = backend.requests[0]!.messages[1]!.content;
  assert.ok(user.startsWith(DOCUMENT));
  assert.ok(user.endsWith(`${QUESTION_MARKER}Where is the port?`));
  assert.deepEqual(chatFollowups(outcome).map((f) => f.label), ['What depends on src/config.ts?', 'Show the pack report']);
});

test('earlier exchanges go into the request after the repository, and a tight context cuts the answer room with a note', async () => {
  const backend = new ScriptedBackend(['Yes.']);
  const { out, log } = recorder();
  await handleChatRequest({ prompt: 'And the host?' }, [{ question: 'Where is the port?', answer: 'In src/config.ts.' }], deps(backend, { answerRoom: () => 40 }), out, new AbortController().signal);
  const messages = backend.requests[0]!.messages;
  assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.equal(messages[3]!.content, 'And the host?');
  assert.equal(backend.requests[0]!.sampling.maxTokens, 40);
  assert.ok(log.includes('md:\n\n> The model\'s context leaves room for about 40 answer tokens (prolong.ask.maxAnswerTokens is 100).'));
});

test('cancellation: an answer stopped by the token ends quietly, without references', async () => {
  const backend = new ScriptedBackend(['Partial src/config.ts'], { waitForAbort: true });
  const { out, log } = recorder();
  const controller = new AbortController();
  const running = handleChatRequest({ prompt: 'Q?' }, [], deps(backend), out, controller.signal);
  while (!log.some((l) => l.startsWith('md:'))) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  assert.deepEqual(await running, { kind: 'cancelled' });
  assert.ok(!log.some((l) => l.startsWith('ref:') || l.startsWith('anchor:') || l.includes('could not answer')));
});

test('an unconfigured backend: the error says what to configure, with a button that does it', async () => {
  const { out, log } = recorder();
  const failing = async (): Promise<Backend> => { throw new UserError('No ProLong server is configured.', 'Set one with ProLong: Configure Server (prolong.server.url).'); };
  const outcome = await handleChatRequest({ prompt: 'Q?' }, [], deps(failing), out, new AbortController().signal);
  assert.equal(outcome.kind, 'error');
  assert.deepEqual(log.slice(-2), [
    'md:**ProLong could not answer:** No ProLong server is configured. Set one with ProLong: Configure Server (prolong.server.url).',
    'button:prolong.configureServer=Configure Server',
  ]);
  const bug = recorder();
  const broken = await handleChatRequest({ prompt: 'Q?' }, [], deps(new ScriptedBackend([], { fail: new TypeError('x is undefined') })), bug.out, new AbortController().signal);
  assert.deepEqual(broken, { kind: 'error', message: 'Unexpected error: x is undefined' });
});

test('/pack shows the pack report with a button; /probe starts the probes', async () => {
  const { out, log } = recorder();
  const outcome = await handleChatRequest({ prompt: '', command: 'pack' }, [], deps(new ScriptedBackend([])), out, new AbortController().signal);
  assert.deepEqual(outcome, { kind: 'pack', files: 3 });
  assert.deepEqual(log.slice(-2), ['md:# Pack report\n3 files', 'button:prolong.openPackedDocument=Open Packed Document']);
  let started = 0;
  const probe = recorder();
  assert.deepEqual(await handleChatRequest({ prompt: '', command: 'probe' }, [], deps(new ScriptedBackend([]), { startProbes: async () => { started++; } }), probe.out, new AbortController().signal), { kind: 'probe' });
  assert.equal(started, 1);
  assert.equal(probe.log.at(-1), 'button:prolong.showProbes=Show Probes Panel');
});

test('an answer stopped at the token limit says so and offers to continue', async () => {
  class LimitedBackend extends ScriptedBackend {
    override async generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
      const result = await super.generate(request, onEvent, signal);
      return { ...result, finishReason: 'length', warnings: ['the server retried once'] };
    }
  }
  const { out, log } = recorder();
  const outcome = await handleChatRequest({ prompt: 'Explain everything.' }, [], deps(new LimitedBackend(['It starts in README.md'])), out, new AbortController().signal);
  assert.equal(outcome.kind, 'answer');
  assert.deepEqual(log.slice(-5), [
    'ref:README.md', 'md:\n\n**Cited:** ', 'anchor:README.md=README.md',
    'md:\n\n> the server retried once', 'md:\n\n> The answer stopped at `prolong.ask.maxAnswerTokens`.',
  ]);
  assert.deepEqual(chatFollowups(outcome).map((f) => f.label), ['Continue', 'What depends on README.md?', 'Show the pack report']);
});

test('a backend with a notice (the bundled demo model) ends the reply with it, after the answer', async () => {
  const backend = new ScriptedBackend(['It is in src/config.ts.']);
  backend.info = async () => ({ kind: 'local', model: 'prolong-demo-38m', detail: 'CPU', notice: 'This is ProLong\'s small demo model: it does not reason about code.' });
  const { out, log } = recorder();
  await handleChatRequest({ prompt: 'Where is the port?' }, [], deps(backend), out, new AbortController().signal);
  assert.equal(log[log.length - 1], 'md:\n\n> This is ProLong\'s small demo model: it does not reason about code.');
  assert.ok(log.indexOf('md:It is in src/config.ts.') < log.length - 1);
});
