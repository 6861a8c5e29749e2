/**
 * RULER's common words extraction (scripts/data/synthetic/common_words_extraction.py): a numbered list where
 * 10 words appear 30 times and the others 3 times, after one worked example (40 words: 10 x 10, 30 x 3);
 * the answer is the 10 common words. Below 4K tokens RULER uses 6/1 repeats and a 20-word example.
 * The worked example is a previous user/assistant turn (RULER concatenates a templated turn for it).
 */
import type { ChatMessage } from '../../backends/types';
import { SeededRandom } from '../random';
import { commonWords, manyEnglishWords } from '../words';
import { fitInstance, type BuiltPrompt, type ProbeTask, type TaskContext } from './common';

const TEMPLATE = 'Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?';
const ANSWER_PREFIX = ' Answer: The top 10 words that appear most often in the list are:';
const COMMON_COUNT = 10;

interface Repeats { common: number; uncommon: number }

function wordPool(count: number): readonly string[] {
  return count <= commonWords().length ? commonWords() : manyEnglishWords();
}

function numbered(words: readonly string[]): string {
  return words.map((word, i) => `${i + 1}. ${word}`).join(' ');
}

/** Distinct words drawn in a fixed order, so n + 1 words are the n words plus one (sizing stays smooth). */
class WordDraw {
  private readonly drawn = new Map<readonly string[], string[]>();
  private readonly seen = new Map<readonly string[], Set<number>>();

  constructor(private readonly random: SeededRandom) {}

  first(pool: readonly string[], count: number): string[] {
    let drawn = this.drawn.get(pool);
    let seen = this.seen.get(pool);
    if (!drawn || !seen) { this.drawn.set(pool, drawn = []); this.seen.set(pool, seen = new Set()); }
    while (drawn.length < count) {
      const index = this.random.int(0, pool.length - 1);
      if (!seen.has(index)) { seen.add(index); drawn.push(pool[index]!); }
    }
    return drawn.slice(0, count);
  }
}

function wordList(draw: WordDraw, random: SeededRandom, count: number, repeats: Repeats): { list: string[]; common: string[] } {
  const chosen = draw.first(wordPool(count), count);
  const common = chosen.slice(0, COMMON_COUNT);
  const uncommon = chosen.slice(COMMON_COUNT);
  const list: string[] = [];
  for (let r = 0; r < repeats.common; r++) list.push(...common);
  for (let r = 0; r < repeats.uncommon; r++) list.push(...uncommon);
  return { list: random.shuffled(list), common };
}

/** Mean tokens of " word" over a sample of the pool, for the estimate. */
function meanWordTokens(context: TaskContext, pool: readonly string[]): number {
  const random = new SeededRandom('mean-word-tokens', pool.length);
  const sample = random.sampleIndexes(pool.length, Math.min(300, pool.length)).map((i) => pool[i]!);
  return sample.reduce((sum, word) => sum + context.counter.countText(` ${word}`), 0) / sample.length;
}

export function commonWordsTask(): ProbeTask {
  const task: ProbeTask = {
    name: 'cwe',
    description: 'RULER common words extraction: the 10 words repeated 30 times among words repeated 3 times',
    metric: 'word_match_all',
    maxTokens: 120,
    sources: ['word lists: our own common words; an-array-of-english-words (MIT) for long lists'],
    build(context, spec) {
      const short = spec.length < 4096;
      const exampleRepeats: Repeats = short ? { common: 3, uncommon: 1 } : { common: 10, uncommon: 3 };
      const mainRepeats: Repeats = short ? { common: 6, uncommon: 1 } : { common: 30, uncommon: 3 };
      const exampleRandom = new SeededRandom(spec.seed, 'cwe', spec.length, spec.index, 'example');
      const example = wordList(new WordDraw(exampleRandom), exampleRandom, short ? 20 : 40, exampleRepeats);
      const mainDraw = new WordDraw(new SeededRandom(spec.seed, 'cwe', spec.length, spec.index, 'words'));
      const [before, after] = TEMPLATE.split('{context}') as [string, string];
      const exampleTurns: ChatMessage[] = [
        { role: 'user', content: before + numbered(example.list) + after },
        { role: 'assistant', content: `${ANSWER_PREFIX.trim()} ${numbered(example.common)}` },
      ];
      const build = (words: number): BuiltPrompt => {
        const main = wordList(mainDraw, new SeededRandom(spec.seed, 'cwe', spec.length, spec.index, 'order', words), words, mainRepeats);
        const contextText = numbered(main.list);
        return {
          messages: [...exampleTurns, { role: 'user', content: before + contextText + after }],
          assistantPrefix: ANSWER_PREFIX,
          answers: main.common,
          context: { message: 2, start: before.length, end: before.length + contextText.length },
          needles: [],
        };
      };
      const numberTokens = new Map<number, number>();
      const entryNumberTokens = (digits: number) => {
        let tokens = numberTokens.get(digits);
        if (tokens === undefined) numberTokens.set(digits, tokens = context.counter.countText(` ${'5'.repeat(digits)}.`));
        return tokens;
      };
      const wordTokens = new Map<readonly string[], number>();
      const estimateContext = (words: number) => {
        const entries = COMMON_COUNT * mainRepeats.common + (words - COMMON_COUNT) * mainRepeats.uncommon;
        const pool = wordPool(words);
        let perWord = wordTokens.get(pool);
        if (perWord === undefined) wordTokens.set(pool, perWord = meanWordTokens(context, pool));
        let tokens = entries * perWord;
        for (let digits = 1, start = 1; start <= entries; digits++, start *= 10) {
          tokens += (Math.min(entries, start * 10 - 1) - start + 1) * entryNumberTokens(digits);
        }
        return Math.round(tokens);
      };
      return fitInstance(task, context, spec, {
        minUnits: COMMON_COUNT, maxUnits: manyEnglishWords().length, estimateContext, build,
      });
    },
  };
  return task;
}
