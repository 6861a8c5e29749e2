/**
 * RULER's variable tracking (scripts/data/synthetic/variable_tracking.py): one chain of 4 hops
 * (`VAR ABCDE = 12345`, `VAR FGHIJ = VAR ABCDE `, ...) hidden in the noise haystack, after one worked example
 * (3-letter names, about 500 tokens) as RULER adds; the answer is every variable of the chain.
 */
import { NOISE_BLOCK } from '../haystacks';
import { SeededRandom } from '../random';
import { fitInstance, joinWithOffsets, userPrompt, type ProbeTask, type TaskContext } from './common';

const TEMPLATE = 'Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.';
const ANSWER_PREFIX = ' Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assigned the value {query}, they are: ';
const HOPS = 4;
const EXAMPLE_TOKENS = 500;

interface Chain {
  names: string[];
  value: string;
  lines: string[];
}

function makeChain(random: SeededRandom, letters: number): Chain {
  const names: string[] = [];
  while (names.length < HOPS + 1) {
    const name = random.letters(letters);
    if (!names.includes(name)) names.push(name);
  }
  const value = String(random.int(10000, 99999));
  const lines = [`VAR ${names[0]} = ${value}`, ...names.slice(1).map((name, j) => `VAR ${name} = VAR ${names[j]} `)];
  return { names, value, lines };
}

function fill(text: string, chain: Chain): string {
  return text.replaceAll('{query}', chain.value).replaceAll('{num_v}', String(HOPS + 1));
}

/** Noise lines with the chain's lines at the given fractions (in order), joined by newlines. */
function chainInNoise(blocks: number, chain: Chain, fractions: readonly number[]): { text: string; lineOffsets: number[] } {
  const lines: string[] = Array.from({ length: blocks }, () => NOISE_BLOCK);
  const chainIndexes: number[] = [];
  fractions.forEach((fraction, j) => {
    const index = Math.floor(blocks * fraction) + j;
    lines.splice(index, 0, chain.lines[j]!);
    chainIndexes.push(index);
  });
  const joined = joinWithOffsets(lines, '\n');
  return { text: joined.text, lineOffsets: chainIndexes.map((i) => joined.offsets[i]!) };
}

/** RULER's worked example: its own chain and noise, sized to about 500 tokens, followed by its answer. */
function workedExample(context: TaskContext, random: SeededRandom): string {
  const chain = makeChain(random, 3);
  const fractions = chain.lines.map(() => random.next()).sort((a, b) => a - b);
  const [before, after] = fill(TEMPLATE, chain).split('{context}') as [string, string];
  const prefix = fill(ANSWER_PREFIX, chain);
  const fixed = context.counter.countText(before + chainInNoise(0, chain, fractions).text + after + prefix);
  const blocks = Math.max(0, Math.floor((EXAMPLE_TOKENS - fixed) / context.counter.countText(`\n${NOISE_BLOCK}`)));
  return `${before}${chainInNoise(blocks, chain, fractions).text}${after}${prefix} ${chain.names.join(' ')}\n`;
}

export function variableTrackingTask(): ProbeTask {
  const task: ProbeTask = {
    name: 'vt',
    description: `RULER variable tracking: 1 chain of ${HOPS} hops in noise, one worked example`,
    metric: 'string_match_all',
    maxTokens: 30,
    sources: [],
    build(context, spec) {
      const random = new SeededRandom(spec.seed, 'vt', spec.length, spec.index);
      const example = workedExample(context, new SeededRandom(spec.seed, 'vt', spec.length, spec.index, 'example'));
      const chain = makeChain(random, 5);
      const fractions = chain.lines.map(() => random.next()).sort((a, b) => a - b);
      const [templateBefore, after] = fill(TEMPLATE, chain).split('{context}') as [string, string];
      const before = `${example}\n${templateBefore}`;
      const prefix = fill(ANSWER_PREFIX, chain);
      const blockTokens = context.counter.countText(`\n${NOISE_BLOCK}`);
      const build = (blocks: number) => {
        const haystack = chainInNoise(blocks, chain, fractions);
        return userPrompt(before, haystack.text, after, prefix, chain.names,
          chain.lines.map((line, j) => ({ text: line, requestedDepth: fractions[j]!, offsetInContext: haystack.lineOffsets[j]! })));
      };
      return fitInstance(task, context, spec, {
        minUnits: 0, maxUnits: spec.length, estimateContext: (blocks) => blocks * blockTokens, build,
      });
    },
  };
  return task;
}
