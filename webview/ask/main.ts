/**
 * The Ask panel's webview: the conversation (questions, streamed answers rendered as safe Markdown with citation
 * links), the context budget, and the question box with Ask / Cancel / New conversation. It renders what the
 * extension sends and keeps a copy in getState/setState so a hidden-then-shown view paints at once.
 */
import {
  provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDivider, vsCodeProgressRing, vsCodeTextArea,
} from '@vscode/webview-ui-toolkit';
import { webviewChannel } from '../shared/vscodeApi';
import { PathIndex } from './citations';
import { renderMarkdown } from './markdown';
import {
  ACTIVE_STATUSES, RETRYABLE_STATUSES, type AskViewState, type AskWebviewState, type ContextBudget, type PanelAction, type ToExtension, type ToWebview, type Turn,
} from './protocol';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeTextArea(), vsCodeProgressRing(), vsCodeBadge(), vsCodeDivider());

const channel = webviewChannel<ToExtension, ToWebview, AskWebviewState>();
const saved = channel.state();
let view: AskViewState | undefined = saved?.view;
let paths = new PathIndex([]);
/** Rendered answers by turn, so a state update does not re-render every answer of a long conversation. */
const rendered = new Map<number, { answer: string; paths: PathIndex; html: string }>();

function answerHtml(turn: Turn): string {
  const cached = rendered.get(turn.id);
  if (cached && cached.answer === turn.answer && cached.paths === paths) return cached.html;
  const html = renderMarkdown(turn.answer, paths); // every character of model text escaped
  rendered.set(turn.id, { answer: turn.answer, paths, html });
  return html;
}

/** The toolkit's <vscode-text-area> exposes `value` like a textarea. */
type ValueElement = HTMLElement & { value: string };

const root = document.getElementById('root')!;
root.innerHTML = `
<header class="ask-header">
  <div class="ask-summary" id="pack-summary"></div>
  <div class="ask-backend" id="backend-summary"></div>
</header>
<section class="ask-budget" id="budget" aria-label="Context budget"></section>
<main class="ask-conversation" id="conversation" aria-label="Conversation"></main>
<footer class="ask-input">
  <vscode-text-area id="question" resize="vertical" rows="3" placeholder="Ask about this workspace (Enter to send, Shift+Enter for a new line)" aria-label="Question"></vscode-text-area>
  <div class="ask-buttons">
    <vscode-button id="ask" appearance="primary">Ask</vscode-button>
    <vscode-button id="cancel" appearance="secondary" hidden>Cancel</vscode-button>
    <span class="spacer"></span>
    <vscode-button id="new-conversation" appearance="secondary" title="Start a new conversation (the repository stays packed)">New conversation</vscode-button>
  </div>
</footer>`;

const question = document.getElementById('question') as ValueElement;
let draftTimer: number | undefined;
const askButton = document.getElementById('ask')!;
const cancelButton = document.getElementById('cancel')!;
const conversation = document.getElementById('conversation')!;
question.value = saved?.draft ?? '';

function running(): Turn | undefined {
  return view?.turns.find((turn) => ACTIVE_STATUSES.includes(turn.status));
}

/** True from sending a question until the extension's next state (which shows it running). */
let sending = false;
/** Set on send: the next render scrolls the new turn into view (however far up the reader was). */
let revealNewTurn = false;
/**
 * Whether the view follows a streaming answer: on from a send, off once the reader scrolls up away from the end,
 * on again when they scroll back to it.
 */
let follow = true;
/** The scrollTop we set ourselves, so our own scrolls are not taken for the reader's. */
let ownScrollTop: number | undefined;

function send(): void {
  const text = question.value.trim();
  if (!text || running() || sending) return;
  sending = true;
  revealNewTurn = true;
  follow = true;
  rememberQuestion(text);
  window.clearTimeout(draftTimer); // the question is no longer a draft
  channel.post({ type: 'ask', question: text });
  question.value = '';
  saveState();
}

/** Questions asked from this view, oldest first (kept with the webview's state), for ↑ / ↓ recall. */
const asked: string[] = saved?.questions ?? [];
const MAX_RECALL = 100;
/** Where ↑ / ↓ are in `recallList()`; undefined when the box holds the user's own text. */
let recallAt: number | undefined;

function rememberQuestion(question: string): void {
  const at = asked.indexOf(question);
  if (at >= 0) asked.splice(at, 1);
  asked.push(question);
  if (asked.length > MAX_RECALL) asked.splice(0, asked.length - MAX_RECALL);
  recallAt = undefined;
}

