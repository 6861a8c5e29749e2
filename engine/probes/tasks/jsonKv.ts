/**
 * HELMET's JSON key-value recall (data.py load_json_kv, prompt from lost-in-the-middle's kv_retrieval): a JSON
 * object of UUID pairs, one key asked for, "Corresponding value:" as the answer prefix, substring exact match.
 * HELMET reads prebuilt files per length (test_k50 ... test_k1800); we generate pairs until each target length is filled.
 */
import { CumulativeCounts } from '../fit';
import { SeededRandom } from '../random';
import { fitInstance, userPrompt, type ProbeTask } from './common';

const AFTER = '\n\nExtract the value corresponding to the specified key in the JSON object below.\n\nKey: "{key}"';
const ANSWER_PREFIX = 'Corresponding value:';
const BEFORE = 'JSON data:\n';

export function jsonKvTask(): ProbeTask {
  const task: ProbeTask = {
    name: 'json_kv',
    description: 'HELMET JSON KV: recall the value of one UUID key in a JSON object of UUID pairs',
    metric: 'substring_exact_match',
    maxTokens: 100,
    sources: [],
    build(context, spec) {
      const random = new SeededRandom(spec.seed, 'json_kv', spec.length, spec.index);
      const key = random.uuid();
      const value = random.uuid();
      const depth = random.next();
      const pairRandom = new SeededRandom(spec.seed, 'json_kv', spec.length, spec.index, 'pairs');
      const pairs: [string, string][] = [];
      const pair = (i: number): [string, string] => {
        while (pairs.length <= i) pairs.push([pairRandom.uuid(), pairRandom.uuid()]);
        return pairs[i]!;
      };
      const line = ([k, v]: [string, string]) => `\n ${JSON.stringify(k)}: ${JSON.stringify(v)},`;
      const counts = new CumulativeCounts((i) => context.counter.countText(line(pair(i))));
      const after = AFTER.replace('{key}', key);
      const build = (units: number) => {
        const entries = Array.from({ length: units }, (_, i) => pair(i));
        const at = Math.floor(units * depth);
        entries.splice(at, 0, [key, value]);
        // JSON.stringify(object, null, 1) is Python's json.dumps(indent=1) layout; keys are distinct UUIDs.
        const lines = entries.map(([k, v], i) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)}${i < entries.length - 1 ? ',' : ''}`);
        const json = `{\n${lines.join('\n')}\n}`;
        const needleOffset = 2 + lines.slice(0, at).reduce((sum, text) => sum + text.length + 1, 0);
        return userPrompt(BEFORE, json, after, ANSWER_PREFIX, [value],
          [{ text: lines[at]!.replace(/,$/, ''), requestedDepth: depth, offsetInContext: needleOffset }]);
      };
      return fitInstance(task, context, spec, {
        minUnits: 0, maxUnits: spec.length, estimateContext: (units) => counts.tokens(units), build,
      });
    },
  };
  return task;
}
