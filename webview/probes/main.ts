/**
 * The Probes panel's webview: applies the extension's state and actions with the shared reducer, and draws the
 * sections views.ts builds (progress, results with chart and heatmaps, instances, run details). Buttons post
 * ToExtension messages; the threshold field recomputes the effective length on both sides.
 */
import {
  provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDivider, vsCodePanels, vsCodePanelTab, vsCodePanelView, vsCodeProgressRing, vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { webviewChannel } from '../shared/vscodeApi';
import type { ProbesViewState, ProbesWebviewState, ToExtension, ToWebview } from './protocol';
import { initialState, isActive, reduce } from './state';
import { PROBES_CSS } from './styles';
import { formatLength, formatScore } from './markup';
import { instancesTableHtml, taskTitle } from './tables';
import { PHASE_LABELS, detailsHtml, notesHtml, progressHtml, resultsHtml } from './views';
import { RULER_THRESHOLD } from '../../engine/probes/effectiveLength';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDivider(), vsCodePanels(), vsCodePanelTab(), vsCodePanelView(), vsCodeProgressRing(), vsCodeTextField());

const channel = webviewChannel<ToExtension, ToWebview, ProbesWebviewState>();
const saved = channel.state() ?? {};
let state: ProbesViewState = initialState(RULER_THRESHOLD);

const style = document.createElement('style');
style.textContent = PROBES_CSS;
document.head.appendChild(style);

const root = document.getElementById('root')!;
root.innerHTML = `
<header class="probes-header">
  <h1>ProLong Probes</h1>
  <span class="phase" id="phase" role="status"></span>
  <vscode-progress-ring id="spinner" hidden aria-label="Running"></vscode-progress-ring>
  <div class="toolbar">
    <vscode-button id="cancel" appearance="primary" hidden>Cancel</vscode-button>
    <vscode-button id="run-again" appearance="secondary" title="Run the same tasks, lengths, samples and seed again">Run Again</vscode-button>
    <vscode-button id="new-run" appearance="secondary" title="Choose tasks and lengths for a new run">New Run…</vscode-button>
    <vscode-button id="save" appearance="secondary" title="Save the results as JSON, with the CSV table beside it">Save Results…</vscode-button>
    <vscode-button id="copy" appearance="secondary" title="Copy the results as plain-text tables (as prolong probe prints them)">Copy Summary</vscode-button>
    <vscode-button id="open" appearance="secondary" title="Show results saved earlier (JSON)">Open Results…</vscode-button>
    <vscode-button id="compare" appearance="secondary" title="Draw the RULER average of saved runs (JSON) beside this one">Compare With…</vscode-button>
    <vscode-button id="clear-comparisons" appearance="secondary" hidden>Clear Comparisons</vscode-button>
  </div>
  <div class="backend" id="backend"></div>
</header>
<section id="progress"></section>
<div id="announce" class="sr-only" aria-live="polite"></div>
<section id="notes"></section>
<vscode-panels id="tabs" aria-label="Probe results">
  <vscode-panel-tab id="tab-results">RESULTS</vscode-panel-tab>
  <vscode-panel-tab id="tab-instances">INSTANCES</vscode-panel-tab>
  <vscode-panel-tab id="tab-details">RUN DETAILS</vscode-panel-tab>
  <vscode-panel-view id="view-results"><div>
    <div class="threshold-row">
      <vscode-text-field id="threshold" size="6" aria-label="Threshold for the effective length">Threshold</vscode-text-field>
      <span class="muted">RULER's is 85.6 (Llama-2-7B at 4K); the effective length is recomputed as you change it.</span>
    </div>
    <div id="results"></div>
  </div></vscode-panel-view>
  <vscode-panel-view id="view-instances"><div>
    <vscode-checkbox id="misses">Only instances that scored below 100</vscode-checkbox>
    <div id="instances"></div>
  </div></vscode-panel-view>
  <vscode-panel-view id="view-details"><div id="details"></div></vscode-panel-view>
</vscode-panels>`;

type ValueElement = HTMLElement & { value: string };
const element = (id: string) => document.getElementById(id)!;
const thresholdField = element('threshold') as ValueElement;
const tabs = element('tabs') as HTMLElement & { activeid?: string };
if (saved.tab) tabs.setAttribute('activeid', saved.tab);

