/**
 * The needle test of Fu et al. 2024 (FranxYao/Long-Context-Data-Engineering, eval/needle): their needle about
 * San Francisco at 10 depths (0-100%) of a haystack, put at a sentence boundary at that token depth, the
 * "long story book" prompt, and ROUGE-1 against the needle. Our haystack is generated prose, not their essays.
 */
import { CumulativeCounts } from '../fit';
import { EssaySentences, ESSAY_SOURCE } from '../haystacks';
import { SeededRandom } from '../random';
import { fitInstance, joinWithOffsets, TEN_DEPTHS, userPrompt, type ProbeTask } from './common';

export const FU_NEEDLE = 'The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.';
const QUESTION = 'What is the best thing to do in San Francisco?';
const BEFORE = 'This is a very long story book: <book> ';
const AFTER = ` </book>.\nBased on the content of the book, Question: ${QUESTION}`;

/** The sentence index at which `depth` (0-1) of the haystack's tokens lie before it. */
export function sentenceBoundaryAtDepth(counts: CumulativeCounts, sentences: number, depth: number): number {
  if (depth >= 1) return sentences;
  return counts.unitsWithin(Math.floor(counts.tokens(sentences) * depth), sentences);
}

export function needleHeatmapTask(): ProbeTask {
  const task: ProbeTask = {
    name: 'needle_heatmap',
    description: 'Fu et al. needle in a haystack: one needle at 10 depths per length (depth x length grid)',
    metric: 'rouge1_f',
    maxTokens: 50,
    sources: [ESSAY_SOURCE],
    depthPercents: [...TEN_DEPTHS],
    build(context, spec) {
      const depth = (spec.depthPercent ?? 50) / 100;
      const essay = new EssaySentences(new SeededRandom(spec.seed, 'needle_heatmap', spec.length, spec.index, 'haystack'));
      const counts = new CumulativeCounts((i) => context.counter.countText(` ${essay.at(i)}`));
      const build = (units: number) => {
        const at = sentenceBoundaryAtDepth(counts, units, depth);
        const parts = Array.from({ length: units }, (_, i) => essay.at(i));
        parts.splice(at, 0, FU_NEEDLE);
        const joined = joinWithOffsets(parts, ' ');
        return userPrompt(BEFORE, joined.text, AFTER, 'Answer:', [FU_NEEDLE],
          [{ text: FU_NEEDLE, requestedDepth: depth, offsetInContext: joined.offsets[at]! }]);
      };
      return fitInstance(task, context, spec, {
        minUnits: 0, maxUnits: spec.length, estimateContext: (units) => counts.tokens(units), build,
      });
    },
  };
  return task;
}
