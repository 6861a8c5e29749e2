/**
 * RULER's needle-in-a-haystack family (scripts/data/synthetic/niah.py): needles "One of the special magic
 * {type} for {key} is: {value}." in a noise, essay or needle haystack; keys, values and queries per RULER's
 * synthetic.yaml; the singular rewording when one value is asked for; string_match_all.
 */
import { EssaySentences, ESSAY_SOURCE, NOISE_BLOCK } from '../haystacks';
import { SeededRandom } from '../random';
import type { RulerTaskName } from '../types';
import { keyWords } from '../words';
import { CumulativeCounts } from '../fit';
import { fitInstance, joinWithOffsets, RULER_DEPTHS, userPrompt, type ProbeTask } from './common';

type HaystackKind = 'noise' | 'essay' | 'needle';
type NeedleType = 'words' | 'numbers' | 'uuids';

interface NiahConfig {
  haystack: HaystackKind;
  keyType: NeedleType;
  valueType: NeedleType;
  keys: number;
  values: number;
  queries: number;
}

export const NIAH_CONFIGS: Record<Extract<RulerTaskName, `niah_${string}`>, NiahConfig> = {
  niah_single_1: { haystack: 'noise', keyType: 'words', valueType: 'numbers', keys: 1, values: 1, queries: 1 },
  niah_single_2: { haystack: 'essay', keyType: 'words', valueType: 'numbers', keys: 1, values: 1, queries: 1 },
  niah_single_3: { haystack: 'essay', keyType: 'words', valueType: 'uuids', keys: 1, values: 1, queries: 1 },
  niah_multikey_1: { haystack: 'essay', keyType: 'words', valueType: 'numbers', keys: 4, values: 1, queries: 1 },
  niah_multikey_2: { haystack: 'needle', keyType: 'words', valueType: 'numbers', keys: 1, values: 1, queries: 1 },
  niah_multikey_3: { haystack: 'needle', keyType: 'uuids', valueType: 'uuids', keys: 1, values: 1, queries: 1 },
  niah_multivalue: { haystack: 'essay', keyType: 'words', valueType: 'numbers', keys: 1, values: 4, queries: 1 },
  niah_multiquery: { haystack: 'essay', keyType: 'words', valueType: 'numbers', keys: 1, values: 1, queries: 4 },
};

const TEMPLATE = 'Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?';
const ANSWER_PREFIX = ' The special magic {type_needle_v} for {query} mentioned in the provided text are';

export function needleSentence(valueType: string, key: string, value: string): string {
  return `One of the special magic ${valueType} for ${key} is: ${value}.`;
}

function randomOf(random: SeededRandom, type: NeedleType): string {
  if (type === 'numbers') return random.digits(7);
  if (type === 'uuids') return random.uuid();
  return random.pick(keyWords());
}

/**
 * RULER's template with its singular rewording (applied to template and answer prefix together, as RULER does) when
 * one value of one key is asked for. `valueType` is plural ("numbers"); other tools ask for other types ("paths").
 */
export function niahTemplate(valueType: string, single: boolean, query: string): { before: string; after: string; prefix: string } {
  let text = `${TEMPLATE}\u0000${ANSWER_PREFIX}`;
  let type = valueType;
  if (single) {
    text = text.replaceAll('Some', 'A').replaceAll('are all', 'is').replaceAll('are', 'is').replaceAll('answers', 'answer');
    type = type.slice(0, -1);
  }
  const filled = text.replaceAll('{type_needle_v}', type).replaceAll('{query}', query);
  const [template, prefix] = filled.split('\u0000') as [string, string];
  const [before, after] = template.split('{context}') as [string, string];
  return { before, after, prefix };
}