const click = (id: string, message: ToExtension) => element(id).addEventListener('click', () => {
  if (!element(id).hasAttribute('disabled')) channel.post(message);
});
click('cancel', { type: 'cancel' });
click('run-again', { type: 'runAgain' });
click('new-run', { type: 'newRun' });
click('save', { type: 'save' });
click('copy', { type: 'copySummary' });
click('open', { type: 'open' });
click('compare', { type: 'compare' });
click('clear-comparisons', { type: 'clearComparisons' });

thresholdField.addEventListener('change', () => {
  const value = Number(thresholdField.value.trim());
  if (Number.isFinite(value) && value > 0 && value <= 100) {
    state = reduce(state, { type: 'threshold', threshold: value });
    channel.post({ type: 'setThreshold', threshold: value });
    scheduleRender();
  } else {
    thresholdField.value = String(state.threshold);
  }
});
const missesBox = element('misses') as HTMLElement & { checked: boolean };
missesBox.checked = saved.misses === true;
let webviewState: ProbesWebviewState = { ...saved };
tabs.addEventListener('change', () => {
  const active = tabs.activeid ?? tabs.getAttribute('activeid') ?? undefined;
  if (active) channel.saveState(webviewState = { ...webviewState, tab: active });
});
missesBox.addEventListener('change', () => {
  channel.saveState(webviewState = { ...webviewState, misses: missesBox.checked });
  scheduleRender();
});

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; render(); });
}

function setEnabled(id: string, enabled: boolean): void {
  if (enabled) element(id).removeAttribute('disabled');
  else element(id).setAttribute('disabled', '');
}

/** Milestones for screen readers (phase changes, finished cells), not every progress repaint. */
let announcedPhase = state.phase;
let announcedScores = 0;
function announce(): void {
  const lines: string[] = [];
  for (const score of state.scores.slice(announcedScores)) lines.push(`${taskTitle(score.task)} at ${formatLength(score.length)}: ${formatScore(score.score)}.`);
  // The phase last: it survives the cut to the latest three lines.
  if (state.phase !== announcedPhase) lines.push(`Probes ${PHASE_LABELS[state.phase]}.`);
  announcedPhase = state.phase;
  announcedScores = state.scores.length;
  if (lines.length > 0) element('announce').textContent = lines.slice(-3).join(' ');
}

const sectionHtml = new Map<string, string>();

/**
 * Replaces a section only when its markup changed (progress arrives several times a second: rebuilding every
 * section would drop a text selection and focus), and keeps its open <details> open and a focused summary focused.
 */
function setSection(id: string, html: string): void {
  if (sectionHtml.get(id) === html) return;
  sectionHtml.set(id, html);
  const section = element(id);
  const open = new Set([...section.querySelectorAll('details')].filter((d) => d.open).map((d) => d.className));
  const focused = section.contains(document.activeElement) && document.activeElement?.tagName === 'SUMMARY'
    ? document.activeElement.parentElement?.className : undefined;
  section.innerHTML = html;
  for (const details of section.querySelectorAll('details')) {
    if (open.has(details.className)) details.open = true;
    if (focused !== undefined && details.className === focused) details.querySelector('summary')?.focus();
  }
}

function render(): void {
  announce();
  const active = isActive(state);
  const phase = element('phase');
  phase.textContent = PHASE_LABELS[state.phase];
  phase.className = `phase ${state.phase}`;
  element('spinner').hidden = !active;
  element('cancel').hidden = !active;
  setEnabled('cancel', state.phase !== 'cancelling');
  setEnabled('run-again', !active && state.plan !== undefined);
  setEnabled('new-run', !active);
  // nothing to save or copy from a run that finished no instance
  const hasResults = state.result !== undefined && state.result.instances.length > 0;
  setEnabled('save', !active && hasResults);
  setEnabled('copy', !active && hasResults);
  setEnabled('open', !active);
  setEnabled('compare', !active);
  element('clear-comparisons').hidden = state.comparisons.length === 0;
  element('backend').textContent = state.backend ? `Backend: ${state.backend}` : '';
  if (document.activeElement !== thresholdField) thresholdField.value = String(state.threshold);
  setSection('progress', progressHtml(state));
  setSection('notes', notesHtml(state));
  setSection('results', resultsHtml(state));
  setSection('instances', instancesTableHtml(state, 200, missesBox.checked ? 'misses' : 'all'));
  setSection('details', detailsHtml(state));
  document.body.dataset.phase = state.phase;
}

channel.onMessage((message) => {
  if (message.type === 'state') state = message.state;
  else state = reduce(state, message.action);
  scheduleRender();
});

render();
channel.post({ type: 'ready' });