/** Earlier questions: this view's, and those of the conversation shown (restored after a reload). */
function recallList(): string[] {
  const list = [...(view?.turns ?? []).map((turn) => turn.question).filter((q) => !asked.includes(q)), ...asked];
  return list;
}

/** ↑ in an empty box (or one showing a recalled question) recalls the question before; ↓ the one after. */
function recall(direction: -1 | 1): boolean {
  const list = recallList();
  const value = question.value;
  if (recallAt !== undefined && list[recallAt] !== value) recallAt = undefined;
  // a box showing an earlier question (recalled before the view reloaded, say) goes on from that question
  if (recallAt === undefined && value.trim() !== '') {
    const at = list.lastIndexOf(value);
    if (at < 0) return false;
    recallAt = at;
  }
  if (list.length === 0) return false;
  const next = recallAt === undefined ? (direction < 0 ? list.length - 1 : undefined) : recallAt + direction;
  if (next === undefined || next < 0) return next !== undefined;
  if (next >= list.length) {
    recallAt = undefined;
    question.value = '';
    return true;
  }
  recallAt = next;
  question.value = list[next]!;
  saveState();
  return true;
}

askButton.addEventListener('click', send);
cancelButton.addEventListener('click', () => channel.post({ type: 'cancel' }));
document.getElementById('new-conversation')!.addEventListener('click', () => channel.post({ type: 'newConversation' }));
question.addEventListener('keydown', (event: KeyboardEvent) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  } else if ((event.key === 'ArrowUp' || event.key === 'ArrowDown') && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
    if (recall(event.key === 'ArrowUp' ? -1 : 1)) event.preventDefault();
  } else if (event.key === 'Escape' && running()) {
    channel.post({ type: 'cancel' });
  }
});
question.addEventListener('input', () => {
  if (recallAt !== undefined && recallList()[recallAt] !== question.value) recallAt = undefined;
  saveState();
  // The budget counts the draft too; tell the extension once typing pauses.
  window.clearTimeout(draftTimer);
  draftTimer = window.setTimeout(() => channel.post({ type: 'draft', question: question.value }), 400);
});

// Citation links and action buttons, by delegation (the conversation is re-rendered often).
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const citation = target?.closest<HTMLAnchorElement>('a.citation');
  if (citation) {
    event.preventDefault();
    const line = citation.dataset.line ? Number(citation.dataset.line) : undefined;
    const endLine = citation.dataset.endLine ? Number(citation.dataset.endLine) : undefined;
    channel.post({ type: 'openFile', path: citation.dataset.path ?? '', line, endLine });
    return;
  }
  const example = target?.closest<HTMLElement>('a.example');
  if (example) {
    event.preventDefault();
    question.value = example.dataset.example ?? '';
    send();
    return;
  }
  const codeAction = target?.closest<HTMLElement>('[data-code-action]');
  if (codeAction) {
    const code = codeAction.closest('.code-block')?.querySelector('pre')?.textContent ?? '';
    const action = codeAction.dataset.codeAction === 'insert' ? 'insert' : 'copy';
    channel.post({ type: 'code', action, code });
    acknowledge(codeAction, action === 'copy' ? 'Copied' : 'Inserted');
    return;
  }
  const action = target?.closest<HTMLElement>('[data-action]');
  if (action) {
    event.preventDefault();
    channel.post({ type: 'action', action: action.dataset.action as PanelAction });
  }
  const turnAction = target?.closest<HTMLElement>('[data-turn-action]');
  if (turnAction) {
    const turnId = Number(turnAction.dataset.turnId);
    const kind = turnAction.dataset.turnAction;
    channel.post(kind === 'retry' ? { type: 'retry', turnId } : kind === 'packWith' ? { type: 'askWithLeftOut', turnId } : { type: 'copyAnswer', turnId });
    if (turnAction.dataset.turnAction === 'copy') acknowledge(turnAction, 'Copied');
  }
});

channel.onMessage((message) => {
  switch (message.type) {
    case 'state':
      view = message.state;
      sending = false;
      for (const id of rendered.keys()) if (!view.turns.some((turn) => turn.id === id)) rendered.delete(id);
      renderAll();
      saveState();
      return;
    case 'paths':
      paths = new PathIndex(message.paths);
      pathsVersion++;
      renderConversation();
      return;
    case 'delta': {
      const turn = view?.turns.find((t) => t.id === message.turnId);
      if (!turn) return;
      turn.answer += message.text;
      scheduleAnswer(turn);
      return;
    }
    case 'focus':
      if (message.reference && question.value.trim() === '') {
        question.value = `${message.reference} `;
        saveState();
      }
      question.focus();
      return;
  }
});