export function niahTask(name: keyof typeof NIAH_CONFIGS): ProbeTask {
  const config = NIAH_CONFIGS[name];
  const task: ProbeTask = {
    name,
    description: `RULER ${name}: ${config.keys} key(s), ${config.values} value(s), ${config.queries} query(ies) in a ${config.haystack} haystack`,
    metric: 'string_match_all',
    maxTokens: 128,
    sources: config.haystack === 'essay' ? [ESSAY_SOURCE] : [],
    build(context, spec) {
      const random = new SeededRandom(spec.seed, name, spec.length, spec.index);
      const numKeys = Math.max(config.keys, config.queries);
      const keys: string[] = [];
      const values: string[][] = [];
      let needles: string[] = [];
      for (let k = 0; k < numKeys; k++) {
        let key = randomOf(random, config.keyType);
        while (keys.includes(key)) key = randomOf(random, config.keyType);
        keys.push(key);
        const keyValues: string[] = [];
        for (let v = 0; v < config.values; v++) {
          const value = randomOf(random, config.valueType);
          keyValues.push(value);
          needles.push(needleSentence(config.valueType, key, value));
        }
        values.push(keyValues);
      }
      needles = random.shuffled(needles);
      const queryIndexes = random.sample(keys.map((_, i) => i), config.queries);
      const queries = queryIndexes.map((i) => keys[i]!);
      const answers = queryIndexes.flatMap((i) => values[i]!);
      const query = queries.length > 1 ? `${queries.slice(0, -1).join(', ')}, and ${queries[queries.length - 1]}` : queries[0]!;
      const { before, after, prefix } = niahTemplate(config.valueType, config.queries * config.values === 1, query);
      // Essay: RULER samples depths from its 40-point grid; noise/needle haystacks: random line positions.
      const depths = config.haystack === 'essay'
        ? random.sample(RULER_DEPTHS, needles.length).sort((a, b) => a - b).map((d) => d / 100)
        : needles.map(() => random.next()).sort((a, b) => a - b);

      const haystackRandom = new SeededRandom(spec.seed, name, spec.length, spec.index, 'haystack');
      const essay = new EssaySentences(haystackRandom);
      const distractors: string[] = [];
      const distractor = (i: number): string => {
        while (distractors.length <= i) {
          let key = randomOf(haystackRandom, config.keyType);
          while (keys.includes(key)) key = randomOf(haystackRandom, config.keyType);
          distractors.push(needleSentence(config.valueType, key, randomOf(haystackRandom, config.valueType)));
        }
        return distractors[i]!;
      };
      const unitText = (i: number): string =>
        config.haystack === 'essay' ? essay.at(i) : config.haystack === 'noise' ? NOISE_BLOCK : distractor(i);
      const separator = config.haystack === 'essay' ? ' ' : '\n';
      const counts = new CumulativeCounts((i) => context.counter.countText(separator + unitText(i)));

      const build = (units: number) => {
        const haystack = Array.from({ length: units }, (_, i) => unitText(i));
        const parts: string[] = [];
        const needleParts: number[] = [];
        if (config.haystack === 'essay') {
          // Needles go between sentences at int(sentences * depth), like RULER.
          const positions = depths.map((depth) => Math.floor(units * depth));
          let last = 0;
          positions.forEach((position, i) => {
            if (position > last) parts.push(haystack.slice(last, position).join(' '));
            needleParts.push(parts.length);
            parts.push(needles[i]!);
            last = position;
          });
          if (units > last) parts.push(haystack.slice(last).join(' '));
        } else {
          const positions = depths.map((depth) => Math.floor(units * depth));
          let last = 0;
          positions.forEach((position, i) => {
            parts.push(...haystack.slice(last, position));
            needleParts.push(parts.length);
            parts.push(needles[i]!);
            last = position;
          });
          parts.push(...haystack.slice(last));
        }
        const joined = joinWithOffsets(parts, separator);
        return userPrompt(before, joined.text, after, prefix, answers,
          needleParts.map((part, i) => ({ text: needles[i]!, requestedDepth: depths[i]!, offsetInContext: joined.offsets[part]! })));
      };
      return fitInstance(task, context, spec, {
        minUnits: 0, maxUnits: spec.length, estimateContext: (units) => counts.tokens(units), build,
      });
    },
  };
  return task;
}
