/**
 * The Ask panel's messages, imported by both sides (extension/ask and webview/ask) so they cannot drift apart.
 * The extension owns the conversation; the webview renders what it is sent and reports what the user did.
 */

/** Where a turn stands. The first four are in progress; the rest are final. */
export type TurnStatus =
  | 'packing'
  | 'connecting'
  | 'prefill'
  | 'streaming'
  /** Ended by a stop token. */
  | 'done'
  /** Reached prolong.ask.maxAnswerTokens. */
  | 'length'
  /** The user pressed Cancel; `answer` holds what came before. */
  | 'cancelled'
  /** The connection or engine broke mid-answer; `answer` holds the partial text. */
  | 'cut'
  /** Failed before any text; `error` says why. */
  | 'error';

export const ACTIVE_STATUSES: readonly TurnStatus[] = ['packing', 'connecting', 'prefill', 'streaming'];
/** Turns that can be asked again ("Ask again"): cancelling, too, should not cost the user their question. */
export const RETRYABLE_STATUSES: readonly TurnStatus[] = ['error', 'cut', 'cancelled'];

export interface TurnStats {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from a prefix cache (the engine's or the server's), when known. */
  cachedPromptTokens?: number;
  timeToFirstTokenMs?: number;
  /** Answer tokens per second after the first token (undefined with fewer than two tokens). */
  tokensPerSecond?: number;
  totalMs: number;
}

export interface Turn {
  id: number;
  question: string;
  answer: string;
  status: TurnStatus;
  /** One line on what is happening now (packing progress, prefill progress), while in progress. */
  progress?: string;
  /** 0..1 when the current phase has a known size. */
  progressFraction?: number;
  /** When the question was sent (ms since the epoch), for the elapsed time while it runs. */
  startedAt?: number;
  error?: string;
  /** What the user can do about the error (a button in the panel). */
  errorAction?: PanelAction;
  warnings: string[];
  stats?: TurnStats;
  /** Files the question or answer names that the token budget left out of the model's context. */
  leftOut?: string[];
}

/** Everything that fills the model's context, in tokens. */
export interface ContextBudget {
  /** The packed repository (exact, from the packer), 0 before the first pack. */
  repositoryTokens: number;
  /** Questions and answers so far plus the draft's question, counted with the model's tokenizer. */
  conversationTokens: number;
  /** System text, question marker and chat-template tokens (an estimate). */
  overheadTokens: number;
  /** Room kept for the answer (prolong.ask.maxAnswerTokens). */
  answerTokens: number;
  /** The model's context length as the backend reports it; undefined when unknown. */
  contextLength?: number;
  /** repository + conversation + overhead + answer. */
  totalTokens: number;
  /** 'unknown' without a context length. */
  fit: 'fits' | 'tight' | 'over' | 'unknown';
  /** What to do when it does not fit (or will not for long). */
  advice?: string;
  /** The buttons that carry the advice out, in its order. */
  remedies?: PanelAction[];
  /** Files the pack's token budget left out. */
  droppedFiles: number;
  /** The left-out files by kind, e.g. "12 tests, 3 docs". */
  droppedByKind?: string;
}

/** Things the panel may ask the extension to do besides asking (buttons next to warnings and errors). */
export type PanelAction =
  | 'packWorkspace'
  | 'showPackReport'
  | 'openTokenBudgetSetting'
  | 'openAnswerTokensSetting'
  | 'openProlongIgnore'
  | 'newConversation'
  | 'configureServer'
  | 'openBackendSettings'
  /** File > Open Folder (the empty view of a window without one). */
  | 'openFolder'
  /** The models picker (prolong.selectModel) when there is one, else the model path setting. */
  | 'chooseLocalModel'
  /** Switch backend or model from the view's header (the models picker, else the backend settings). */
  | 'switchModel'
  /** The context probes (prolong.runProbes): what the bundled demo model does well. */
  | 'runProbes';

