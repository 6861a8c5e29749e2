/**
 * RULER's frequent words extraction (scripts/data/synthetic/freq_words_extraction.py): 6-letter coded words
 * drawn with Zipf counts (alpha 2), the most frequent one replaced by '...' as noise; the answer is the next
 * three. Vocabulary size is (length - output budget) / 50, as in RULER.
 */
import { SeededRandom } from '../random';
import { fitInstance, type BuiltPrompt, type ProbeTask } from './common';
import { userPrompt } from './common';

const TEMPLATE = "Read the following coded text and track the frequency of each coded word. Find the three most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?";
const ANSWER_PREFIX = ' Answer: According to the coded text above, the three most frequently appeared words are:';
const ALPHA = 2;
const ZETA_OF_ALPHA = Math.PI ** 2 / 6;
const WORD_LENGTH = 6;

/** Count of the word of rank k (0-based) among `words` Zipf-distributed words. */
function zipfCounts(words: number, vocabularySize: number): number[] {
  return Array.from({ length: vocabularySize }, (_, k) => Math.floor((words * (k + 1) ** -ALPHA) / ZETA_OF_ALPHA));
}

export function frequentWordsTask(): ProbeTask {
  const task: ProbeTask = {
    name: 'fwe',
    description: 'RULER frequent words extraction: the three most frequent coded words (Zipf, alpha 2)',
    metric: 'word_match_all',
    maxTokens: 50,
    sources: [],
    build(context, spec) {
      const random = new SeededRandom(spec.seed, 'fwe', spec.length, spec.index);
      const vocabularySize = Math.max(10, Math.floor((spec.length - task.maxTokens) / 50));
      const unique = new Set<string>();
      while (unique.size < vocabularySize) unique.add(random.letters(WORD_LENGTH, 'abcdefghijklmnopqrstuvwxyz'));
      const vocabulary = random.shuffled([...unique].sort());
      vocabulary[0] = '...';
      const answers = vocabulary.slice(1, 4);
      const [before, after] = TEMPLATE.split('{context}') as [string, string];
      const wordTokens = vocabulary.map((word) => context.counter.countText(` ${word}`));
      const build = (words: number): BuiltPrompt => {
        const counts = zipfCounts(words, vocabularySize);
        const list: string[] = [];
        counts.forEach((count, k) => { for (let i = 0; i < count; i++) list.push(vocabulary[k]!); });
        const shuffled = new SeededRandom(spec.seed, 'fwe', spec.length, spec.index, words).shuffled(list);
        return userPrompt(before, shuffled.join(' '), after, ANSWER_PREFIX, answers, []);
      };
      const estimateContext = (words: number) =>
        zipfCounts(words, vocabularySize).reduce((sum, count, k) => sum + count * wordTokens[k]!, 0);
      return fitInstance(task, context, spec, { minUnits: 0, maxUnits: spec.length * 2, estimateContext, build });
    },
  };
  return task;
}