/** Streamed pieces arrive faster than frames: render each answer at most once per frame. */
const pendingAnswers = new Map<number, Turn>();
let frame: number | undefined;
function scheduleAnswer(turn: Turn): void {
  pendingAnswers.set(turn.id, turn);
  frame ??= requestAnimationFrame(() => {
    frame = undefined;
    const stick = nearBottom();
    for (const pending of pendingAnswers.values()) {
      const element = conversation.querySelector<HTMLElement>(`[data-turn="${pending.id}"] .answer`);
      if (element) {
        element.innerHTML = answerHtml(pending);
        decorateCodeBlocks(element);
      }
    }
    pendingAnswers.clear();
    if (stick || follow) scrollToEnd();
    saveState();
  });
}

function nearBottom(): boolean {
  return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 40;
}

function scrollToEnd(): void {
  conversation.scrollTop = conversation.scrollHeight;
  ownScrollTop = conversation.scrollTop;
}

conversation.addEventListener('scroll', () => {
  if (ownScrollTop !== undefined && Math.abs(conversation.scrollTop - ownScrollTop) < 2) return;
  ownScrollTop = undefined;
  follow = nearBottom();
});

let saveTimer: number | undefined;
function saveState(): void {
  window.clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => channel.saveState({ draft: question.value, view, questions: asked }), 200);
}

function renderAll(): void {
  renderHeader();
  renderBudget();
  renderConversation();
  const busy = running() !== undefined;
  askButton.toggleAttribute('disabled', busy);
  cancelButton.hidden = !busy;
}

function renderHeader(): void {
  const pack = view?.pack;
  const summary = document.getElementById('pack-summary')!;
  summary.replaceChildren();
  if (pack) {
    summary.append(text('span', `${pack.folder} · ${pack.files.toLocaleString('en-US')} files · ${pack.tokens.toLocaleString('en-US')} tokens`));
    if (pack.stale) summary.append(text('span', ' · changed: re-packs on the next question', 'stale'));
  } else {
    summary.append(text('span', 'Not packed yet: the first question packs the workspace.'));
  }
  const backend = document.getElementById('backend-summary')!;
  backend.replaceChildren();
  if (view?.backend) {
    const label = text('span', view.backend.label, 'backend-label');
    label.title = view.backend.detail;
    backend.append(label);
    const change = document.createElement('a');
    change.href = '#';
    change.className = 'switch-model';
    change.dataset.action = 'switchModel';
    change.textContent = 'Switch';
    change.title = 'Choose another model or backend';
    backend.append(' ', change);
    if (view.backend.runsOn) backend.append(text('div', `Runs on ${view.backend.runsOn}`, 'runs-on'));
    if (view.backend.notice) {
      // the bundled demo model: what it can and cannot do, and the two ways to a real model, always in view
      const notice = text('div', view.backend.notice, 'backend-notice');
      notice.setAttribute('role', 'note');
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(actionButton('chooseLocalModel', 'Select Model'), actionButton('configureServer', 'Configure Server'), actionButton('runProbes', 'Run Probes'));
      notice.append(actions);
      backend.append(notice);
    }
    if (view.backend.problem) {
      // one line here (its first sentence); the turn that met the problem shows it whole, with a button
      const problem = text('div', `⚠ ${firstSentence(view.backend.problem)}`, 'problem');
      problem.title = view.backend.problem;
      backend.append(problem);
    }
  }
}

