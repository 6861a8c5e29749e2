/**
 * Probes panel costs, printed as numbers (no assertions):
 *  1. how long the extension host's thread is blocked while 512K instances are built, with the runner inline
 *     versus in the panel's worker thread (longest event-loop stall, from perf_hooks);
 *  2. what the panel pays per probe event (shared reducer) and per repaint (all sections' markup) for a large run.
 * Usage: npm run bench:probes-panel -- [LENGTH=512k] [SAMPLES=1] [TASKS=niah_single_2,cwe,json_kv]
 */
import { parseCount } from '../../engine/cli/subcommand';
import { parseTaskList } from '../../engine/probes/tasks/index';
import { REFERENCE_CURVES } from '../../engine/probes/effectiveLength';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { runProbes } from '../../engine/probes/runner';
import { ALL_TASKS, type InstanceResult, type ProbeEvent } from '../../engine/probes/types';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { makePlan } from '../../extension/probes/runConfig';
import { runProbesInWorker } from '../../extension/probes/workerRun';
import { initialState, reduce } from '../../webview/probes/state';
import { instancesTableHtml, scoreTableHtml } from '../../webview/probes/tables';
import { detailsHtml, notesHtml, progressHtml, resultsHtml } from '../../webview/probes/views';
import { BenchCli } from '../bench/cli';
import { SilentBackend } from '../probes/scriptedBackends';

const bench = new BenchCli('bench-probes-panel', `usage: npm run bench:probes-panel -- [LENGTH [SAMPLES [TASKS]]]
Measures the host thread's longest stall building instances inline vs in a worker, and the panel's reduce/repaint cost.
  LENGTH    prompt length for the stall measurement, such as 512k (default 512k)
  SAMPLES   samples per task (default 1)
  TASKS     comma-separated task names or groups (default niah_single_2,cwe,json_kv)
`);
const { positionals } = bench.parse({ allowPositionals: true, options: {} });
if (positionals.length > 3) bench.fail(`at most 3 arguments (LENGTH SAMPLES TASKS), got ${positionals.length}`);
const length = bench.check(() => parseCount(positionals[0] ?? '512k', 'length'));
const samples = bench.number('SAMPLES', positionals[1] ?? '1');
const tasks = bench.check(() => parseTaskList(positionals[2] ?? 'niah_single_2,cwe,json_kv'));

/** Longest gap between 5 ms ticks on this thread while `run` runs (a stall the extension host would feel). */
async function stalls(label: string, run: () => Promise<{ instances: unknown[] }>): Promise<void> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const result = await run();
  clearInterval(ticker);
  console.log(`${label}: ${result.instances.length} instances in ${((performance.now() - started) / 1000).toFixed(1)} s; the host thread's longest stall ${longest.toFixed(0)} ms`);
}

async function blocking(): Promise<void> {
  const plan = { tasks, lengths: [length], samples, seed: 'bench' };
  console.log(`building ${tasks.join(', ')} at ${length} tokens, ${samples} sample(s), silent backend`);
  const counter = new TemplatePromptCounter(loadTokenizer(), ChatTemplate.forTokenizer());
  await stalls('inline (runner on the host thread)', () => runProbes({ ...plan, backend: new SilentBackend(), counter }));
  await stalls('worker (the panel)               ', () => runProbesInWorker({ plan, threshold: 85.6, backend: new SilentBackend(), onEvent: () => undefined }));
}

function rendering(): void {
  const lengths = [4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288];
  const plan = makePlan([...ALL_TASKS], lengths, 5, 'bench');
  const events: ProbeEvent[] = [];
  let done = 0;
  const total = plan.tasks.reduce((sum, task) => sum + (plan.depthPercents[task as 'code_needle']?.length ?? 1), 0) * lengths.length * plan.samples;
  for (const l of lengths) {
    for (const task of plan.tasks) {
      const depths = plan.depthPercents[task as 'code_needle'] ?? [undefined];
      for (let index = 0; index < plan.samples; index++) {
        for (const depth of depths) {
          const id = `${task}/${l}/${index}${depth === undefined ? '' : `/${depth}`}`;
          events.push({ type: 'instance-started', id, task, length: l, promptTokens: l - 128, done, total });
          events.push({ type: 'prefill', id, doneTokens: l / 2, totalTokens: l - 128 });
          const result: InstanceResult = {
            id, task, length: l, index, ...(depth === undefined ? {} : { depthPercent: depth }), score: (id.length * 37) % 101,
            prediction: 'The special magic number is 1234567.', answers: ['1234567'], promptTokens: l - 128, backendPromptTokens: l - 128,
            completionTokens: 12, finishReason: 'stop', totalMs: 1000,
          };
          events.push({ type: 'instance-finished', result, done: ++done, total });
        }
      }
    }
  }
  let state = reduce(initialState(85.6), { type: 'run-started', plan, backend: 'bench', notes: [], threshold: 85.6 });
  const reduceStart = performance.now();
  for (const event of events) state = reduce(state, { type: 'probe', event });
  const reduceMs = performance.now() - reduceStart;
  const renderStart = performance.now();
  let bytes = 0;
  const repaints = 20;
  for (let i = 0; i < repaints; i++) {
    bytes = progressHtml(state).length + notesHtml(state).length + resultsHtml(state).length + scoreTableHtml(state, REFERENCE_CURVES).length
      + instancesTableHtml(state).length + detailsHtml(state).length;
  }
  const renderMs = (performance.now() - renderStart) / repaints;
  console.log(`panel with all 16 tasks x 8 lengths x 5 samples (${done} instances): reducer ${((reduceMs * 1000) / events.length).toFixed(0)} µs per event on average `
    + `(${events.length} events, ${reduceMs.toFixed(0)} ms in all); one full repaint's markup ${renderMs.toFixed(1)} ms (${(bytes / 1024).toFixed(0)} KiB)`);
}

async function main(): Promise<void> {
  rendering();
  await blocking();
}

void main();