export interface PackSummary {
  folder: string;
  files: number;
  tokens: number;
  /** The pack is older than the latest change to the workspace; the next question re-packs. */
  stale: boolean;
}

export interface BackendSummary {
  /** e.g. "remote · prolong-8b" */
  label: string;
  detail: string;
  /** Where the model runs and why (the local engine: "WebGPU (an adapter was found)"), shown in the header. */
  runsOn?: string;
  /** Why no backend is available, with what to do. */
  problem?: string;
  /** Shown under the header while this backend answers: the bundled demo model says what it cannot do. */
  notice?: string;
}

/** What the empty view offers, by situation: one clear call to action each. */
export type Onboarding =
  | { situation: 'noFolder' }
  | { situation: 'noBackend'; backend: 'remote' | 'local' }
  | { situation: 'ready'; examples: string[] };

export interface AskViewState {
  turns: Turn[];
  /** For an empty conversation. */
  onboarding?: Onboarding;
  budget: ContextBudget;
  pack?: PackSummary;
  backend?: BackendSummary;
}

export type ToExtension =
  | { type: 'ready' }
  | { type: 'ask'; question: string }
  | { type: 'cancel' }
  | { type: 'newConversation' }
  /** The draft changed: the budget counts it before it is sent. */
  | { type: 'draft'; question: string }
  | { type: 'openFile'; path: string; line?: number; endLine?: number }
  | { type: 'action'; action: PanelAction }
  /** Ask a failed turn's question again (the failed turn is replaced). */
  | { type: 'retry'; turnId: number }
  /** Put a turn's answer (its Markdown) on the clipboard. */
  | { type: 'copyAnswer'; turnId: number }
  /** Ask a turn's question again with the left-out files it named packed. */
  | { type: 'askWithLeftOut'; turnId: number }
  /** A code block's Copy (to the clipboard) or Insert at Cursor (into the active editor). */
  | { type: 'code'; action: 'copy' | 'insert'; code: string };

export type ToWebview =
  /** Everything but the packed paths; sent on load and whenever anything but the streamed text changes. */
  | { type: 'state'; state: AskViewState }
  /** Text appended to a streaming answer. */
  | { type: 'delta'; turnId: number; text: string }
  /** Paths of the packed files, for citation links; sent after each pack and on load. */
  | { type: 'paths'; paths: string[] }
  /** Put the cursor in the question box (the "Ask About Workspace" command); `reference` (a cited selection) goes into an empty box. */
  | { type: 'focus'; reference?: string };

/** What the webview keeps with getState/setState while it is hidden. */
export interface AskWebviewState {
  draft: string;
  view?: AskViewState;
  /** Questions asked from this view, oldest first, for ↑ recall. */
  questions?: string[];
}

const PANEL_ACTIONS: readonly PanelAction[] = ['packWorkspace', 'showPackReport', 'openTokenBudgetSetting', 'openAnswerTokensSetting', 'openProlongIgnore',
  'newConversation', 'configureServer', 'openBackendSettings', 'openFolder', 'chooseLocalModel', 'switchModel'];

/** Whether a message from the webview is one of ToExtension, fields and all (the extension drops anything else). */
export function isAskToExtension(value: unknown): value is ToExtension {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  const optionalLine = (v: unknown): boolean => v === undefined || (Number.isInteger(v) && (v as number) > 0);
  switch (message.type) {
    case 'ready': case 'cancel': case 'newConversation': return true;
    case 'ask': case 'draft': return typeof message.question === 'string';
    case 'openFile': return typeof message.path === 'string' && optionalLine(message.line) && optionalLine(message.endLine);
    case 'action': return PANEL_ACTIONS.includes(message.action as PanelAction);
    case 'retry': case 'copyAnswer': case 'askWithLeftOut': return Number.isInteger(message.turnId);
    case 'code': return (message.action === 'copy' || message.action === 'insert') && typeof message.code === 'string';
    default: return false;
  }
}
