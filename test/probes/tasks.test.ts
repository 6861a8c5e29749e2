import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { TemplatePromptCounter } from '../../engine/probes/promptCounter';
import { buildInstances, runProbes, type ProbePlan } from '../../engine/probes/runner';
import type { RepositoryFile } from '../../engine/probes/tasks/common';
import { ALL_TASKS, type ProbeEvent, type ProbeTaskName } from '../../engine/probes/types';
import { FailingBackend, OracleBackend, SilentBackend } from './scriptedBackends';
import { UserError } from '../../engine/errors';
import { formatResults, resultsCsv } from '../../engine/probes/report';
import { parseProbeResults } from '../../engine/probes/results';
import { ContextTooLongError } from '../../engine/backends/remote/problems';

const tokenizer = loadTokenizer();
const counter = new TemplatePromptCounter(tokenizer, ChatTemplate.forTokenizer());

/** The probes' own sources stand in for a user's repository (files nobody else edits while these tests run). */
function engineSources(): RepositoryFile[] {
  const root = join(__dirname, '..', '..');
  const files: RepositoryFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push({ path: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(root, 'engine', 'probes'));
  return files;
}

const LENGTH = 8192;
const plan: ProbePlan = { tasks: [...ALL_TASKS], lengths: [LENGTH], samples: 1, seed: 'test-seed', repository: engineSources(), repositoryName: 'prolong' };
const built = buildInstances(plan, counter);

test('every task builds at 8K (nothing skipped)', () => {
  assert.deepEqual(built.skipped, []);
  assert.deepEqual([...new Set(built.instances.map((i) => i.task))].sort(), [...ALL_TASKS].sort());
  assert.equal(built.instances.filter((i) => i.task === 'needle_heatmap').length, 10);
  assert.equal(built.instances.filter((i) => i.task === 'code_needle').length, 10);
});

test('prompt plus output budget hits the target length within 1%, counted independently with the tokenizer', () => {
  for (const instance of built.instances) {
    const prompt = counter.render(instance.messages, instance.assistantPrefix);
    const tokens = tokenizer.encodeWithSpecialTokens(prompt).length;
    assert.equal(instance.promptTokens, tokens, `${instance.id}: recorded ${instance.promptTokens}, tokenizer ${tokens}`);
    const total = tokens + instance.maxTokens;
    assert.ok(total <= LENGTH && total >= 0.99 * LENGTH, `${instance.id}: ${total} of ${LENGTH}`);
  }
});

test('output budgets are RULER\'s (NIAH 128, VT 30, CWE 120, FWE 50, QA 32)', () => {
  const budget = (task: ProbeTaskName) => built.instances.find((i) => i.task === task)!.maxTokens;
  assert.deepEqual([budget('niah_single_1'), budget('vt'), budget('cwe'), budget('fwe'), budget('repo_qa_1'), budget('repo_qa_2')], [128, 30, 120, 50, 32, 32]);
});

test('needles are where the instance says, at the requested depth in tokens', () => {
  const depthTolerance: Partial<Record<ProbeTaskName, number>> = { repo_qa_1: 1, repo_qa_2: 1 }; // QA depth is in documents
  for (const instance of built.instances) {
    const message = instance.messages[instance.context.message]!.content;
    const contextText = message.slice(instance.context.start, instance.context.end);
    const contextTokens = tokenizer.count(contextText);
    for (const needle of instance.needles) {
      assert.ok(message.startsWith(needle.text, needle.charOffset), `${instance.id}: needle not at its offset`);
      assert.ok(needle.charOffset >= instance.context.start && needle.charOffset < instance.context.end, `${instance.id}: needle outside the context`);
      const depth = tokenizer.count(message.slice(instance.context.start, needle.charOffset)) / contextTokens;
      const tolerance = depthTolerance[instance.task] ?? 0.03;
      assert.ok(Math.abs(depth - needle.requestedDepth) <= tolerance, `${instance.id}: depth ${depth.toFixed(3)}, asked ${needle.requestedDepth}`);
    }
  }
  const heatmapDepths = built.instances.filter((i) => i.task === 'needle_heatmap').map((i) => i.needles[0]!.requestedDepth * 100);
  assert.deepEqual(heatmapDepths.map(Math.round), [0, 11, 22, 33, 44, 56, 67, 78, 89, 100]);
});

test('RULER task formats: needle sentence, answer prefix after the template, singular rewording', () => {
  const single = built.instances.find((i) => i.task === 'niah_single_1')!;
  const content = single.messages[0]!.content;
  assert.ok(content.startsWith('A special magic number is hidden within the following text. Make sure to memorize it. I will quiz you about the number afterwards.\nThe grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n'));
  assert.match(content, new RegExp(`One of the special magic numbers for [a-z]+-[a-z]+ is: ${single.answers[0]}\\.`));
  assert.match(single.assistantPrefix, /^ The special magic number for [a-z]+-[a-z]+ mentioned in the provided text is$/);
  assert.match(single.answers[0]!, /^\d{7}$/);
  const multi = built.instances.find((i) => i.task === 'niah_multiquery')!;
  assert.ok(multi.messages[0]!.content.startsWith('Some special magic numbers are hidden'));
  assert.equal(multi.answers.length, 4);
  assert.match(built.instances.find((i) => i.task === 'niah_multikey_3')!.answers[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const vt = built.instances.find((i) => i.task === 'vt')!;
  assert.equal(vt.answers.length, 5);
  assert.match(vt.messages[0]!.content, /^VAR [A-Z]{5} = \d{5}$/m);
  const cwe = built.instances.find((i) => i.task === 'cwe')!;
  assert.deepEqual(cwe.messages.map((m) => m.role), ['user', 'assistant', 'user']);
  const list = cwe.messages[2]!.content;
  for (const word of cwe.answers) assert.equal(list.split(' ').filter((w) => w === word).length, 30, word);
});

test('an oracle that reads only the prompt scores 100 on every task; a silent backend scores 0', async () => {
  const events: ProbeEvent[] = [];
  const oracle = await runProbes({ ...plan, backend: new OracleBackend(), counter, onEvent: (event) => events.push(event) });
  for (const result of oracle.instances) assert.equal(result.score, 100, `${result.id}: answered ${JSON.stringify(result.prediction)} for ${JSON.stringify(result.answers)}`);
  assert.equal(oracle.instances.length, built.instances.length);
  assert.equal(oracle.ruler.averages[0]?.score, 100);
  assert.equal(oracle.ruler.effectiveLength, LENGTH);
  assert.equal(oracle.heatmaps.length, 2);
  assert.ok(oracle.heatmaps.every((grid) => grid.scores.every((row) => row[0] === 100)));
  assert.equal(events[0]?.type, 'planned');
  assert.equal(events.filter((e) => e.type === 'instance-finished').length, built.instances.length);
  assert.equal(events.filter((e) => e.type === 'task-length-scored').length, ALL_TASKS.length);
  const silent = await runProbes({ ...plan, backend: new SilentBackend(), counter });
  assert.ok(silent.instances.every((result) => result.score === 0));
  assert.equal(silent.ruler.effectiveLength, null);
});

test('the oracle sends the exact instance: greedy, RULER answer prefix, task output budget', async () => {
  const backend = new OracleBackend();
  await runProbes({ tasks: ['fwe'], lengths: [4096], samples: 1, seed: 's', backend, counter });
  const request = backend.requests[0]!;
  assert.equal(request.sampling.temperature, 0);
  assert.equal(request.sampling.maxTokens, 50);
  assert.equal(request.assistantPrefix, ' Answer: According to the coded text above, the three most frequently appeared words are:');
});

test('the same seed gives the same instances; another seed gives others', () => {
  const small: ProbePlan = { ...plan, tasks: ['niah_multikey_2', 'vt', 'cwe', 'fwe', 'json_kv', 'repo_qa_1'], lengths: [4096] };
  const first = buildInstances(small, counter).instances;
  assert.deepEqual(buildInstances(small, counter).instances, first);
  const other = buildInstances({ ...small, seed: 'other' }, counter).instances;
  for (let i = 0; i < first.length; i++) assert.notDeepEqual(other[i]!.answers, first[i]!.answers, first[i]!.id);
});

test('cancelling keeps the finished instances and marks the results', async () => {
  const controller = new AbortController();
  const result = await runProbes({
    tasks: ['niah_single_1'], lengths: [4096], samples: 3, seed: 's', backend: new OracleBackend(), counter, signal: controller.signal,
    onEvent: (event) => { if (event.type === 'instance-finished') controller.abort(); },
  });
  assert.equal(result.metadata.cancelled, true);
  assert.equal(result.instances.length, 1);
  assert.deepEqual(result.scores, []);
});

test('a backend failing partway stops the run and keeps the finished instances, with the error recorded', async () => {
  const events: ProbeEvent[] = [];
  const backend = new FailingBackend(3, new UserError('http://gpu-box:8000 refused the connection.', 'Start the server.'));
  const result = await runProbes({
    tasks: ['niah_single_1', 'vt'], lengths: [4096], samples: 2, seed: 's', backend, counter, onEvent: (event) => events.push(event),
  });
  assert.equal(backend.requests.length, 3, 'nothing is sent after the failure');
  assert.deepEqual(result.instances.map((i) => [i.task, i.score]), [['niah_single_1', 100], ['niah_single_1', 100]]);
  assert.deepEqual(result.scores.map((s) => [s.task, s.score]), [['niah_single_1', 100]]);
  assert.equal(result.metadata.cancelled, false);
  assert.match(result.metadata.error ?? '', /refused the connection/);
  const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /the backend failed, so the run stopped after 2 of 4 instances: .*refused the connection/);
  assert.match(formatResults(result), /^FAILED: partial results; the backend failed: .*refused the connection/m);
});

test('a prompt the backend counts over its context skips that task at that length, with both counts; the run goes on', async () => {
  const events: ProbeEvent[] = [];
  // The 5th request is niah_single_1's first at 8K: the server's template adds tokens the probe did not count.
  const backend = new FailingBackend(5, new ContextTooLongError('http://gpu-box:8000', 'm', 8100, 128, 8192));
  const result = await runProbes({
    tasks: ['niah_single_1', 'vt'], lengths: [4096, 8192], samples: 2, seed: 's', backend, counter, onEvent: (event) => events.push(event),
  });
  assert.equal(result.metadata.error, undefined);
  assert.equal(backend.requests.length, 7, 'the rest of niah_single_1 at 8K is not sent; vt at 8K is');
  assert.deepEqual(result.scores.map((s) => [s.task, s.length]), [['niah_single_1', 4096], ['vt', 4096], ['vt', 8192]]);
  assert.equal(result.skipped.length, 1);
  const skipped = result.skipped[0]!;
  const instance = buildInstances({ tasks: ['niah_single_1'], lengths: [8192], samples: 1, seed: 's' }, counter).instances[0]!;
  assert.deepEqual(skipped.overflow, { id: 'niah_single_1/8192/0', promptTokens: instance.promptTokens, backendPromptTokens: 8100, maxTokens: 128, contextLength: 8192 });
  assert.equal(skipped.reason, `the backend counts the prompt of niah_single_1/8192/0 as 8,100 tokens where the probe counted ${instance.promptTokens.toLocaleString('en-US')}; `
    + 'with 128 answer tokens that is 36 more than the backend\'s context of 8,192 tokens. Give the model\'s own tokenizer.json (--tokenizer, or the setting '
    + 'prolong.tokenizer.path) so prompts are sized as the backend counts them, or leave 8K out of the lengths (--lengths).');
  assert.doesNotMatch(skipped.reason, /tokenBudget|--budget/);
  assert.ok(events.some((e) => e.type === 'skipped' && e.skipped.overflow?.id === 'niah_single_1/8192/0'));
  assert.ok(!events.some((e) => e.type === 'warning'), 'an overflow is a skip, not a backend failure');

  // Saved and read back, the skip keeps its numbers; the tables mark the cell.
  assert.deepEqual(parseProbeResults(JSON.stringify(result), 'r.json'), result);
  const damaged = { ...result, skipped: [{ ...skipped, overflow: { ...skipped.overflow, backendPromptTokens: '8100' } }] };
  assert.throws(() => parseProbeResults(JSON.stringify(damaged), 'd.json'), /its "skipped" is missing or has fields of the wrong type/);
  const text = formatResults(result);
  assert.match(text, /^niah_single_1\s+100\.0\s+skip$/m);
  assert.match(text, /^skipped niah_single_1 at 8K: the backend counts the prompt/m);
  assert.match(resultsCsv(result), /\nskipped,niah_single_1,8192,,,\n$/);
  const withGrid = {
    ...result,
    metadata: { ...result.metadata, tasks: [...result.metadata.tasks, 'needle_heatmap' as const] },
    heatmaps: [{ task: 'needle_heatmap' as const, lengths: [4096, 8192], depthPercents: [0], scores: [[100, null]] }],
    skipped: [...result.skipped, { task: 'needle_heatmap' as const, length: 8192, reason: 'did not fit' }],
  };
  assert.match(formatResults(withGrid), /^0%\s+100\.0\s+skip$/m);
});

test('tasks that need a repository are skipped with a reason without one', () => {
  const { instances, skipped } = buildInstances({ tasks: ['code_needle', 'repo_qa_1'], lengths: [4096], samples: 1, seed: 's' }, counter);
  assert.equal(instances.length, 0);
  assert.deepEqual(skipped.map((s) => s.task), ['code_needle', 'repo_qa_1']);
  assert.match(skipped[0]!.reason, /no repository/);
});