function renderBudget(): void {
  const section = document.getElementById('budget')!;
  section.replaceChildren();
  const budget = view?.budget;
  if (!budget) return;
  section.dataset.fit = budget.fit;
  const context = budget.contextLength;
  const line = text('div', !view?.pack
    ? `Context: ${context ? `${context.toLocaleString('en-US')} tokens; ` : ''}the repository is counted when it is packed`
    : context
    ? `Context: ${budget.totalTokens.toLocaleString('en-US')} of ${context.toLocaleString('en-US')} tokens`
    : `Context: ${budget.totalTokens.toLocaleString('en-US')} tokens (the model's context length is not known yet)`, 'budget-line');
  line.title = budgetTooltip(budget);
  section.append(line);
  if (context) section.append(meter(budget, context));
  if (budget.droppedFiles > 0) {
    const note = text('div', `${budget.droppedFiles.toLocaleString('en-US')} files left out to meet the token budget${budget.droppedByKind ? `: ${budget.droppedByKind}` : ''}. `, 'budget-note');
    const report = document.createElement('a');
    report.href = '#';
    report.dataset.action = 'showPackReport';
    report.textContent = 'Show which';
    note.append(report);
    section.append(note);
  }
  if (budget.advice) {
    const advice = text('div', budget.advice, budget.fit === 'over' ? 'budget-warning' : 'budget-note');
    advice.setAttribute('role', budget.fit === 'over' ? 'alert' : 'status');
    section.append(advice);
    // the buttons do what the advice says (for a tight fit too, when a new conversation is the way out)
    if (budget.remedies && budget.remedies.length > 0) {
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(...budget.remedies.map((action) => actionButton(action, actionLabels[action])));
      section.append(actions);
    }
  }
}

function budgetTooltip(budget: ContextBudget): string {
  return [`repository ${budget.repositoryTokens.toLocaleString('en-US')}`, `conversation ${budget.conversationTokens.toLocaleString('en-US')}`,
    `prompt overhead ~${budget.overheadTokens.toLocaleString('en-US')}`, `room for the answer ${budget.answerTokens.toLocaleString('en-US')}`].join('\n');
}

function meter(budget: ContextBudget, context: number): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'meter';
  bar.setAttribute('role', 'meter');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(context));
  bar.setAttribute('aria-valuenow', String(Math.min(budget.totalTokens, context)));
  const parts: [string, number][] = [
    ['repository', budget.repositoryTokens],
    ['conversation', budget.conversationTokens + budget.overheadTokens],
    ['answer', budget.answerTokens],
  ];
  const scale = Math.max(context, budget.totalTokens);
  for (const [name, tokens] of parts) {
    const part = document.createElement('span');
    part.className = `meter-${name}`;
    part.style.width = `${(100 * tokens) / scale}%`;
    part.title = `${name}: ${tokens.toLocaleString('en-US')} tokens`;
    bar.append(part);
  }
  return bar;
}

/** Each turn's element and what it was built from: unchanged turns keep their element (and the reader's place). */
const turnElements = new Map<number, { signature: string; element: HTMLElement }>();
let pathsVersion = 0;

function renderConversation(): void {
  const stick = nearBottom();
  const top = conversation.scrollTop;
  const turns = view?.turns ?? [];
  const children: HTMLElement[] = [];
  if (turns.length === 0) children.push(onboardingElement());
  for (const turn of turns) {
    const signature = `${pathsVersion}:${JSON.stringify(turn)}`;
    let entry = turnElements.get(turn.id);
    if (entry?.signature !== signature) {
      entry = { signature, element: turnElement(turn) };
      turnElements.set(turn.id, entry);
    }
    children.push(entry.element);
  }
  for (const id of turnElements.keys()) if (!turns.some((turn) => turn.id === id)) turnElements.delete(id);
  conversation.replaceChildren(...children);
  const newest = turns[turns.length - 1];
  if (revealNewTurn && newest && ACTIVE_STATUSES.includes(newest.status)) {
    // a sent question: its turn comes into view, and the answer is followed as it streams
    revealNewTurn = false;
    follow = true;
    scrollToEnd();
  } else if (stick || (follow && running() !== undefined)) scrollToEnd();
  else conversation.scrollTop = top;
}

/** The empty view: one clear call to action for the situation (no folder, no backend, ready with example questions). */
function onboardingElement(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'empty onboarding';
  const onboarding = view?.onboarding ?? { situation: 'ready', examples: [] };
  box.dataset.situation = onboarding.situation;
  if (onboarding.situation === 'noFolder') {
    box.append(text('p', 'Open a folder to ask about it: ProLong packs the whole repository into the model\'s context.'));
    box.append(primaryAction('openFolder', 'Open Folder'));
  } else if (onboarding.situation === 'noBackend') {
    box.append(text('p', onboarding.backend === 'remote'
      ? 'Connect a model to ask anything about the workspace: a server running ProLong (vLLM, SGLang, llama.cpp), or a local model on this machine.'
      : 'Choose a converted model for the local engine to ask anything about the workspace, or connect a server instead.'));
    const actions = document.createElement('div');
    actions.className = 'actions';
    if (onboarding.backend === 'remote') actions.append(primaryAction('configureServer', 'Connect a Server'), actionButton('chooseLocalModel', 'Choose a Local Model'));
    else actions.append(primaryAction('chooseLocalModel', 'Choose a Local Model'), actionButton('configureServer', 'Connect a Server'));
    box.append(actions);
  } else {
    box.append(text('p', 'Ask anything about the workspace: the whole repository is packed into the model\'s context. File paths in answers open the file.'));
    if (onboarding.examples.length > 0) {
      box.append(text('p', 'For example:', 'examples-title'));
      const list = document.createElement('ul');
      list.className = 'examples';
      for (const example of onboarding.examples) {
        const item = document.createElement('li');
        const link = document.createElement('a');
        link.href = '#';
        link.className = 'example';
        link.dataset.example = example;
        link.textContent = example;
        item.append(link);
        list.append(item);
      }
      box.append(list);
    }
  }
  return box;
}

