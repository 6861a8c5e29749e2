/**
 * The Ask panel's conversation and the runs behind it, kept in the extension (the webview only renders): a
 * question packs the workspace when needed (re-packs after files changed; the packer is incremental and the
 * edit-aware order keeps the prefix stable), builds the chat request, streams the answer from the active
 * backend, and records how it ended, with time to first token and tokens/s. Cancel aborts the request.
 */
import * as vscode from 'vscode';
import { CancelledError, UserError, errorMessage } from '../../engine/errors';
import { QUESTION_MARKER, REPOSITORY_SYSTEM_PROMPT } from '../../engine/backends/prompt';
import type { Backend, BackendInfo, GenerateEvent, GenerateResult } from '../../engine/backends/types';
import { ContextTooLongError } from '../../engine/backends/remote/problems';
import type { LastPack, WorkspacePacking } from '../pack';
import { backendInfoIsCheap, backendSetting, demoModelBeforeLoad, getBackend, onDidChangeBackend } from '../backend';
import { ACTIVE_STATUSES, RETRYABLE_STATUSES, type AskViewState, type BackendSummary, type Onboarding, type PanelAction, type Turn, type TurnStatus } from '../../webview/ask/protocol';
import { historyOf } from './conversation';
import { runAsk } from './askCore';
import { answerRoom, contextBudget } from './budget';
import { answerStats, packChange } from './stats';
import { TokenCounts } from './tokenCounts';
import { configuredEngineContext, countingTokenizerPath } from '../settings';
import { exampleQuestions } from './onboarding';
import { groupDigits as n } from '../../webview/shared/numbers';
import { describeDropped, namedDroppedFiles } from '../../engine/packer/budget';

const STORAGE_KEY = 'prolong.ask.conversation';
/** Past conversations of this workspace (newest first), for "Open Past Conversation". */
const HISTORY_KEY = 'prolong.ask.history';
const HISTORY_SIZE = 30;

interface PastConversation {
  savedAt: number;
  turns: Turn[];
}
/** The last pack's folder and file list, so a restored conversation's citations link before anything re-packs. */
const PACKED_PATHS_KEY = 'prolong.ask.packedPaths';

interface SavedPaths {
  folder: string;
  paths: string[];
}

export interface AskSessionEvents {
  /** Anything but the streamed text changed. */
  changed(): void;
  delta(turnId: number, text: string): void;
  /** The packed file list changed (a new pack). */
  packed(paths: string[]): void;
}

