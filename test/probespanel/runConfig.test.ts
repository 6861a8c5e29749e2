import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../engine/errors';
import { parseCount } from '../../engine/cli/subcommand';
import { parseTaskList } from '../../engine/probes/tasks/index';
import { ALL_TASKS, RULER_TASKS } from '../../engine/probes/types';
import {
  LENGTH_CHOICES, capLengths, equivalentCommand, instanceCount, makePlan, parseLength, readRunArgs, tasksOfGroup,
} from '../../extension/probes/runConfig';

const K = 1024;

test('lengths past the backend context are left out with a note naming them', () => {
  assert.deepEqual(capLengths(LENGTH_CHOICES, 131072), {
    lengths: [4 * K, 8 * K, 16 * K, 32 * K, 64 * K, 128 * K],
    note: "256K, 512K left out: the backend's context is 131,072 tokens.",
  });
  assert.deepEqual(capLengths([32 * K, 4 * K, 32 * K], undefined), { lengths: [4 * K, 32 * K] }, 'no context: sorted, deduplicated, no note');
  assert.deepEqual(capLengths([4 * K], 524288), { lengths: [4 * K] });
  assert.deepEqual(capLengths([8 * K], 6000).lengths, []);
});

test('task groups, instance counts (a depth sweep sends ten prompts per sample) and plans', () => {
  assert.deepEqual(tasksOfGroup('ruler'), [...RULER_TASKS]);
  assert.deepEqual(tasksOfGroup('all'), [...ALL_TASKS]);
  assert.ok(tasksOfGroup('niah').every((task) => task.startsWith('niah_')));
  assert.ok(tasksOfGroup('recall').includes('json_kv'));
  assert.equal(instanceCount(['vt', 'needle_heatmap', 'code_needle'], [4 * K, 8 * K], 3), (1 + 10 + 10) * 2 * 3);
  const plan = makePlan(['vt', 'code_needle'], [8 * K, 4 * K, 8 * K], 2, 'x');
  assert.deepEqual(plan.lengths, [4 * K, 8 * K]);
  assert.deepEqual(plan.depthPercents, { code_needle: [0, 11, 22, 33, 44, 56, 67, 78, 89, 100] });
});

test('command arguments: groups or task lists, lengths as numbers or "32k", checked with messages that say what to write', () => {
  assert.deepEqual(readRunArgs(undefined), {});
  assert.deepEqual(readRunArgs({ tasks: 'niah_single_1,vt', lengths: ['4k', 8192, '1m'], samples: 2, seed: 7 }),
    { tasks: ['niah_single_1', 'vt'], lengths: [4 * K, 8 * K, K * K], samples: 2, seed: '7' });
  assert.deepEqual(readRunArgs({ tasks: ['ruler', 'json_kv'] }).tasks, [...RULER_TASKS, 'json_kv']);
  assert.throws(() => readRunArgs({ tasks: 'needles' }), (e: unknown) => e instanceof UserError && /Unknown probe task 'needles'/.test(e.message));
  assert.throws(() => readRunArgs({ lengths: [] }), /non-empty list/);
  assert.throws(() => readRunArgs({ lengths: ['4 kb'] }), (e: unknown) => e instanceof UserError && /'4 kb' is not a context length/.test(e.message));
  assert.throws(() => readRunArgs({ samples: 0 }), /at least 1/);
  assert.throws(() => readRunArgs('ruler'), /takes an object/);
  assert.throws(() => parseLength('0'), UserError);
});

test('the equivalent command line parses back, with the CLI own parsers, into the same plan', () => {
  for (const plan of [makePlan([...ALL_TASKS], [4 * K, 128 * K, 512 * K], 5, '42'), makePlan(['vt', 'json_kv'], [1536, K * K], 1, "it's a seed")]) {
    const command = equivalentCommand(plan);
    const args = command.match(/--(\w+) ('(?:[^']|'\\'')*'|\S+)/g)!.map((part) => {
      const [, name, value] = /--(\w+) (.*)/.exec(part)!;
      return [name!, value!.startsWith("'") ? value!.slice(1, -1).replaceAll("'\\''", "'") : value!] as const;
    });
    const values = Object.fromEntries(args);
    assert.deepEqual(parseTaskList(values.tasks!), plan.tasks);
    assert.deepEqual(values.lengths!.split(',').map((l) => parseCount(l, 'lengths')), plan.lengths);
    assert.equal(Number(values.samples), plan.samples);
    assert.equal(values.seed, plan.seed);
  }
});