function primaryAction(action: PanelAction, label: string): HTMLElement {
  const button = actionButton(action, label);
  button.setAttribute('appearance', 'primary');
  return button;
}

function turnElement(turn: Turn): HTMLElement {
  const element = document.createElement('article');
  element.className = 'turn';
  element.dataset.turn = String(turn.id);
  element.dataset.status = turn.status;
  element.append(text('div', turn.question, 'question'));
  const answer = document.createElement('div');
  answer.className = 'answer';
  answer.innerHTML = answerHtml(turn);
  decorateCodeBlocks(answer);
  element.append(answer);
  if (turn.progress !== undefined || ACTIVE_STATUSES.includes(turn.status)) {
    const progress = document.createElement('div');
    progress.className = 'progress';
    progress.setAttribute('role', 'status');
    progress.append(document.createElement('vscode-progress-ring'), text('span', turn.progress ?? (turn.status === 'streaming' ? 'Answering…' : 'Working…')));
    if (turn.startedAt !== undefined) {
      const elapsed = text('span', elapsedText(turn.startedAt), 'elapsed');
      elapsed.dataset.startedAt = String(turn.startedAt);
      progress.append(elapsed);
    }
    if (turn.progressFraction !== undefined) {
      const bar = document.createElement('progress');
      bar.max = 1;
      bar.value = turn.progressFraction;
      progress.append(bar);
    }
    element.append(progress);
  }
  element.setAttribute('aria-busy', String(ACTIVE_STATUSES.includes(turn.status)));
  // How the turn ended, in words and a color of its own (error, cut, cancelled, stopped): then what went wrong,
  // the warnings, and one row of what can be done, above the stats.
  const endings: Partial<Record<Turn['status'], string>> = {
    cancelled: '■ Cancelled', cut: '⚠ Cut short', length: '… Stopped at prolong.ask.maxAnswerTokens', error: '✕ Error',
  };
  const ending = endings[turn.status];
  if (ending) element.append(text('div', ending, `ending ending-${turn.status}`));
  if (turn.error) {
    const error = text('div', turn.error, 'error');
    error.setAttribute('role', 'alert');
    element.append(error);
  }
  for (const warning of turn.warnings) element.append(text('div', warning, 'warning'));
  const actions = document.createElement('div');
  actions.className = 'actions';
  if (turn.error && turn.errorAction) actions.append(actionButton(turn.errorAction, actionLabels[turn.errorAction]));
  if (RETRYABLE_STATUSES.includes(turn.status)) actions.append(turnButton('retry', 'Ask again', turn.id));
  if (turn.leftOut?.length && !ACTIVE_STATUSES.includes(turn.status)) {
    const packWith = turnButton('packWith', turn.leftOut.length === 1 ? 'Ask again with it packed' : 'Ask again with them packed', turn.id);
    packWith.title = `Pack ${turn.leftOut.join(', ')} (the token budget keeps them from now on) and ask this question again`;
    actions.append(packWith);
  }
  if (!ACTIVE_STATUSES.includes(turn.status) && turn.answer.trim() !== '') {
    const copy = turnButton('copy', 'Copy answer', turn.id);
    copy.title = 'Copy the answer (Markdown)';
    actions.append(copy);
  }
  if (actions.childElementCount > 0) element.append(actions);
  if (turn.stats) element.append(text('div', statsLine(turn), 'stats'));
  return element;
}

/** The first sentence of a message (up to its first ". "), for one-line places. */
/**
 * Each code block of an answer gets a bar with its language and Copy / Insert at Cursor buttons (the extension
 * does both: the clipboard and the editor are its). The code sent is the block's text as shown.
 */