export class AskSession implements vscode.Disposable {
  private turns: Turn[] = [];
  private nextId = 1;
  private running: { turnId: number; controller: AbortController } | undefined;
  private pack: LastPack | undefined;
  /** The file list of the pack before a reload, until the first pack of this session. */
  private restoredPaths: SavedPaths | undefined;
  private stale = true;
  /** File changes seen so far (a pack that saw one while reading is stale when it ends). */
  private changes = 0;
  private draft = '';
  /** Files the user asked to have packed ("Ask again with it packed"): the budget keeps them from then on. */
  private readonly pinned = new Set<string>();
  /** A question sent while another was still running; asked when it ends. */
  private queued: string | undefined;
  private info: { backend: Backend; info: BackendInfo } | undefined;
  private backendProblem: string | undefined;
  /** Bumped when the backend changes, so a lookup for the old one does not land after it. */
  private backendGeneration = 0;
  /** Counts for the budget, off the extension host's thread; a landed count refreshes the panel. */
  private readonly tokenCounts = new TokenCounts((text, tokenizerPath) => this.packing.countTokens(text, tokenizerPath), () => this.countsChanged());
  private countsTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly packing: WorkspacePacking,
    private readonly events: AskSessionEvents,
  ) {
    const saved = context.workspaceState.get<Turn[]>(STORAGE_KEY);
    if (Array.isArray(saved)) {
      this.turns = saved.filter((turn) => !ACTIVE_STATUSES.includes(turn.status));
      this.nextId = Math.max(0, ...this.turns.map((turn) => turn.id)) + 1;
    }
    const paths = context.workspaceState.get<SavedPaths>(PACKED_PATHS_KEY);
    if (paths && typeof paths.folder === 'string' && Array.isArray(paths.paths) && paths.paths.every((p) => typeof p === 'string')) this.restoredPaths = paths;
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const markStale = (uri: vscode.Uri) => {
      if (/(^|\/)\.git\//.test(uri.path)) return;
      this.changes++;
      if (this.stale) return;
      this.stale = true;
      this.events.changed();
    };
    this.disposables.push(
      watcher, watcher.onDidCreate(markStale), watcher.onDidChange(markStale), watcher.onDidDelete(markStale),
      vscode.workspace.onDidChangeConfiguration((event) => {
        // what is packed, and how, follows the model too: its tokenizer counts, and it may want the definitions index
        if (['prolong.pack', 'prolong.tokenizer', 'prolong.engine.modelPath', 'prolong.backend', 'prolong.server.url'].some((key) => event.affectsConfiguration(key))) this.stale = true;
        if (event.affectsConfiguration('prolong.ask') || event.affectsConfiguration('prolong.pack') || event.affectsConfiguration('prolong.server')
          || event.affectsConfiguration('prolong.engine') || event.affectsConfiguration('prolong.backend')) this.events.changed();
      }),
      packing.onDidPack((pack) => this.usePack(pack)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.events.changed()),
      onDidChangeBackend(() => {
        this.info = undefined;
        this.backendProblem = undefined;
        this.backendGeneration++;
        this.events.changed();
      }),
    );
    if (packing.lastPack) this.usePack(packing.lastPack);
  }

  /** The folder of the pack the panel uses, if any. */
  packedFolder(): vscode.WorkspaceFolder | undefined {
    if (this.pack) return this.pack.folder;
    const restored = this.restoredPaths;
    return restored && vscode.workspace.workspaceFolders?.find((folder) => folder.uri.toString() === restored.folder);
  }

  /** The pack the panel asks with (packed again when stale), for the chat participant: one pack, one warm prefix. */
  currentPack(signal: AbortSignal, onProgress: (message: string, fraction?: number) => void): Promise<LastPack> {
    return this.ensurePack(signal, onProgress);
  }

  /** The packed files; after a reload, the last pack's (saved) until the workspace is packed again. */
  packedPaths(): string[] {
    if (this.pack) return this.pack.result.files.map((file) => file.path);
    return this.packedFolder() ? this.restoredPaths?.paths ?? [] : [];
  }

  state(): AskViewState {
    return {
      turns: this.turns,
      budget: this.budget(),
      pack: this.pack && {
        folder: this.pack.folder.name, files: this.pack.result.files.length, tokens: this.pack.result.totalTokens, stale: this.stale,
      },
      backend: this.backendSummary(),
      onboarding: this.turns.length === 0 ? this.onboarding() : undefined,
    };
  }

  /** The empty view's call to action: open a folder, connect a backend, or example questions about this repository. */
  private onboarding(): Onboarding {
    if ((vscode.workspace.workspaceFolders ?? []).length === 0) return { situation: 'noFolder' };
    if (!this.info) {
      const setting = backendSetting();
      // (the local engine always has a model: without prolong.engine.modelPath, the bundled demo model)
      if (setting === 'remote' && !vscode.workspace.getConfiguration('prolong.server').get<string>('url')?.trim()) return { situation: 'noBackend', backend: 'remote' };
    }
    return { situation: 'ready', examples: exampleQuestions(this.pack?.result.files.map((file) => file.path) ?? []) };
  }

  setDraft(question: string): void {
    this.draft = question;
  }

  /** Looks up the backend's model and context length for the budget, when that costs no model load. */
  async refreshBackendInfo(): Promise<void> {
    if (this.info || !backendInfoIsCheap()) return;
    const generation = this.backendGeneration;
    let found: { backend: Backend; info: BackendInfo } | undefined;
    let problem: string | undefined;
    try {
      const backend = await getBackend();
      found = { backend, info: await backend.info(AbortSignal.timeout(15_000)) };
    } catch (error) {
      problem = errorMessage(error);
    }
    if (generation !== this.backendGeneration) return;
    this.info = found;
    this.backendProblem = problem;
    this.events.changed();
  }

  async ask(question: string): Promise<void> {
    question = question.trim();
    if (!question) return;
    if (this.running) {
      // Sent while an answer is still ending (just after New Conversation, say): asked as soon as it ends, never lost.
      this.queued = question;
      this.events.changed();
      return;
    }
    const turn: Turn = { id: this.nextId++, question, answer: '', status: 'packing', warnings: [], startedAt: Date.now() };
    const history = historyOf(this.turns);
    this.turns.push(turn);
    this.draft = '';
    const controller = new AbortController();
    this.running = { turnId: turn.id, controller };
    const update = (status: TurnStatus, progress?: string, fraction?: number) => {
      turn.status = status;
      turn.progress = progress;
      turn.progressFraction = fraction;
      this.events.changed();
    };
    // the files the conversation so far was asked with (after a reload, the saved list): a change is announced
    const before = history.length > 0 && this.packedFolder() ? new Set(this.packedPaths()) : undefined;
    try {
      let pack: LastPack | undefined;
      let streamedText = false;
      const onEvent = (event: GenerateEvent) => {
        if (event.type === 'prefill') {
          const reused = event.reusedTokens > 0 ? ` (${n(event.reusedTokens)} reused from the cache)` : '';
          update('prefill', `Reading ${n(event.doneTokens)} / ${n(event.totalTokens)} prompt tokens${reused}`, event.totalTokens > 0 ? event.doneTokens / event.totalTokens : undefined);
        } else if (event.type === 'first-token') {
          update('streaming');
        } else if (event.type === 'text') {
          // the state goes out before the piece is added, so the panel does not get the first piece twice
          // (once in the state, once as a delta)
          if (!streamedText) {
            streamedText = true;
            update('streaming');
          }
          turn.answer += event.text;
          this.events.delta(turn.id, event.text);
        } else if (event.type === 'warning') {
          turn.warnings.push(event.message);
          this.events.changed();
        }
      };
      const result = await runAsk({
        question, history, sampling: this.sampling(),
        pack: async (signal) => {
          pack = await this.ensurePack(signal, (message, fraction) => update('packing', message, fraction));
          const change = before && packChange(before, pack.result.files.map((file) => file.path));
          if (change) turn.warnings.push(`The packed repository changed since the last question (${change}); the model reads the new one from here on.`);
          this.noteLeftOut(turn, pack);
          return pack.result.document;
        },
        backend: getBackend,
        onStage: (stage) => stage === 'connecting'
          ? update('connecting', `Connecting to the ${backendSetting() === 'local' ? 'local engine (the first question loads the model)' : 'server'}…`)
          : update('prefill', 'Reading the repository…'),
        onInfo: (backend, info) => {
          this.info = { backend, info };
          this.backendProblem = undefined;
        },
        answerRoom: (_info, maxTokens) => answerRoom(this.budget(), maxTokens),
        onWarning: (message) => turn.warnings.push(message),
        onEvent,
      }, controller.signal);
      this.finish(turn, result);
      if (pack) this.noteLeftOut(turn, pack);
    } catch (error) {
      if (error instanceof CancelledError || controller.signal.aborted) {
        turn.status = 'cancelled';
      } else {
        turn.status = turn.answer ? 'cut' : 'error';
        turn.error = error instanceof UserError ? errorMessage(error) : `Unexpected error: ${errorMessage(error)}`;
        turn.errorAction = errorAction(error);
      }
    } finally {
      turn.progress = undefined;
      turn.progressFraction = undefined;
      this.running = undefined;
      this.save();
      this.events.changed();
    }
    const queued = this.queued;
    this.queued = undefined;
    if (queued) await this.ask(queued);
  }

  /** Asks the question of a failed, cut or cancelled turn again, in its place. */
  async retry(turnId: number): Promise<void> {
    const turn = this.turns.find((t) => t.id === turnId);
    if (!turn || !RETRYABLE_STATUSES.includes(turn.status) || this.running) return;
    this.turns = this.turns.filter((t) => t !== turn);
    await this.ask(turn.question);
  }

  /** Asks a turn's question again with the left-out files it named packed (the budget keeps them from now on). */
  async askWithLeftOut(turnId: number): Promise<void> {
    const turn = this.turns.find((t) => t.id === turnId);
    if (!turn?.leftOut?.length || this.running) return;
    for (const path of turn.leftOut) this.pinned.add(path);
    this.stale = true;
    await this.ask(turn.question);
  }

  /** Says in the turn which files its question or answer names that the token budget left out of the context. */
  private noteLeftOut(turn: Turn, pack: LastPack): void {
    if (pack.result.dropped.length === 0) return;
    const named = namedDroppedFiles(`${turn.question}\n${turn.answer}`, pack.result.dropped.map((file) => file.path));
    const fresh = named.filter((path) => !turn.leftOut?.includes(path));
    if (fresh.length === 0) return;
    turn.leftOut = [...(turn.leftOut ?? []), ...fresh];
    const list = fresh.length <= 3 ? fresh.join(', ') : `${fresh.slice(0, 3).join(', ')} and ${n(fresh.length - 3)} more`;
    turn.warnings.push(`Not in the model's context: ${list} (left out by the token budget), so the answer cannot have read ${fresh.length === 1 ? 'it' : 'them'}.`);
    this.events.changed();
  }

  answerOf(turnId: number): string | undefined {
    return this.turns.find((t) => t.id === turnId)?.answer;
  }

  /** Stops the running answer, and drops a question waiting for it. */
  cancel(): void {
    this.queued = undefined;
    this.running?.controller.abort();
  }

  newConversation(): void {
    this.cancel();
    this.archive();
    this.turns = [];
    this.save();
    this.events.changed();
  }

  /** Keeps the conversation shown (if any) in this workspace's history. */
  private archive(): void {
    const turns = this.turns.filter((turn) => !ACTIVE_STATUSES.includes(turn.status));
    if (turns.length === 0) return;
    const history = this.context.workspaceState.get<PastConversation[]>(HISTORY_KEY) ?? [];
    const key = JSON.stringify(turns.map((turn) => [turn.question, turn.answer]));
    const rest = history.filter((past) => JSON.stringify(past.turns.map((turn) => [turn.question, turn.answer])) !== key);
    void this.context.workspaceState.update(HISTORY_KEY, [{ savedAt: Date.now(), turns }, ...rest].slice(0, HISTORY_SIZE));
  }

  /** "Open Past Conversation": picks one of this workspace's earlier conversations and shows it (the current one is kept). */
  async openPastConversation(): Promise<void> {
    const history = this.context.workspaceState.get<PastConversation[]>(HISTORY_KEY) ?? [];
    if (history.length === 0) {
      void vscode.window.showInformationMessage('ProLong: no past conversations in this workspace yet (New Conversation keeps the current one here).');
      return;
    }
    type Item = vscode.QuickPickItem & { index: number };
    const items: Item[] = history.map((past, index) => ({
      label: past.turns[0]!.question.split('\n')[0]!.slice(0, 100),
      description: `${past.turns.length} question${past.turns.length === 1 ? '' : 's'} · ${new Date(past.savedAt).toLocaleString()}`,
      detail: past.turns.length > 1 ? `then: ${past.turns.slice(1).map((turn) => turn.question.split('\n')[0]).join(' · ').slice(0, 160)}` : undefined,
      index,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: 'ProLong: Open Past Conversation', placeHolder: 'Conversations in this workspace, newest first', matchOnDetail: true });
    if (!picked) return;
    const chosen = history[picked.index]!;
    this.cancel();
    this.archive();
    const remaining = (this.context.workspaceState.get<PastConversation[]>(HISTORY_KEY) ?? []).filter((past) => past.savedAt !== chosen.savedAt);
    await this.context.workspaceState.update(HISTORY_KEY, remaining);
    this.turns = chosen.turns;
    this.nextId = Math.max(this.nextId, ...this.turns.map((turn) => turn.id + 1));
    this.save();
    this.events.changed();
    await vscode.commands.executeCommand('prolong.askAboutWorkspace');
  }

  private finish(turn: Turn, result: GenerateResult): void {
    // The result's text is authoritative (a backend may hold back a partial stop string while streaming).
    turn.answer = result.text;
    const statuses: Record<GenerateResult['finishReason'], TurnStatus> = { stop: 'done', length: 'length', cancelled: 'cancelled', cut: 'cut' };
    turn.status = statuses[result.finishReason];
    turn.warnings.push(...result.warnings.filter((warning) => !turn.warnings.includes(warning)));
    turn.stats = answerStats(result);
  }

  private usePack(pack: LastPack): void {
    this.pack = pack;
    this.restoredPaths = undefined;
    this.stale = false;
    void this.context.workspaceState.update(PACKED_PATHS_KEY, { folder: pack.folder.uri.toString(), paths: this.packedPaths() } satisfies SavedPaths);
    this.events.packed(this.packedPaths());
    this.events.changed();
  }

  /** The current pack of the workspace folder, packing again when files or settings changed since. */
  private async ensurePack(signal: AbortSignal, onProgress: (message: string, fraction?: number) => void): Promise<LastPack> {
    const folder = await this.folder();
    if (this.pack && !this.stale && this.pack.folder.uri.toString() === folder.uri.toString()) return this.pack;
    onProgress(this.pack ? 'Re-packing the changed files…' : `Packing ${folder.name}…`);
    const source = new vscode.CancellationTokenSource();
    const abort = () => source.cancel();
    signal.addEventListener('abort', abort);
    let done = 0;
    const changesBefore = this.changes;
    try {
      const pack = await this.packing.pack(folder, (message, increment) => {
        done += increment ?? 0;
        onProgress(`Packing ${folder.name}: ${message}`, increment === undefined ? undefined : Math.min(1, done / 100));
      }, source.token, [...this.pinned]);
      // usePack ran through onDidPack; a change while the pack was reading files makes it stale again.
      if (this.changes !== changesBefore) this.stale = true;
      return pack;
    } catch (error) {
      this.stale = true;
      throw error;
    } finally {
      signal.removeEventListener('abort', abort);
      source.dispose();
    }
  }

  private async folder(): Promise<vscode.WorkspaceFolder> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) throw new UserError('There is no workspace folder to ask about.', 'Open a folder (File > Open Folder), then ask again.');
    const packed = this.pack && folders.find((folder) => folder.uri.toString() === this.pack!.folder.uri.toString());
    if (packed) return packed;
    if (folders.length === 1) return folders[0]!;
    const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to ask about' });
    if (!picked) throw new CancelledError('choosing a folder');
    return picked;
  }

  private sampling(): { maxTokens: number; temperature: number } {
    const config = vscode.workspace.getConfiguration('prolong.ask');
    const maxTokens = config.get<number>('maxAnswerTokens');
    const temperature = config.get<number>('temperature');
    return {
      maxTokens: typeof maxTokens === 'number' && maxTokens >= 1 ? Math.floor(maxTokens) : 2048,
      temperature: typeof temperature === 'number' && temperature >= 0 ? temperature : 0,
    };
  }

  private budget() {
    const history = historyOf(this.turns.filter((turn) => turn.id !== this.running?.turnId));
    const runningTurn = this.turns.find((turn) => turn.id === this.running?.turnId);
    const texts = history.flatMap((exchange) => [exchange.question, exchange.answer]);
    // the running answer is inside the answer room reserved below; counting it as it streams would also re-count
    // and re-post the whole conversation after every count
    if (runningTurn) texts.push(runningTurn.question);
    else if (this.draft.trim()) texts.push(this.draft);
    const tokenizerPath = countingTokenizerPath() ?? '';
    const count = (text: string) => this.tokenCounts.get(text, tokenizerPath);
    const budget = contextBudget({
      repositoryTokens: this.pack?.result.totalTokens ?? 0,
      conversationTokens: texts.reduce((sum, text) => sum + count(text), 0),
      fixedPromptTokens: count(REPOSITORY_SYSTEM_PROMPT) + count(QUESTION_MARKER),
      messages: 2 + 2 * history.length,
      answerTokens: this.sampling().maxTokens,
      contextLength: this.info?.info.contextLength ?? configuredEngineContext(),
      droppedFiles: this.pack?.result.dropped.length ?? 0,
    });
    if (this.pack && this.pack.result.dropped.length > 0) budget.droppedByKind = describeDropped(this.pack.result.dropped);
    return budget;
  }

  private backendSummary(): BackendSummary {
    const setting = backendSetting();
    if (this.info) {
      const { kind, model, detail, notice } = this.info.info;
      // the local engine's detail starts with where it runs and why ("WebGPU: …; KV cache …"): shown, not only hovered
      const runsOn = kind === 'local' ? detail.split(';')[0]?.trim() : undefined;
      return { label: `${kind} · ${model}`, detail, runsOn, ...(notice ? { notice } : {}) };
    }
    // before the first question loads it, the demo model is known from the settings: its notice shows from the start
    const demo = demoModelBeforeLoad();
    const known = demo ? { label: `local · ${demo.name}`, notice: demo.notice } : { label: setting };
    if (this.backendProblem) return { ...known, detail: '', problem: this.backendProblem };
    return { ...known, detail: setting === 'local' ? 'the bundled engine loads its model on the first question' : '' };
  }

  private save(): void {
    void this.context.workspaceState.update(STORAGE_KEY, this.turns.filter((turn) => !ACTIVE_STATUSES.includes(turn.status)));
  }

  /** Counts arrive in bursts (every text of a restored conversation): refresh the panel once per burst. */
  private countsChanged(): void {
    if (this.countsTimer) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = undefined;
      this.events.changed();
    }, 50);
  }

  dispose(): void {
    this.cancel();
    clearTimeout(this.countsTimer);
    this.tokenCounts.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** A button that helps with an error, where one does. */
function errorAction(error: unknown): PanelAction | undefined {
  const message = errorMessage(error);
  if (error instanceof ContextTooLongError || /prolong\.pack\.tokenBudget/.test(message)) return 'openTokenBudgetSetting';
  if (/Configure Server|prolong\.server\./.test(message)) return 'configureServer';
  if (/"ProLong: Select Model"/.test(message)) return 'chooseLocalModel';
  if (/prolong\.engine\.|prolong\.backend/.test(message)) return 'openBackendSettings';
  if (/prolong\.pack\.|prolong\.tokenizer\./.test(message)) return 'showPackReport';
  return undefined;
}