function decorateCodeBlocks(answer: HTMLElement): void {
  for (const pre of answer.querySelectorAll<HTMLElement>(':scope > pre')) {
    const block = document.createElement('div');
    block.className = 'code-block';
    const bar = document.createElement('div');
    bar.className = 'code-bar';
    bar.append(text('span', pre.dataset.language || 'text', 'code-language'));
    bar.append(codeButton('copy', 'Copy', 'Copy the code'), codeButton('insert', 'Insert at Cursor', 'Insert the code at the cursor of the active editor'));
    pre.replaceWith(block);
    pre.tabIndex = 0; // scrollable sideways by keyboard
    block.append(bar, pre);
    const cue = () => block.classList.toggle('overflows', pre.scrollWidth > pre.clientWidth + 1);
    requestAnimationFrame(cue);
  }
}

function codeButton(action: 'copy' | 'insert', label: string, title: string): HTMLElement {
  const button = document.createElement('button');
  button.className = 'code-button';
  button.type = 'button';
  button.dataset.codeAction = action;
  button.title = title;
  button.textContent = label;
  return button;
}

/** Briefly says a button did its work ("Copied"), then puts its label back. */
function acknowledge(button: HTMLElement, done: string): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  button.dataset.label = label;
  button.textContent = done;
  button.classList.add('done');
  window.setTimeout(() => {
    button.textContent = label;
    button.classList.remove('done');
  }, 1500);
}

function firstSentence(message: string): string {
  const end = message.search(/\.\s/);
  return end === -1 ? message : message.slice(0, end + 1);
}

function elapsedText(startedAt: number): string {
  const seconds = Math.max(0, Math.floor((Date.now() - startedAt) / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// A long prefill (a 512K-token repository on a server) takes minutes: keep the elapsed time moving.
window.setInterval(() => {
  for (const element of conversation.querySelectorAll<HTMLElement>('.elapsed[data-started-at]')) {
    element.textContent = elapsedText(Number(element.dataset.startedAt));
  }
}, 1000);

const actionLabels: Record<PanelAction, string> = {
  packWorkspace: 'Pack Workspace',
  showPackReport: 'Show Pack Report',
  openTokenBudgetSetting: 'Set token budget',
  openAnswerTokensSetting: 'Set answer tokens',
  openProlongIgnore: 'Edit .prolongignore',
  newConversation: 'New conversation',
  configureServer: 'Configure Server',
  openBackendSettings: 'Open backend settings',
  openFolder: 'Open Folder',
  chooseLocalModel: 'Choose a Local Model',
  switchModel: 'Switch model',
  runProbes: 'Run Probes',
};

function statsLine(turn: Turn): string {
  const stats = turn.stats!;
  const parts: string[] = [];
  // a turn cancelled before any token has no first-token time (not "0.00 s")
  if (stats.timeToFirstTokenMs !== undefined && stats.completionTokens > 0) parts.push(`first token ${(stats.timeToFirstTokenMs / 1000).toFixed(2)} s`);
  if (stats.tokensPerSecond !== undefined) parts.push(`${stats.tokensPerSecond.toFixed(1)} tokens/s`);
  parts.push(`${stats.completionTokens.toLocaleString('en-US')} answer tokens in ${(stats.totalMs / 1000).toFixed(2)} s`);
  // 0: the backend reported no usage (an answer cancelled or cut before its last event)
  if (stats.promptTokens > 0) {
    let prompt = `prompt ${stats.promptTokens.toLocaleString('en-US')} tokens`;
    if (stats.cachedPromptTokens) prompt += ` (${stats.cachedPromptTokens.toLocaleString('en-US')} cached)`;
    parts.push(prompt);
  }
  return parts.join(' · ');
}

function text(tag: string, content: string, className?: string): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
}

function turnButton(kind: 'retry' | 'copy' | 'packWith', label: string, turnId: number): HTMLElement {
  const button = document.createElement('vscode-button');
  button.setAttribute('appearance', 'secondary');
  button.dataset.turnAction = kind;
  button.dataset.turnId = String(turnId);
  button.textContent = label;
  return button;
}

function actionButton(action: PanelAction, label: string): HTMLElement {
  const button = document.createElement('vscode-button');
  button.setAttribute('appearance', 'secondary');
  button.dataset.action = action;
  button.textContent = label;
  return button;
}

if (view) renderAll();
channel.post({ type: 'ready' });
